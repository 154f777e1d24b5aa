//! Errors of measurement construction and application.

use core::fmt;

/// Why a measurement could not be built or applied.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum MeasureError {
    /// A probability outside `[0, 1)` (or not finite).
    InvalidProbability {
        /// The probability given.
        value: f32,
    },
    /// A real parameter that must be finite and at least 0 (a noise std) was not.
    InvalidReal {
        /// Parameter name, as on the command line.
        name: &'static str,
        /// The value given.
        value: f32,
    },
    /// A real parameter that must be finite and greater than 0 (a blur σ) was not.
    NotPositive {
        /// Parameter name, as on the command line.
        name: &'static str,
        /// The value given.
        value: f32,
    },
    /// A patch side of zero or larger than the image.
    InvalidPatch {
        /// The patch side given.
        patch: usize,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// A blur kernel size that is zero, even, or above
    /// [`MAX_KERNEL_SIZE`](crate::measure::MAX_KERNEL_SIZE).
    InvalidKernelSize {
        /// The size given.
        size: usize,
    },
    /// A count that must be at least 1 (angles, projections) was 0.
    ZeroCount {
        /// Parameter name, as on the command line.
        name: &'static str,
    },
    /// An image shape with a zero extent, or one whose sizes overflow.
    InvalidShape {
        /// Channels.
        channels: usize,
        /// Height.
        height: usize,
        /// Width.
        width: usize,
    },
    /// A size derived from the parameters (a padded image, an output or θ length) does not
    /// fit in `usize` or in the `i32` indices of the host's gathers.
    SizeOverflow {
        /// The size that overflowed (`"padded image"`, `"y"`, `"theta"`, ...).
        what: &'static str,
    },
    /// A caller slice of the wrong length.
    LengthMismatch {
        /// Which slice (`"x"`, `"y"`, `"theta"`, ...).
        what: &'static str,
        /// The length the operator needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A measurement name that is not one of [`crate::measure::MeasurementKind`]'s.
    UnknownMeasurement,
    /// A parameter key that no measurement takes.
    UnknownParameter,
    /// A parameter value that does not parse for its key.
    InvalidParameterValue {
        /// Parameter name.
        name: &'static str,
    },
    /// The measurement kind is known but not available in this build.
    Unsupported,
}

impl fmt::Display for MeasureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidProbability { value } => {
                write!(f, "probability p = {value} is outside [0, 1)")
            }
            Self::InvalidReal { name, value } => {
                write!(
                    f,
                    "parameter {name} = {value} must be finite and not negative"
                )
            }
            Self::NotPositive { name, value } => {
                write!(
                    f,
                    "parameter {name} = {value} must be finite and greater than 0"
                )
            }
            Self::InvalidPatch {
                patch,
                height,
                width,
            } => write!(
                f,
                "patch size {patch} must be at least 1 and fit the {height}x{width} image"
            ),
            Self::InvalidKernelSize { size } => {
                let max = crate::measure::MAX_KERNEL_SIZE;
                write!(
                    f,
                    "blur kernel size {size} must be odd and between 1 and {max}"
                )
            }
            Self::ZeroCount { name } => write!(f, "parameter {name} must be at least 1"),
            Self::InvalidShape {
                channels,
                height,
                width,
            } => write!(f, "invalid image shape [{channels}, {height}, {width}]"),
            Self::SizeOverflow { what } => {
                write!(
                    f,
                    "the {what} size overflows; use a smaller image or parameter"
                )
            }
            Self::LengthMismatch {
                what,
                expected,
                actual,
            } => write!(f, "slice {what} has length {actual}, expected {expected}"),
            Self::UnknownMeasurement => write!(f, "unknown measurement name"),
            Self::UnknownParameter => write!(f, "unknown measurement parameter"),
            Self::InvalidParameterValue { name } => {
                write!(f, "invalid value for measurement parameter {name}")
            }
            Self::Unsupported => write!(f, "measurement not supported in this build"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MeasureError {}

/// Checks that `slice_len` equals `expected`, naming the slice in the error.
pub(crate) fn check_len(
    what: &'static str,
    expected: usize,
    slice_len: usize,
) -> Result<(), MeasureError> {
    if expected == slice_len {
        Ok(())
    } else {
        Err(MeasureError::LengthMismatch {
            what,
            expected,
            actual: slice_len,
        })
    }
}

/// Returns the number of values in `shape`, or an error when it is empty or overflows.
pub(crate) fn checked_image_len(shape: crate::Shape) -> Result<usize, MeasureError> {
    let invalid = MeasureError::InvalidShape {
        channels: shape.channels,
        height: shape.height,
        width: shape.width,
    };
    if shape.is_empty() {
        return Err(invalid);
    }
    // Keep every length addressable with i32 indices too, as the host's gathers need.
    match shape.checked_len() {
        Some(n) if n <= i32::MAX as usize => Ok(n),
        _ => Err(invalid),
    }
}

/// Validates a drop probability.
pub(crate) fn check_probability(p: f32) -> Result<(), MeasureError> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(MeasureError::InvalidProbability { value: p })
    }
}

/// Returns a size computed with checked arithmetic (`None` when it overflowed), provided that
/// every index into it also fits in `i32`, as the host's gathers need.
pub(crate) fn checked_size(what: &'static str, size: Option<usize>) -> Result<usize, MeasureError> {
    match size {
        Some(n) if n <= i32::MAX as usize => Ok(n),
        _ => Err(MeasureError::SizeOverflow { what }),
    }
}
