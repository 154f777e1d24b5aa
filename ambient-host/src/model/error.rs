//! Errors of building a model.

/// An error building a model for the data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The generators produce 28×28 images only.
    #[error(
        "the generators produce 28×28 images with 1 to 4 channels; the data has \
         [C, H, W] = {shape:?}"
    )]
    ImageShape {
        /// The data's image shape `[C, H, W]`.
        shape: [usize; 3],
    },
    /// The discriminator cannot take input of this shape.
    #[error("a discriminator cannot take input of shape {shape:?}: {reason}")]
    InputShape {
        /// The input shape, without the batch dimension.
        shape: Vec<i64>,
        /// The condition the shape fails.
        reason: &'static str,
    },
}
