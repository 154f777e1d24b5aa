//! Properties every operator shares.
