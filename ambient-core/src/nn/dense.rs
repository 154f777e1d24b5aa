//! Fully connected layer, f32: one GEMM over the whole batch.

use crate::format::{DType, Tensor};
use crate::gemm::{gemm, pack_len, Dims, GemmRoute, LeF16, LeF32, Strides, WeightSource};

/// Batches smaller than this run as matrix-vector products over the stored weight rows: a
/// GEMM would pad the batch to its tile width and pack the whole weight matrix for a
/// handful of columns.
const GEMV_BELOW: usize = 4;

/// Lanes of [`dot_by`]'s independent partial sums (one SIMD register of f32 on AVX).
const LANES: usize = 8;

/// `y[b] = W x[b] + bias`, one dot product per weight row, for every storage of `W`, so
/// that aligned, unaligned and f16 weights give the same sums.
fn gemv<S: WeightSource>(
    w: &S,
    bias: &Tensor<'_>,
    in_len: usize,
    out_len: usize,
    x: &[f32],
    y: &mut [f32],
) {
    for (xb, yb) in x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len)) {
        for (o, v) in yb.iter_mut().enumerate() {
            *v = dot_by(|i| w.get(o * in_len + i), xb) + bias.f32_at(o);
        }
    }
}

/// Rows of [`gemv_f32`] computed together: their partial sums are independent, so the
/// additions of one row overlap those of the others instead of waiting on each other.
const ROWS: usize = 4;

/// [`gemv`] for aligned f32 weights: each row is sliced once and [`ROWS`] rows share each
/// load of `x`. Each row's sums are formed in the same order as [`dot_by`]'s, so the bits
/// match the other storages.
fn gemv_f32(w: &[f32], bias: &Tensor<'_>, in_len: usize, out_len: usize, x: &[f32], y: &mut [f32]) {
    let full = in_len - in_len % LANES;
    let done = out_len - out_len % ROWS;
    // `f32_at` is a call and a match per value, so an aligned bias is read directly.
    let aligned_bias = bias.as_f32_slice();
    let bias_at = |o: usize| aligned_bias.map_or_else(|| bias.f32_at(o), |b| b[o]);
    for (xb, yb) in x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len)) {
        let groups = w.chunks_exact(in_len * ROWS).zip(yb.chunks_exact_mut(ROWS));
        for (g, (rows, ys)) in groups.enumerate() {
            let acc = group_sums(rows, &xb[..full], in_len);
            for (r, (v, acc_r)) in ys.iter_mut().zip(&acc).enumerate() {
                let row = &rows[r * in_len..(r + 1) * in_len];
                *v = finish(acc_r, &row[full..], &xb[full..]) + bias_at(g * ROWS + r);
            }
        }
        let rest = w[done * in_len..].chunks_exact(in_len);
        for ((o, v), row) in (done..).zip(&mut yb[done..]).zip(rest) {
            *v = dot_by(|i| row[i], xb) + bias_at(o);
        }
    }
}

/// Returns the [`LANES`] partial sums of each of the [`ROWS`] rows in `rows` (each
/// `in_len` long) against `x`, which contains the whole chunks of the input.
#[inline(always)]
fn group_sums(rows: &[f32], x: &[f32], in_len: usize) -> [[f32; LANES]; ROWS] {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx") && rows.len() >= ROWS * in_len && x.len() <= in_len {
        // SAFETY: the CPU supports AVX, and `rows` and `x` were checked to be as long as
        // the kernel reads.
        return unsafe { avx::group_sums(rows, x, in_len) };
    }
    let mut acc = [[0.0f32; LANES]; ROWS];
    for (c, xc) in x.chunks_exact(LANES).enumerate() {
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let at = r * in_len + c * LANES;
            for ((s, &wv), &q) in acc_r.iter_mut().zip(&rows[at..at + LANES]).zip(xc) {
                *s += wv * q;
            }
        }
    }
    acc
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx {
    use super::{LANES, ROWS};
    use core::arch::x86_64::{
        _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };

    /// [`super::group_sums`] on 256-bit registers: a separate multiply and add per lane
    /// (no fused multiply-add), in the same order, so the sums have the same bits. LLVM
    /// had turned the portable loop into scalar multiplies and lane inserts.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX, `rows` must hold `ROWS * in_len` floats and `x` at most
    /// `in_len`.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn group_sums(
        rows: &[f32],
        x: &[f32],
        in_len: usize,
    ) -> [[f32; LANES]; ROWS] {
        const { assert!(LANES == 8) };
        let mut out = [[0.0f32; LANES]; ROWS];
        // SAFETY: chunk `c` reads `x[c..c + 8]` with `c + 8 <= x.len()` and
        // `rows[r * in_len + c..][..8]`, inside `rows` because `x.len() <= in_len`; the
        // stores write the 8 floats of one row of `out`.
        unsafe {
            let mut acc = [_mm256_setzero_ps(); ROWS];
            for c in (0..x.len() - x.len() % LANES).step_by(LANES) {
                let xv = _mm256_loadu_ps(x.as_ptr().add(c));
                for (r, a) in acc.iter_mut().enumerate() {
                    let wv = _mm256_loadu_ps(rows.as_ptr().add(r * in_len + c));
                    *a = _mm256_add_ps(*a, _mm256_mul_ps(wv, xv));
                }
            }
            for (row, a) in out.iter_mut().zip(acc) {
                _mm256_storeu_ps(row.as_mut_ptr(), a);
            }
        }
        out
    }
}

/// Adds up one row's partial sums and its last `in_len % LANES` products, in
/// [`dot_by`]'s order.
#[inline(always)]
fn finish(acc: &[f32; LANES], w_tail: &[f32], x_tail: &[f32]) -> f32 {
    let tail: f32 = w_tail.iter().zip(x_tail).map(|(w, q)| w * q).sum();
    acc.iter().sum::<f32>() + tail
}

/// Returns the dot product of weights `w(0..x.len())` with `x`, summed in [`LANES`]
/// independent partial sums, then added up.
#[inline(always)]
fn dot_by(w: impl Fn(usize) -> f32, x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let full = x.len() - chunks.remainder().len();
    let tail: f32 = chunks
        .remainder()
        .iter()
        .enumerate()
        .map(|(i, q)| w(full + i) * q)
        .sum();
    for (c, b) in chunks.enumerate() {
        for (l, (s, &q)) in acc.iter_mut().zip(b).enumerate() {
            *s += w(c * LANES + l) * q;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Returns the floats of scratch [`dense`] needs.
pub(crate) fn dense_temp(in_len: usize, out_len: usize, batch: usize) -> usize {
    pack_len(out_len, in_len, batch)
}

/// Computes `y[b] = W x[b] + bias` for a batch: `x` is `[batch, in_len]`, `y` is
/// `[batch, out_len]`, `w` is `[out_len, in_len]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dense(
    route: GemmRoute,
    w: &Tensor<'_>,
    bias: &Tensor<'_>,
    in_len: usize,
    out_len: usize,
    x: &[f32],
    y: &mut [f32],
    pack: &mut [f32],
) {
    let batch = x.len() / in_len;
    if batch < GEMV_BELOW {
        if let Some(ws) = w.as_f32_slice() {
            gemv_f32(ws, bias, in_len, out_len, x, y);
        } else if w.dtype == DType::F16 {
            gemv(&LeF16(w.bytes), bias, in_len, out_len, x, y);
        } else {
            gemv(&LeF32(w.bytes), bias, in_len, out_len, x, y);
        }
        return;
    }
    // Yᵀ [out × batch] = W [out × in] · Xᵀ [in × batch], so the weight is the packed A.
    let d = Dims {
        m: out_len,
        k: in_len,
        n: batch,
        a: Strides::row_major(in_len),
        b: Strides::col_major(in_len),
        c: Strides::col_major(out_len),
    };
    gemm(route, d, w, x, y, pack);
    if let Some(b) = bias.as_f32_slice() {
        for row in y.chunks_exact_mut(out_len) {
            for (v, &bo) in row.iter_mut().zip(b) {
                *v += bo;
            }
        }
        return;
    }
    for row in y.chunks_exact_mut(out_len) {
        for (o, v) in row.iter_mut().enumerate() {
            *v += bias.f32_at(o);
        }
    }
}
