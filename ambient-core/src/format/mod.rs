//! The weight format (`.amb`): a generator's architecture and tensors in one little-endian
//! file, read zero-copy from `&[u8]`.
//!
//! `docs/weight-format.md` specifies the bytes. In short: a 64-byte header (magic `AMBW`,
//! major and minor version, file length, compute mode, value range, latent size, classes,
//! output shape, input quantisation), a table of 80-byte layer records, a table of 32-byte
//! tensor records, the tensor data (each tensor at a 16-byte-aligned offset), and a CRC-32
//! of every byte before it as the last four bytes.
//!
//! [`crate::nn::Model::parse`] reads a file; with the `writer` feature, the `writer` module makes
//! one, and with `writer` and `alloc`, the `quantize` module turns a float model into an int8
//! one.

mod error;
mod f16;
mod layer;
#[cfg(any(all(feature = "writer", feature = "alloc"), test))]
pub mod quantize;
pub(crate) mod reader;
mod tensor;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "writer", test))]
pub mod writer;

pub use crate::crc32::crc32;
pub use error::FormatError;
pub use f16::{f16_to_f32, f32_to_f16};
pub use layer::{ConvParams, Op};
pub use tensor::{DType, Tensor};

pub(crate) use layer::{infer_output_shape, tensor_signature, OpKind};

/// The four magic bytes at the start of every weight file.
pub const MAGIC: [u8; 4] = *b"AMBW";
/// The major version this crate writes and the newest it reads.
pub const VERSION_MAJOR: u16 = 1;
/// The minor version this crate writes. Readers accept any minor version of a major they
/// know: a minor version gives meaning to bytes that older readers ignore, or adds a form
/// (a tensor layout, a 16-bit latent) that older readers reject by their existing checks.
pub const VERSION_MINOR: u16 = 1;
/// Bytes in the header.
pub const HEADER_LEN: usize = 64;
/// Bytes in one layer record.
pub const LAYER_RECORD_LEN: usize = 80;
/// Bytes in one tensor record.
pub const TENSOR_RECORD_LEN: usize = 32;
/// Alignment, in bytes, of every tensor's data relative to the start of the file.
pub const TENSOR_ALIGN: usize = 16;
/// The maximum number of layers in one model.
pub const MAX_LAYERS: usize = 64;
/// The maximum number of tensors in one model (four per layer).
pub const MAX_TENSORS: usize = 4 * MAX_LAYERS;
/// Tensor slots per layer record.
pub const TENSORS_PER_LAYER: usize = 4;
/// The tensor index that marks an unused tensor slot of a layer record.
pub const NO_TENSOR: u16 = 0xFFFF;

/// The arithmetic of a model: floating point, or the int8 integer path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compute {
    /// f32 arithmetic; weights stored as f32 or f16.
    Float,
    /// int8 activations and weights, i32 accumulation (the TensorFlow Lite convention).
    Int8,
}

impl Compute {
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Float),
            1 => Some(Self::Int8),
            _ => None,
        }
    }

    #[cfg(any(feature = "writer", test))]
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Float => 0,
            Self::Int8 => 1,
        }
    }
}

/// The range of the generator's output values, recorded so that consumers know how to map
/// them to pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueRange {
    /// No bounded activation at the end.
    Unbounded,
    /// `[0, 1]`, after a sigmoid (MNIST).
    ZeroOne,
    /// `[-1, 1]`, after a tanh (colour data sets).
    MinusOneOne,
}

impl ValueRange {
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Unbounded),
            1 => Some(Self::ZeroOne),
            2 => Some(Self::MinusOneOne),
            _ => None,
        }
    }

    #[cfg(any(feature = "writer", test))]
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Unbounded => 0,
            Self::ZeroOne => 1,
            Self::MinusOneOne => 2,
        }
    }
}

/// The scale and zero point of an int8 tensor: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantParams {
    /// The real value of one quantisation step; finite and above 0.
    pub scale: f32,
    /// The quantised value that stands for real 0, in `[-128, 127]`.
    pub zero_point: i32,
}

impl QuantParams {
    /// The parameters of a float model's tensors, which carry no quantisation.
    pub const NONE: Self = Self {
        scale: 0.0,
        zero_point: 0,
    };

    /// Returns whether the parameters are usable for int8: a finite scale above 0 and a
    /// zero point in `[-128, 127]`.
    pub fn is_valid(&self) -> bool {
        self.scale.is_finite() && self.scale > 0.0 && (-128..=127).contains(&self.zero_point)
    }
}

/// Reads a little-endian `u16` at `at`; the caller has checked the bounds.
pub(crate) fn read_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// Reads a little-endian `u32` at `at`; the caller has checked the bounds.
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads a little-endian `i32` at `at`; the caller has checked the bounds.
pub(crate) fn read_i32(bytes: &[u8], at: usize) -> i32 {
    read_u32(bytes, at) as i32
}

/// Reads a little-endian `f32` at `at`; the caller has checked the bounds.
pub(crate) fn read_f32(bytes: &[u8], at: usize) -> f32 {
    f32::from_bits(read_u32(bytes, at))
}
