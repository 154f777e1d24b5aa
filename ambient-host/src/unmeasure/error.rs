//! Errors of the classical repairs.

use ambient_core::measure::MeasurementKind;
use ambient_core::Shape;

/// An error of repairing a batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnmeasureError {
    /// The image shape has a zero extent or too many values.
    #[error(
        "invalid image shape {}×{}×{}: every extent must be at least 1 and the size must fit \
         in memory",
        .shape.channels, .shape.height, .shape.width
    )]
    InvalidShape {
        /// The shape given.
        shape: Shape,
    },
    /// A buffer is not a whole number of images.
    #[error(
        "{what} holds {found} values, which is not a whole number of {image_len}-value images"
    )]
    BatchLength {
        /// The buffer (`"measurements"`, `"theta"`).
        what: &'static str,
        /// Its length.
        found: usize,
        /// The number of values in one image.
        image_len: usize,
    },
    /// θ does not match the measurements value for value.
    #[error("theta holds {found} values, but the measurements hold {expected}")]
    ThetaLength {
        /// The length of the measurements.
        expected: usize,
        /// The length of θ.
        found: usize,
    },
    /// The repair does not apply to this kind of measurement.
    #[error(
        "the {repair} repair does not apply to {} measurements; it needs {needs}",
        .kind.name()
    )]
    Unsupported {
        /// The repair's command-line name.
        repair: &'static str,
        /// The measurement kind given.
        kind: MeasurementKind,
        /// The kinds it applies to, in words.
        needs: &'static str,
    },
    /// A numeric parameter is out of its range.
    #[error("invalid {name} {value}: {expected}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// libtorch failed while moving a batch to or from a tensor.
    #[error("libtorch error while repairing a batch: {0}")]
    Torch(#[from] tch::TchError),
    /// The blur or Wiener kernel could not be built.
    #[error("cannot build the kernel: {0}")]
    Kernel(#[from] ambient_core::measure::MeasureError),
}
