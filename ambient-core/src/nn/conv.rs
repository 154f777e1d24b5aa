//! 2-D convolution, f32: im2col, then one GEMM per image.

use crate::format::{ConvParams, Tensor};
use crate::gemm::{gemm, pack_len, Dims, GemmRoute, Strides};
use crate::Shape;

/// The shapes of one convolution or transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeometry {
    pub(crate) input: Shape,
    pub(crate) output: Shape,
    pub(crate) p: ConvParams,
}

impl ConvGeometry {
    /// Returns the depth of the lowered product: input channels times kernel area.
    pub(crate) fn patch_len(&self) -> usize {
        self.input.channels * self.p.kernel.0 * self.p.kernel.1
    }

    pub(crate) fn out_plane(&self) -> usize {
        self.output.height * self.output.width
    }

    pub(crate) fn in_plane(&self) -> usize {
        self.input.height * self.input.width
    }
}

/// Returns the floats of scratch [`conv2d`] needs: the im2col matrix and the packing.
pub(crate) fn conv2d_temp(g: &ConvGeometry) -> Option<usize> {
    let (k, n) = (g.patch_len(), g.out_plane());
    k.checked_mul(n)?
        .checked_add(pack_len(g.output.channels, k, n))
}

/// Returns the input index read by output position `o` at kernel offset `kk`, or `None` in
/// the zero padding: `o * stride + kk - pad` when it lies in `0..len`.
#[inline(always)]
pub(crate) fn source_index(
    o: usize,
    stride: usize,
    kk: usize,
    pad: usize,
    len: usize,
) -> Option<usize> {
    let t = o * stride + kk;
    (t >= pad && t - pad < len).then(|| t - pad)
}

/// Writes the im2col matrix of one image: row `(c, ky, kx)`, column `(oy, ox)` holds the
/// input pixel under that kernel tap, or 0 in the padding. `col` is `[patch_len, out_plane]`.
pub(crate) fn im2col<T: Copy>(x: &[T], g: &ConvGeometry, zero: T, col: &mut [T]) {
    let (kh, kw) = g.p.kernel;
    let (ih, iw) = (g.input.height, g.input.width);
    let (oh, ow) = (g.output.height, g.output.width);
    let mut rows = col.chunks_exact_mut(oh * ow);
    for c in 0..g.input.channels {
        let plane = &x[c * ih * iw..(c + 1) * ih * iw];
        for ky in 0..kh {
            for kx in 0..kw {
                let Some(row) = rows.next() else { return };
                for (oy, out_row) in row.chunks_exact_mut(ow).enumerate() {
                    let Some(iy) = source_index(oy, g.p.stride.0, ky, g.p.padding.0, ih) else {
                        out_row.fill(zero);
                        continue;
                    };
                    let in_row = &plane[iy * iw..(iy + 1) * iw];
                    for (ox, v) in out_row.iter_mut().enumerate() {
                        *v = match source_index(ox, g.p.stride.1, kx, g.p.padding.1, iw) {
                            Some(ix) => in_row[ix],
                            None => zero,
                        };
                    }
                }
            }
        }
    }
}

/// Convolves one image: `x` is `[in_c, ih, iw]`, `y` is `[out_c, oh, ow]`, `w` is
/// `[out_c, in_c, kh, kw]`; `temp` holds [`conv2d_temp`] floats.
pub(crate) fn conv2d(
    route: GemmRoute,
    g: &ConvGeometry,
    w: &Tensor<'_>,
    bias: &Tensor<'_>,
    x: &[f32],
    y: &mut [f32],
    temp: &mut [f32],
) {
    let (k, n) = (g.patch_len(), g.out_plane());
    let (col, pack) = temp.split_at_mut(k * n);
    im2col(x, g, 0.0, col);
    let d = Dims {
        m: g.output.channels,
        k,
        n,
        a: Strides::row_major(k),
        b: Strides::row_major(n),
        c: Strides::row_major(n),
    };
    gemm(route, d, w, col, y, pack);
    add_bias(y, bias, n);
}

/// Adds `bias[c]` to every value of output channel `c`.
pub(crate) fn add_bias(y: &mut [f32], bias: &Tensor<'_>, plane: usize) {
    for (c, ch) in y.chunks_exact_mut(plane).enumerate() {
        let b = bias.f32_at(c);
        for v in ch {
            *v += b;
        }
    }
}
