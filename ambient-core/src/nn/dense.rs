//! Fully connected layer, f32: one GEMM over the whole batch.

use crate::format::Tensor;
use crate::gemm::{gemm, pack_len, Dims, GemmRoute, Strides};

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
