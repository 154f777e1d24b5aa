//! Errors of building a model.

/// An error building a model for the data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The 28×28 models produce 28×28 images only.
    #[error(
        "the 28×28 models produce 28×28 images with 1 to 4 channels; the data has \
         [C, H, W] = {shape:?} (dcgan64 takes 64×64; --image-size resizes)"
    )]
    ImageShape {
        /// The data's image shape `[C, H, W]`.
        shape: [usize; 3],
    },
    /// The model produces images of another size.
    #[error(
        "model {model} produces {side}×{side} images with 1 to 4 channels; the data has \
         [C, H, W] = {shape:?}"
    )]
    ModelShape {
        /// The model's command-line name.
        model: &'static str,
        /// The side of the model's images.
        side: usize,
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
    /// Batch normalisation was requested for a discriminator that has none.
    #[error(
        "the {discriminator} discriminator has no batch normalisation; only the fully \
         connected, conditional and 64×64 DCGAN discriminators have it"
    )]
    NoBatchNorm {
        /// The discriminator's name.
        discriminator: &'static str,
    },
    /// A critic width of 0 or less, or one given to a discriminator without the option.
    #[error(
        "a critic width must be at least 1 and is only for the wgan-conv critic (the paper \
         preset's); got {width}"
    )]
    Width {
        /// The requested width.
        width: i64,
    },
}
