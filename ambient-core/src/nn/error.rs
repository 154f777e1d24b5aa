//! Errors of running a generator.

use core::fmt;

/// Why [`super::Model::generate`] (or a scratch query) could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InferError {
    /// A caller slice of the wrong length.
    LengthMismatch {
        /// Which slice (`"z"`, `"out"`, `"labels"`, `"ranges"`).
        what: &'static str,
        /// The length the model needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// `z` is empty or not a whole number of latent vectors.
    InvalidLatentLength {
        /// Length of `z`.
        len: usize,
        /// The model's latent size.
        latent: usize,
    },
    /// A conditional model was given no labels.
    MissingLabels,
    /// An unconditional model was given labels.
    UnexpectedLabels,
    /// A label is not a class of the model.
    LabelOutOfRange {
        /// Position in the batch.
        index: usize,
        /// The label given.
        label: u32,
        /// The model's number of classes.
        classes: usize,
    },
    /// The scratch buffer is shorter than [`super::Model::scratch_len`].
    ScratchTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The scratch buffer does not start at a multiple of [`super::Model::scratch_align`].
    ScratchMisaligned {
        /// The alignment needed, in bytes.
        align: usize,
    },
    /// The batch is so large that the scratch size overflows `usize`.
    BatchTooLarge {
        /// The batch size.
        batch: usize,
    },
    /// The operation needs a float model (calibration), or an int8 one.
    WrongCompute,
}

impl fmt::Display for InferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::LengthMismatch {
                what,
                expected,
                actual,
            } => write!(f, "slice {what} has length {actual}, expected {expected}"),
            Self::InvalidLatentLength { len, latent } => write!(
                f,
                "z has {len} values, which is not a positive multiple of the latent size {latent}"
            ),
            Self::MissingLabels => write!(f, "the model is conditional: pass one label per image"),
            Self::UnexpectedLabels => write!(f, "the model is unconditional: pass no labels"),
            Self::LabelOutOfRange {
                index,
                label,
                classes,
            } => write!(
                f,
                "label {label} at index {index} is not below the {classes} classes"
            ),
            Self::ScratchTooSmall { needed, actual } => {
                write!(f, "scratch holds {actual} bytes, the model needs {needed}")
            }
            Self::ScratchMisaligned { align } => {
                write!(f, "scratch must start at a multiple of {align} bytes")
            }
            Self::BatchTooLarge { batch } => write!(f, "batch of {batch} is too large"),
            Self::WrongCompute => write!(f, "operation not available for this model's dtype"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InferError {}
