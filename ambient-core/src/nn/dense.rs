//! Fully connected layer, f32: one GEMM over the whole batch.

use crate::format::{DType, Tensor};
use crate::gemm::{gemm, pack_len, Dims, GemmRoute, LeF16, LeF32, Strides, WeightSource};

/// Batches smaller than this run as matrix-vector products over the stored weight rows: a
/// GEMM would pad the batch to its tile width and pack the whole weight matrix for a
/// handful of columns.
const GEMV_BELOW: usize = 4;

/// Lanes of [`dot`]'s independent partial sums (one SIMD register of f32 on AVX).
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
            *v = dot(w, o * in_len, xb) + bias.f32_at(o);
        }
    }
}

/// Returns the dot product of weights `start..start + x.len()` with `x`, summed in
/// [`LANES`] independent partial sums so that it vectorises, then added up.
#[inline(always)]
fn dot<S: WeightSource>(w: &S, start: usize, x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let full = x.len() - chunks.remainder().len();
    let tail: f32 = chunks
        .remainder()
        .iter()
        .enumerate()
        .map(|(i, q)| w.get(start + full + i) * q)
        .sum();
    for (c, b) in chunks.enumerate() {
        let base = start + c * LANES;
        for (l, (s, &q)) in acc.iter_mut().zip(b).enumerate() {
            *s += w.get(base + l) * q;
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
            gemv(&ws, bias, in_len, out_len, x, y);
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
    for row in y.chunks_exact_mut(out_len) {
        for (o, v) in row.iter_mut().enumerate() {
            *v += bias.f32_at(o);
        }
    }
}
