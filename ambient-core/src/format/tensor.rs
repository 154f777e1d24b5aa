//! Tensor records: a dtype, a shape and a borrowed, little-endian byte slice.

use super::{f16_to_f32, read_f32, read_i32};

/// The element type of a stored tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary16, widened to f32 when read.
    F16,
    /// Signed 8-bit integers.
    I8,
    /// Signed 32-bit integers.
    I32,
}

impl DType {
    /// Returns the size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            Self::F32 | Self::I32 => 4,
            Self::F16 => 2,
            Self::I8 => 1,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::F32),
            2 => Some(Self::F16),
            3 => Some(Self::I8),
            4 => Some(Self::I32),
            _ => None,
        }
    }

    #[cfg(any(feature = "writer", test))]
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::F32 => 1,
            Self::F16 => 2,
            Self::I8 => 3,
            Self::I32 => 4,
        }
    }
}

/// A tensor of a parsed model: its dtype, its shape (unused trailing dimensions are 1) and
/// its bytes, borrowed from the weight file. The bytes may sit at any address; reads go
/// through `from_le_bytes`, or through a typed slice when the address allows one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tensor<'a> {
    /// Element type.
    pub dtype: DType,
    /// Number of meaningful dimensions, 1 to 4.
    pub rank: usize,
    /// Extents, outermost first.
    pub dims: [usize; 4],
    /// The little-endian elements, exactly `len() * dtype.size()` bytes.
    pub bytes: &'a [u8],
}

impl<'a> Tensor<'a> {
    /// Returns the number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.dtype.size()
    }

    /// Returns whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Returns element `i` widened to f32 (f32 and f16 tensors); `i < len()`.
    #[inline]
    pub fn f32_at(&self, i: usize) -> f32 {
        match self.dtype {
            DType::F16 => f16_to_f32(u16::from_le_bytes([
                self.bytes[2 * i],
                self.bytes[2 * i + 1],
            ])),
            DType::I8 => self.bytes[i] as i8 as f32,
            DType::I32 => read_i32(self.bytes, 4 * i) as f32,
            DType::F32 => read_f32(self.bytes, 4 * i),
        }
    }

    /// Returns element `i` of an i32 tensor; `i < len()`.
    #[inline]
    pub fn i32_at(&self, i: usize) -> i32 {
        read_i32(self.bytes, 4 * i)
    }

    /// Returns the elements of an f32 tensor as a slice when the bytes are 4-byte aligned and
    /// the target is little-endian, the fast path; `None` otherwise.
    pub fn as_f32_slice(&self) -> Option<&'a [f32]> {
        if self.dtype != DType::F32 || cfg!(target_endian = "big") {
            return None;
        }
        let ptr = self.bytes.as_ptr();
        if ptr.align_offset(core::mem::align_of::<f32>()) != 0 {
            return None;
        }
        // SAFETY: the pointer is aligned for f32, the byte length is a multiple of 4 (the
        // parser checks it), every bit pattern is a valid f32, the target is little-endian
        // so the stored bytes are the f32 values, and the lifetime is that of the bytes.
        Some(unsafe { core::slice::from_raw_parts(ptr.cast::<f32>(), self.bytes.len() / 4) })
    }

    /// Returns the elements of an i8 tensor as a slice.
    pub fn as_i8_slice(&self) -> &'a [i8] {
        // SAFETY: i8 and u8 have the same size and alignment and every bit pattern is valid.
        unsafe { core::slice::from_raw_parts(self.bytes.as_ptr().cast::<i8>(), self.bytes.len()) }
    }
}
