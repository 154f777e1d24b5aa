//! 2-D transposed convolution, f32: one GEMM per image into a column matrix, then col2im.
//!
//! Weights are stored as PyTorch stores them, `[in_c, out_c, kh, kw]`, which read as a
//! row-major `[in_c, out_c * kh * kw]` matrix is exactly the transpose of the GEMM's `A`.

use super::conv::{add_bias, ConvGeometry};
use crate::format::Tensor;
use crate::gemm::{gemm, pack_len, Dims, GemmRoute, Strides};
use core::ops::Range;

/// Returns the floats of scratch [`conv_transpose2d`] needs: the column matrix and the
/// packing.
pub(crate) fn conv_transpose2d_temp(g: &ConvGeometry) -> Option<usize> {
    let m = g.output.channels * g.p.kernel.0 * g.p.kernel.1;
    let n = g.in_plane();
    m.checked_mul(n)?
        .checked_add(pack_len(m, g.input.channels, n))
}

/// Returns the input indices `i` in `0..in_len` whose output `i * stride + kk - pad` lies in
/// `0..out_len`. They form one range. It is found by stepping in from both ends, which
/// takes a step or two for the usual padding and needs no division.
fn landing(stride: usize, kk: usize, pad: usize, in_len: usize, out_len: usize) -> Range<usize> {
    let at = |i: usize| i * stride + kk;
    let mut lo = 0;
    while lo < in_len && at(lo) < pad {
        lo += 1;
    }
    let mut hi = in_len;
    while hi > lo && at(hi - 1) >= out_len + pad {
        hi -= 1;
    }
    lo..hi
}

/// Scatters a column matrix `[out_c * kh * kw, ih * iw]` into the output image, adding: input
/// pixel `(iy, ix)` under tap `(ky, kx)` lands on `(iy * sh + ky - ph, ix * sw + kx - pw)`
/// when that is inside the output. The rows and columns that land inside are worked out
/// once per tap, so the inner loop is a strided add without tests. Rows of a small image
/// are a few pixels long, so the work around the inner loop matters as much as the loop.
pub(crate) fn col2im<T: Copy + core::ops::AddAssign>(col: &[T], g: &ConvGeometry, y: &mut [T]) {
    let (kh, kw) = g.p.kernel;
    let (sh, sw) = g.p.stride;
    let (ph, pw) = g.p.padding;
    let (ih, iw) = (g.input.height, g.input.width);
    let (oh, ow) = (g.output.height, g.output.width);
    let mut rows = col.chunks_exact(ih * iw);
    for plane in y.chunks_exact_mut(oh * ow).take(g.output.channels) {
        for ky in 0..kh {
            let ys = landing(sh, ky, ph, ih, oh);
            for kx in 0..kw {
                let Some(row) = rows.next() else { return };
                let xs = landing(sw, kx, pw, iw, ow);
                if xs.is_empty() {
                    continue;
                }
                let first = xs.start * sw + kx - pw;
                for iy in ys.clone() {
                    let oy = iy * sh + ky - ph;
                    let src = &row[iy * iw + xs.start..iy * iw + xs.end];
                    let dst = &mut plane[oy * ow + first..(oy + 1) * ow];
                    if sw == 1 {
                        for (d, &v) in dst.iter_mut().zip(src) {
                            *d += v;
                        }
                    } else {
                        for (j, &v) in src.iter().enumerate() {
                            dst[j * sw] += v;
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
