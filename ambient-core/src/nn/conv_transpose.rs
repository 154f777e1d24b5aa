//! 2-D transposed convolution, f32: one GEMM per image into a column matrix, then col2im.
//!
//! Weights are stored as PyTorch stores them, `[in_c, out_c, kh, kw]`, which read as a
//! row-major `[in_c, out_c * kh * kw]` matrix is exactly the transpose of the GEMM's `A`.

use super::conv::{add_bias, source_index, ConvGeometry};
use crate::format::Tensor;
use crate::gemm::{gemm, pack_len, Dims, GemmRoute, Strides};

/// Returns the floats of scratch [`conv_transpose2d`] needs: the column matrix and the
/// packing.
pub(crate) fn conv_transpose2d_temp(g: &ConvGeometry) -> Option<usize> {
    let m = g.output.channels * g.p.kernel.0 * g.p.kernel.1;
    let n = g.in_plane();
    m.checked_mul(n)?
        .checked_add(pack_len(m, g.input.channels, n))
}

/// Scatters a column matrix `[out_c * kh * kw, ih * iw]` into the output image, adding: input
/// pixel `(iy, ix)` under tap `(ky, kx)` lands on `(iy * sh + ky - ph, ix * sw + kx - pw)`
/// when that is inside the output.
pub(crate) fn col2im<T: Copy + core::ops::AddAssign>(col: &[T], g: &ConvGeometry, y: &mut [T]) {
    let (kh, kw) = g.p.kernel;
    let (ih, iw) = (g.input.height, g.input.width);
    let (oh, ow) = (g.output.height, g.output.width);
    let mut rows = col.chunks_exact(ih * iw);
    for o in 0..g.output.channels {
        let plane = &mut y[o * oh * ow..(o + 1) * oh * ow];
        for ky in 0..kh {
            for kx in 0..kw {
                let Some(row) = rows.next() else { return };
                for (iy, in_row) in row.chunks_exact(iw).enumerate() {
                    let Some(oy) = source_index(iy, g.p.stride.0, ky, g.p.padding.0, oh) else {
                        continue;
                    };
                    let out_row = &mut plane[oy * ow..(oy + 1) * ow];
                    for (ix, &v) in in_row.iter().enumerate() {
                        if let Some(ox) = source_index(ix, g.p.stride.1, kx, g.p.padding.1, ow) {
                            out_row[ox] += v;
                        }
                    }
                }
            }
        }
    }
}

/// Applies the transposed convolution to one image: `x` is `[in_c, ih, iw]`, `y` is
/// `[out_c, oh, ow]`; `temp` holds [`conv_transpose2d_temp`] floats.
pub(crate) fn conv_transpose2d(
    route: GemmRoute,
    g: &ConvGeometry,
    w: &Tensor<'_>,
    bias: &Tensor<'_>,
    x: &[f32],
    y: &mut [f32],
    temp: &mut [f32],
) {
    let m = g.output.channels * g.p.kernel.0 * g.p.kernel.1;
    let n = g.in_plane();
    let (col, pack) = temp.split_at_mut(m * n);
    let d = Dims {
        m,
        k: g.input.channels,
        n,
        a: Strides::col_major(m),
        b: Strides::row_major(n),
        c: Strides::row_major(n),
    };
    gemm(route, d, w, x, col, pack);
    y.fill(0.0);
    col2im(col, g, y);
    add_bias(y, bias, g.out_plane());
}
