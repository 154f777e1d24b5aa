//! Errors of exporting a generator and of reading an exported one.

use ambient_core::format::FormatError;
use ambient_core::nn::InferError;

use crate::train::TrainError;

/// An error of exporting a generator, checking the export, or running a weight file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The run folder or its checkpoint could not be loaded.
    #[error(transparent)]
    Run(#[from] TrainError),
    /// A variable the architecture needs is missing from the generator's variables.
    #[error(
        "the generator has no variable {name}; the checkpoint belongs to another architecture"
    )]
    MissingVariable {
        /// The variable's path (`gen.fc.weight`).
        name: String,
    },
    /// A layer of the graph cannot be lowered to the core's layers.
    #[error("layer {layer} cannot be exported: {reason}")]
    InvalidLayer {
        /// Index of the layer in the graph.
        layer: usize,
        /// The reason.
        reason: String,
    },
    /// The core's writer or reader rejected the model.
    #[error("invalid weight file: {0}")]
    Format(#[from] FormatError),
    /// The core could not run the model.
    #[error("the core could not run the model: {0}")]
    Infer(#[from] InferError),
    /// libtorch failed.
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
    /// The exported model's output differs from the tch model's by more than the dtype's
    /// bound.
    #[error(
        "the exported {dtype} model differs from the tch model by {max_abs:.3e} (largest \
         absolute error), above the bound {bound:.3e}; a model this far off is not exported"
    )]
    AboveBound {
        /// The weight dtype.
        dtype: &'static str,
        /// The largest absolute error found.
        max_abs: f32,
        /// The bound for the dtype.
        bound: f32,
    },
}

impl ExportError {
    /// Returns an [`ExportError::InvalidLayer`] for layer `layer`.
    pub(crate) fn layer(layer: usize, reason: impl Into<String>) -> Self {
        Self::InvalidLayer {
            layer,
            reason: reason.into(),
        }
    }
}
