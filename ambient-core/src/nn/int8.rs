//! The int8 kernels: i8 weights and activations, i32 accumulation, requantisation per output
//! channel (see [`super::quant`]).
//!
//! Activations enter the products as `x - zero_point` in i16 (range `[-255, 255]`) and
//! weights as i8 widened to i32, so every product fits in 16 bits times 8 bits and a dot
//! product over [`MAX_DEPTH`] terms cannot overflow i32. The dot products run over
//! contiguous slices, the form LLVM vectorises on x86-64 (widening multiplies and adds).

use super::conv::{source_index, ConvGeometry};
use super::quant::{multiply_by_quantized_multiplier, ADD_LEFT_SHIFT};
use super::scratch::cast_mut;
use crate::format::Tensor;

/// The longest int8 dot product (input features, or input channels times kernel area) that
/// cannot overflow the i32 accumulator for any stored weight, -128 included:
/// `(2^31 - 1) / (255 * 128)`.
pub const MAX_DEPTH: usize = 65_793;

/// Per-output-channel requantisation: i32 bias, multiplier and shift, output zero point.
#[derive(Clone, Copy)]
pub(crate) struct Requant<'a> {
    pub(crate) bias: Tensor<'a>,
    pub(crate) pairs: Tensor<'a>,
    pub(crate) out_zp: i32,
}

impl Requant<'_> {
    /// Returns the requantisation of channel `c`, read once from the tensors.
    #[inline]
    pub(crate) fn channel(&self, c: usize) -> ChannelRequant {
        ChannelRequant {
            bias: self.bias.i32_at(c),
            multiplier: self.pairs.i32_at(2 * c),
            shift: self.pairs.i32_at(2 * c + 1),
            out_zp: self.out_zp,
        }
    }

    /// Returns the int8 output of channel `c` for accumulator `acc`.
    #[inline]
    pub(crate) fn apply(&self, c: usize, acc: i32) -> i8 {
        self.channel(c).apply(acc)
    }
}

/// The requantisation of one output channel.
#[derive(Clone, Copy)]
pub(crate) struct ChannelRequant {
    bias: i32,
    multiplier: i32,
    shift: i32,
    out_zp: i32,
}

impl ChannelRequant {
    /// Returns the int8 output for accumulator `acc`.
    #[inline]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        let v = multiply_by_quantized_multiplier(
            acc.saturating_add(self.bias),
            self.multiplier,
            self.shift,
        );
        v.saturating_add(self.out_zp).clamp(-128, 127) as i8
    }
}

#[inline]
fn dot(w: &[i8], x: &[i16]) -> i32 {
    w.iter().zip(x).map(|(&a, &b)| a as i32 * b as i32).sum()
}

fn centre(x: &[i8], zp: i32, out: &mut [i16]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v as i32 - zp) as i16;
    }
}

/// Fully connected: `x` is `[batch, in_len]`, `y` is `[batch, out_len]`, `w` is
/// `[out_len, in_len]`; `x16` has room for `in_len` values.
pub(crate) fn dense(
    w: &[i8],
    rq: &Requant<'_>,
    in_zp: i32,
    x: &[i8],
    y: &mut [i8],
    x16: &mut [i16],
) {
    let in_len = x16.len();
    let out_len = w.len() / in_len;
    for (xb, yb) in x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len)) {
        centre(xb, in_zp, x16);
        for (o, (row, out)) in w.chunks_exact(in_len).zip(yb.iter_mut()).enumerate() {
            *out = rq.apply(o, dot(row, x16));
        }
    }
}

/// Writes the transposed im2col matrix `[out_plane, patch_len]` of one image in i16, with
/// the zero point subtracted (so padding is 0).
fn im2col_transposed(x: &[i8], g: &ConvGeometry, zp: i32, col: &mut [i16]) {
    let (kh, kw) = g.p.kernel;
    let (ih, iw) = (g.input.height, g.input.width);
    let ow = g.output.width;
    for (pos, row) in col.chunks_exact_mut(g.patch_len()).enumerate() {
        let (oy, ox) = (pos / ow, pos % ow);
        let mut taps = row.iter_mut();
        for c in 0..g.input.channels {
            for ky in 0..kh {
                let iy = source_index(oy, g.p.stride.0, ky, g.p.padding.0, ih);
                for kx in 0..kw {
                    let ix = source_index(ox, g.p.stride.1, kx, g.p.padding.1, iw);
                    let v = match (iy, ix) {
                        (Some(iy), Some(ix)) => (x[(c * ih + iy) * iw + ix] as i32 - zp) as i16,
                        _ => 0,
                    };
                    if let Some(t) = taps.next() {
                        *t = v;
                    }
                }
            }
        }
    }
}

/// Convolves one image; `col` has room for `out_plane * patch_len` values.
pub(crate) fn conv2d(
    g: &ConvGeometry,
    w: &[i8],
    rq: &Requant<'_>,
    in_zp: i32,
    x: &[i8],
    y: &mut [i8],
    col: &mut [i16],
) {
    let k = g.patch_len();
    im2col_transposed(x, g, in_zp, col);
    for (o, (row, plane)) in w
        .chunks_exact(k)
        .zip(y.chunks_exact_mut(g.out_plane()))
        .enumerate()
    {
        let channel = rq.channel(o);
        for (patch, out) in col.chunks_exact(k).zip(plane.iter_mut()) {
            *out = channel.apply(dot(row, patch));
        }
    }
}

/// Returns the i32 values of scratch [`conv_transpose2d`] needs: the output accumulator
/// `[out_c, oh, ow]`, then, in i16, the transposed weights `[out_c * kh * kw, in_c]` and the
/// transposed, centred input `[ih * iw, in_c]`.
pub(crate) fn conv_transpose2d_temp(g: &ConvGeometry) -> Option<usize> {
    let (m, k, n) = transposed_dims(g)?;
    let halves = m.checked_mul(k)?.checked_add(n.checked_mul(k)?)?;
    g.output
        .channels
        .checked_mul(g.out_plane())?
        .checked_add(halves.div_ceil(2))
}

/// The GEMM shape of a transposed convolution: `m` weight rows (`out_c * kh * kw`), depth
/// `k` (`in_c`), `n` input pixels.
fn transposed_dims(g: &ConvGeometry) -> Option<(usize, usize, usize)> {
    let m = g
        .output
        .channels
        .checked_mul(g.p.kernel.0)?
        .checked_mul(g.p.kernel.1)?;
    Some((m, g.input.channels, g.in_plane()))
}

/// Splits the scratch of [`conv_transpose2d`] into the accumulator, the transposed weights
/// and the transposed input.
fn transposed_scratch<'t>(
    g: &ConvGeometry,
    (m, k, n): (usize, usize, usize),
    temp: &'t mut [u8],
) -> (&'t mut [i32], &'t mut [i16], &'t mut [i16]) {
    let acc_len = g.output.channels * g.out_plane();
    let (acc_bytes, rest) = temp.split_at_mut(4 * acc_len);
    let (wt, rest) = cast_mut::<i16>(rest).split_at_mut(m * k);
    (
        &mut cast_mut::<i32>(acc_bytes)[..acc_len],
        wt,
        &mut rest[..n * k],
    )
}

/// Writes the weights `[in_c, m]` transposed to i16 rows `[m, in_c]` into the scratch of
/// [`conv_transpose2d`], once for every image of a batch.
pub(crate) fn transpose_weights(g: &ConvGeometry, w: &[i8], temp: &mut [u8]) {
    let Some(dims) = transposed_dims(g) else {
        return;
    };
    let (m, k, _) = dims;
    let (_, wt, _) = transposed_scratch(g, dims, temp);
    for (i, row) in wt.chunks_exact_mut(k).enumerate().take(m) {
        for (c, v) in row.iter_mut().enumerate() {
            *v = i16::from(w[c * m + i]);
        }
    }
}

/// Applies a transposed convolution to one image as a GEMM with contiguous depth: with the
/// weights already transposed by [`transpose_weights`], the centred input `[in_c, n]` is
/// transposed into i16 rows of `in_c` values, so every product is an i16 dot product
/// (`pmaddwd` on x86-64), and each dot product of weight row `(o, ky, kx)` with input
/// pixel `(iy, ix)` is added where that tap lands in the output (col2im without the column
/// matrix; taps that land in the padding are skipped). `temp` holds
/// [`conv_transpose2d_temp`] i32 values, as bytes.
pub(crate) fn conv_transpose2d(
    g: &ConvGeometry,
    rq: &Requant<'_>,
    in_zp: i32,
    x: &[i8],
    y: &mut [i8],
    temp: &mut [u8],
) {
    let Some(dims) = transposed_dims(g) else {
        return;
    };
    let (_, k, n) = dims;
    let (kh, kw) = g.p.kernel;
    let (ih, iw) = (g.input.height, g.input.width);
    let (oh, ow) = (g.output.height, g.output.width);
    let (acc, wt, xt) = transposed_scratch(g, dims, temp);

    for (c, plane) in x.chunks_exact(n).enumerate() {
        for (j, &v) in plane.iter().enumerate() {
            xt[j * k + c] = (v as i32 - in_zp) as i16;
        }
    }

    acc.fill(0);
    let mut rows = wt.chunks_exact(k);
    for o in 0..g.output.channels {
        for ky in 0..kh {
            for kx in 0..kw {
                let Some(wrow) = rows.next() else { return };
                for iy in 0..ih {
                    let Some(oy) = source_index(iy, g.p.stride.0, ky, g.p.padding.0, oh) else {
                        continue;
                    };
                    let out_row = &mut acc[(o * oh + oy) * ow..(o * oh + oy + 1) * ow];
                    let pixels = &xt[iy * iw * k..(iy + 1) * iw * k];
                    for (ix, xrow) in pixels.chunks_exact(k).enumerate() {
                        if let Some(ox) = source_index(ix, g.p.stride.1, kx, g.p.padding.1, ow) {
                            out_row[ox] += dot16(wrow, xrow);
                        }
                    }
                }
            }
        }
    }
    for (o, (plane, out)) in acc
        .chunks_exact(oh * ow)
        .zip(y.chunks_exact_mut(oh * ow))
        .enumerate()
    {
        let channel = rq.channel(o);
        for (&a, q) in plane.iter().zip(out.iter_mut()) {
            *q = channel.apply(a);
        }
    }
}

/// The i16 dot product, summed in i32 (at most [`MAX_DEPTH`] terms of `|x| <= 255`,
/// `|w| <= 128`, so it cannot overflow).
#[inline]
fn dot16(w: &[i16], x: &[i16]) -> i32 {
    w.iter().zip(x).map(|(&a, &b)| a as i32 * b as i32).sum()
}

/// Per-channel affine (batch norm) in place on one image: channel `c` uses entry
/// `offset + c` of the weight, bias and requantisation tables.
pub(crate) fn affine(
    x: &mut [i8],
    w: &[i8],
    rq: &Requant<'_>,
    in_zp: i32,
    offset: usize,
    plane: usize,
) {
    for (c, ch) in x.chunks_exact_mut(plane).enumerate() {
        let wc = w[offset + c] as i32;
        let channel = rq.channel(offset + c);
        for v in ch {
            *v = channel.apply((*v as i32 - in_zp) * wc);
        }
    }
}

/// Maps every value through a 256-entry table indexed by `q + 128`.
pub(crate) fn lookup(x: &mut [i8], lut: &[u8]) {
    for v in x {
        *v = lut[(*v as i32 + 128) as usize] as i8;
    }
}

/// Copies `x` into `y` through a 256-entry table indexed by `q + 128`.
pub(crate) fn lookup_into(x: &[i8], lut: &[u8], y: &mut [i8]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = lut[(v as i32 + 128) as usize] as i8;
    }
}

/// The quantisation of a residual add's operands and output.
#[derive(Clone, Copy)]
pub(crate) struct AddParams {
    pub(crate) a_zp: i32,
    pub(crate) b_zp: i32,
    pub(crate) out_zp: i32,
    /// `(multiplier, shift)` of the first operand, the second operand and the output.
    pub(crate) pairs: [(i32, i32); 3],
}

/// Residual add as TensorFlow Lite computes it: both operands are centred, shifted left by
/// [`ADD_LEFT_SHIFT`], rescaled to a common scale, summed and requantised.
pub(crate) fn add(a: &[i8], b: &[i8], p: &AddParams, y: &mut [i8]) {
    let [(ma, sa), (mb, sb), (mo, so)] = p.pairs;
    for ((o, &va), &vb) in y.iter_mut().zip(a).zip(b) {
        let xa = (va as i32 - p.a_zp) << ADD_LEFT_SHIFT;
        let xb = (vb as i32 - p.b_zp) << ADD_LEFT_SHIFT;
        let sum = multiply_by_quantized_multiplier(xa, ma, sa)
            .saturating_add(multiply_by_quantized_multiplier(xb, mb, sb));
        let v = multiply_by_quantized_multiplier(sum, mo, so);
        *o = v.saturating_add(p.out_zp).clamp(-128, 127) as i8;
    }
}
