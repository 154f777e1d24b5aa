//! Tests of the record format: round trips, pinned bytes and corrupt streams.

mod corruption;
mod golden;
mod round_trip;
mod support;
