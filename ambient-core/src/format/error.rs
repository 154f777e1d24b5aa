//! Errors of weight-file parsing and writing.

use core::fmt;

use crate::Shape;

/// Why a weight file was rejected (or, for the writer, could not be made).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes end before a structure that must be there.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        actual: usize,
    },
    /// The file does not start with the magic bytes `AMBW`.
    BadMagic,
    /// The file's major version is newer than this reader's.
    UnsupportedVersion {
        /// Major version in the file.
        major: u16,
        /// Minor version in the file.
        minor: u16,
    },
    /// The length in the header is not the length of the bytes.
    LengthMismatch {
        /// Length stored in the header.
        declared: usize,
        /// Length of the bytes.
        actual: usize,
    },
    /// The stored CRC-32 does not match the bytes.
    CrcMismatch {
        /// CRC-32 stored in the file.
        stored: u32,
        /// CRC-32 of the bytes.
        computed: u32,
    },
    /// A header field holds an invalid value.
    InvalidHeader {
        /// The field.
        field: &'static str,
    },
    /// More layers than [`super::MAX_LAYERS`], or none.
    LayerCount {
        /// Layers in the file.
        count: usize,
    },
    /// More tensors than [`super::MAX_TENSORS`].
    TensorCount {
        /// Tensors in the file.
        count: usize,
    },
    /// A layer record with an unknown operation code.
    UnknownOp {
        /// Layer index.
        layer: usize,
        /// The code found.
        code: u8,
    },
    /// A layer parameter is invalid for its input.
    InvalidLayer {
        /// Layer index.
        layer: usize,
        /// The parameter or rule broken.
        reason: &'static str,
    },
    /// A size computed from the file overflows or exceeds 2^31 - 1 elements.
    SizeOverflow {
        /// Layer index, or the number of layers for the model input and output.
        layer: usize,
    },
    /// A layer reads a value that does not exist yet (value 0 is the latent input, value
    /// `k + 1` the output of layer `k`).
    InvalidSource {
        /// Layer index.
        layer: usize,
        /// The value index found.
        value: usize,
    },
    /// A stored shape is not the one the chain of layers produces.
    ShapeMismatch {
        /// Layer index, or the number of layers for the model output.
        layer: usize,
        /// The shape the chain produces.
        expected: Shape,
        /// The shape stored in the file.
        found: Shape,
    },
    /// A tensor record is invalid: unknown dtype, bad rank, misaligned, out of bounds,
    /// overlapping another tensor or of the wrong length.
    InvalidTensor {
        /// Tensor index.
        tensor: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// A layer's tensor slot is missing, surplus, or holds a tensor of the wrong dtype or
    /// shape.
    TensorMismatch {
        /// Layer index.
        layer: usize,
        /// The tensor's role (`"weight"`, `"bias"`, ...).
        role: &'static str,
    },
    /// An int8 layer's quantisation parameters are invalid.
    InvalidQuantisation {
        /// Layer index, or the number of layers for the model input.
        layer: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// The writer's output buffer is too small.
    BufferTooSmall {
        /// Bytes the file needs.
        needed: usize,
        /// Bytes available.
        actual: usize,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { needed, actual } => {
                write!(
                    f,
                    "weight file truncated: {actual} bytes, at least {needed} needed"
                )
            }
            Self::BadMagic => write!(f, "not a weight file: the magic bytes are not AMBW"),
            Self::UnsupportedVersion { major, minor } => write!(
                f,
                "weight file version {major}.{minor} is newer than the supported {}.x",
                super::VERSION_MAJOR
            ),
            Self::LengthMismatch { declared, actual } => write!(
                f,
                "weight file header declares {declared} bytes but the file has {actual}"
            ),
            Self::CrcMismatch { stored, computed } => write!(
                f,
                "weight file corrupt: CRC-32 is {computed:#010x}, the file stores {stored:#010x}"
            ),
            Self::InvalidHeader { field } => write!(f, "invalid weight file header field {field}"),
            Self::LayerCount { count } => write!(
                f,
                "weight file has {count} layers; 1 to {} are supported",
                super::MAX_LAYERS
            ),
            Self::TensorCount { count } => write!(
                f,
                "weight file has {count} tensors; at most {} are supported",
                super::MAX_TENSORS
            ),
            Self::UnknownOp { layer, code } => write!(f, "layer {layer}: unknown operation {code}"),
            Self::InvalidLayer { layer, reason } => write!(f, "layer {layer}: invalid {reason}"),
            Self::SizeOverflow { layer } => {
                write!(
                    f,
                    "layer {layer}: size overflows or exceeds 2^31 - 1 elements"
                )
            }
            Self::InvalidSource { layer, value } => {
                write!(
                    f,
                    "layer {layer}: reads value {value}, which is not computed before it"
                )
            }
            Self::ShapeMismatch {
                layer,
                expected,
                found,
            } => write!(
                f,
                "layer {layer}: stored shape [{}, {}, {}] does not match the computed [{}, {}, {}]",
                found.channels,
                found.height,
                found.width,
                expected.channels,
                expected.height,
                expected.width
            ),
            Self::InvalidTensor { tensor, reason } => write!(f, "tensor {tensor}: {reason}"),
            Self::TensorMismatch { layer, role } => {
                write!(
                    f,
                    "layer {layer}: {role} tensor missing or of the wrong dtype or shape"
                )
            }
            Self::InvalidQuantisation { layer, reason } => {
                write!(f, "layer {layer}: invalid quantisation: {reason}")
            }
            Self::BufferTooSmall { needed, actual } => {
                write!(
                    f,
                    "output buffer holds {actual} bytes, the weight file needs {needed}"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FormatError {}
