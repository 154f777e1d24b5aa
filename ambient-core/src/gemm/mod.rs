//! f32 matrix multiplication `C = A · B` for the lowered layers.
//!
//! `A` is always a stored weight tensor (f32 at any alignment, or f16), `B` and `C` are f32
//! slices in caller scratch; every operand has a row and a column stride, so transposed
//! views need no copies. Two routes compute it:
//!
//! - [`GemmRoute::Blocked`]: the crate's own cache-blocked kernel, which packs panels of
//!   `A` and `B` into a caller buffer sized by the model's scratch plan and never
//!   allocates. Packing reads the weights through `from_le_bytes` or the f16 conversion, so
//!   any weight alignment and dtype works.
//! - `GemmRoute::MatrixMultiply` (feature `alloc`): `matrixmultiply::sgemm`, which
//!   allocates its own packing buffers. It needs `A` as an aligned f32 slice; f16 or
//!   misaligned weights take the blocked route.

pub(crate) mod blocked;

use crate::format::{DType, Tensor};

pub(crate) use blocked::pack_len;

/// Which f32 GEMM a model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GemmRoute {
    /// The crate's blocked kernel, packing into caller scratch (no allocation).
    Blocked,
    /// `matrixmultiply::sgemm` (allocates its packing buffers).
    #[cfg(feature = "alloc")]
    MatrixMultiply,
}

impl Default for GemmRoute {
    /// `MatrixMultiply` where the `alloc` feature is on, else `Blocked`.
    fn default() -> Self {
        #[cfg(feature = "alloc")]
        return Self::MatrixMultiply;
        #[cfg(not(feature = "alloc"))]
        return Self::Blocked;
    }
}

/// A strided matrix view: element `(i, j)` is at `i * rows + j * cols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Strides {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
}

impl Strides {
    /// Row-major with `n` columns.
    pub(crate) const fn row_major(n: usize) -> Self {
        Self { rows: n, cols: 1 }
    }

    /// Column-major with `m` rows, that is the transpose of a row-major `[n, m]` matrix.
    pub(crate) const fn col_major(m: usize) -> Self {
        Self { rows: 1, cols: m }
    }

    /// Returns one past the largest index an `m × n` view touches (0 for an empty one).
    #[cfg(feature = "alloc")]
    fn extent(self, m: usize, n: usize) -> Option<usize> {
        if m == 0 || n == 0 {
            return Some(0);
        }
        (m - 1)
            .checked_mul(self.rows)?
            .checked_add((n - 1).checked_mul(self.cols)?)?
            .checked_add(1)
    }
}

/// Elementwise read access to a stored weight tensor, monomorphised per storage so the
/// packing loops stay tight.
pub(crate) trait WeightSource {
    /// Returns element `i` as f32.
    fn get(&self, i: usize) -> f32;

    /// Returns the weights as an f32 slice where they are stored as one (aligned f32), so
    /// that packing may copy runs of them instead of reading value by value.
    fn as_slice(&self) -> Option<&[f32]> {
        None
    }
}

impl WeightSource for &[f32] {
    #[inline(always)]
    fn get(&self, i: usize) -> f32 {
        self[i]
    }

    fn as_slice(&self) -> Option<&[f32]> {
        Some(self)
    }
}

/// f32 weights at an address not aligned for f32 (or on a big-endian target).
pub(crate) struct LeF32<'a>(pub(crate) &'a [u8]);

impl WeightSource for LeF32<'_> {
    #[inline(always)]
    fn get(&self, i: usize) -> f32 {
        let b = &self.0[4 * i..4 * i + 4];
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

/// f16 weights, widened exactly to f32.
pub(crate) struct LeF16<'a>(pub(crate) &'a [u8]);

impl WeightSource for LeF16<'_> {
    #[inline(always)]
    fn get(&self, i: usize) -> f32 {
        crate::format::f16_to_f32(u16::from_le_bytes([self.0[2 * i], self.0[2 * i + 1]]))
    }
}

/// The shapes and strides of one product `C[m × n] = A[m × k] · B[k × n]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
    pub(crate) m: usize,
    pub(crate) k: usize,
    pub(crate) n: usize,
    pub(crate) a: Strides,
    pub(crate) b: Strides,
    pub(crate) c: Strides,
}

/// Computes `C = A · B`, overwriting `C`, with `A` the weight tensor `a`. `pack` holds at
/// least [`pack_len`]`(m, k, n)` floats (unused by the `MatrixMultiply` route).
pub(crate) fn gemm(
    route: GemmRoute,
    d: Dims,
    a: &Tensor<'_>,
    b: &[f32],
    c: &mut [f32],
    pack: &mut [f32],
) {
    if let Some(slice) = a.as_f32_slice() {
        if route_matrixmultiply(route, d, slice, b, c) {
            return;
        }
        blocked::gemm(d, &slice, b, c, pack);
    } else if a.dtype == DType::F16 {
        blocked::gemm(d, &LeF16(a.bytes), b, c, pack);
    } else {
        blocked::gemm(d, &LeF32(a.bytes), b, c, pack);
    }
}

/// Runs the product through `matrixmultiply` when the route asks for it and the views fit
/// their slices; returns whether it did.
#[cfg(feature = "alloc")]
fn route_matrixmultiply(route: GemmRoute, d: Dims, a: &[f32], b: &[f32], c: &mut [f32]) -> bool {
    if route != GemmRoute::MatrixMultiply {
        return false;
    }
    let fits = |s: Strides, m: usize, n: usize, len: usize| {
        let small = s.rows <= isize::MAX as usize && s.cols <= isize::MAX as usize;
        small && s.extent(m, n).is_some_and(|e| e <= len)
    };
    if !(fits(d.a, d.m, d.k, a.len())
        && fits(d.b, d.k, d.n, b.len())
        && fits(d.c, d.m, d.n, c.len()))
    {
        return false;
    }
    if d.m == 0 || d.n == 0 {
        return true;
    }
    // SAFETY: the three views were checked to lie inside their slices, `c` is exclusively
    // borrowed and does not alias `a` or `b`, and every stride was checked to fit in isize.
    unsafe {
        matrixmultiply::sgemm(
            d.m,
            d.k,
            d.n,
            1.0,
            a.as_ptr(),
            d.a.rows as isize,
            d.a.cols as isize,
            b.as_ptr(),
            d.b.rows as isize,
            d.b.cols as isize,
            0.0,
            c.as_mut_ptr(),
            d.c.rows as isize,
            d.c.cols as isize,
        );
    }
    true
}

#[cfg(not(feature = "alloc"))]
fn route_matrixmultiply(_: GemmRoute, _: Dims, _: &[f32], _: &[f32], _: &mut [f32]) -> bool {
    false
}
