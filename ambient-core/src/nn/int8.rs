//! The int8 kernels: i8 weights and activations, i32 accumulation, requantisation per output
//! channel (see [`super::quant`]).
//!
//! Activations enter the products as `x - zero_point` in i16 (range `[-255, 255]`) and
//! weights as i8 widened to i32, so every product fits in 16 bits times 8 bits and a dot
//! product over [`MAX_DEPTH`] terms cannot overflow i32. The dot products run over
//! contiguous slices, the form LLVM vectorises on x86-64 (widening multiplies and adds).

use super::conv::{source_index, ConvGeometry};
use super::quant::{multiply_by_quantized_multiplier, quantize_wide, ADD_LEFT_SHIFT, WIDE_MAX};
use super::scratch::cast_mut;
use crate::format::Tensor;

/// The longest int8 dot product (input features, or input channels times kernel area) that
/// cannot overflow the i32 accumulator for any stored weight, -128 included:
/// `(2^31 - 1) / (255 * 128)`.
pub const MAX_DEPTH: usize = 65_793;

/// The longest dense layer over a 16-bit latent that cannot overflow the i32 accumulator:
/// `(2^31 - 1) / (32767 * 128)`.
pub const MAX_WIDE_DEPTH: usize = (i32::MAX as usize) / (WIDE_MAX as usize * 128);

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

/// The input of an int8 dense layer.
#[derive(Clone, Copy)]
pub(crate) enum DenseInput<'x> {
    /// An int8 value with its zero point.
    Int8 { x: &'x [i8], zero_point: i32 },
    /// The f32 latent, quantised to 16 bits with `scale` and zero point 0 as it is read.
    Wide { z: &'x [f32], scale: f32 },
}

/// Fully connected: the input is `[batch, in_len]`, `y` is `[batch, out_len]`, `w` is
/// `[out_len, in_len]`; `x16` has room for `in_len` values.
pub(crate) fn dense(
    w: &[i8],
    rq: &Requant<'_>,
    input: DenseInput<'_>,
    y: &mut [i8],
    x16: &mut [i16],
) {
    let in_len = x16.len();
    let out_len = w.len() / in_len;
    for (b, yb) in y.chunks_exact_mut(out_len).enumerate() {
        let image = b * in_len..(b + 1) * in_len;
        match input {
            DenseInput::Int8 { x, zero_point } => centre(&x[image], zero_point, x16),
            DenseInput::Wide { z, scale } => {
                for (o, &v) in x16.iter_mut().zip(&z[image]) {
                    *o = quantize_wide(v, scale);
                }
            }
        }
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

/// The storage order of an int8 transposed convolution's weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransposedLayout {
    /// `[in_c, out_c, kh, kw]`, PyTorch's layout (format 1.0).
    InputMajor,
    /// `[out_c, kh * kw, in_c]`: each weight row of the product is contiguous (format 1.1).
    OutputMajor,
}

/// Returns the bytes of scratch [`conv_transpose2d`] needs: the i32 accumulator of one
/// output plane `[oh, ow]`, then, in i16, one weight row `[in_c]` and the transposed,
/// centred input `[ih * iw, in_c]`.
pub(crate) fn conv_transpose2d_temp(g: &ConvGeometry) -> Option<usize> {
    let k = g.input.channels;
    let halves = g.in_plane().checked_add(1)?.checked_mul(k)?;
    g.out_plane()
        .checked_mul(4)?
        .checked_add(halves.checked_mul(2)?)
}

/// Splits the scratch of [`conv_transpose2d`] into the plane accumulator, the weight row
/// and the transposed input.
fn transposed_scratch<'t>(
    g: &ConvGeometry,
    temp: &'t mut [u8],
) -> (&'t mut [i32], &'t mut [i16], &'t mut [i16]) {
    let (k, n) = (g.input.channels, g.in_plane());
    let (acc_bytes, rest) = temp.split_at_mut(4 * g.out_plane());
    let (row, rest) = cast_mut::<i16>(rest).split_at_mut(k);
    (cast_mut::<i32>(acc_bytes), row, &mut rest[..n * k])
}

/// Applies a transposed convolution to one image as a GEMM with contiguous depth. The
/// centred input `[in_c, n]` is transposed into i16 rows of `in_c` values; each weight row
/// `(o, ky, kx)` is widened to i16 once, and its i16 dot product with every input pixel
/// `(iy, ix)` (`pmaddwd` on x86-64) is added where that tap lands in the output plane of
/// channel `o` (col2im without the column matrix; taps that land in the padding are
/// skipped). Each plane is requantised as soon as its taps are done, so only one plane of
/// accumulators is live. `temp` holds [`conv_transpose2d_temp`] bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_transpose2d(
    g: &ConvGeometry,
    w: &[i8],
    layout: TransposedLayout,
    rq: &Requant<'_>,
    in_zp: i32,
    x: &[i8],
    y: &mut [i8],
    temp: &mut [u8],
) {
    let (k, n) = (g.input.channels, g.in_plane());
    let (kh, kw) = g.p.kernel;
    let m = g.output.channels * kh * kw;
    let (ih, iw) = (g.input.height, g.input.width);
    let (oh, ow) = (g.output.height, g.output.width);
    let (acc, row, xt) = transposed_scratch(g, temp);

    for (c, plane) in x.chunks_exact(n).enumerate() {
        for (j, &v) in plane.iter().enumerate() {
            xt[j * k + c] = (v as i32 - in_zp) as i16;
        }
    }

    for (o, out) in y.chunks_exact_mut(oh * ow).enumerate() {
        acc.fill(0);
        for ky in 0..kh {
            for kx in 0..kw {
                let r = (o * kh + ky) * kw + kx;
                widen_row(w, layout, r, m, row);
                for iy in 0..ih {
                    let Some(oy) = source_index(iy, g.p.stride.0, ky, g.p.padding.0, oh) else {
                        continue;
                    };
                    let out_row = &mut acc[oy * ow..(oy + 1) * ow];
                    let pixels = &xt[iy * iw * k..(iy + 1) * iw * k];
                    for (ix, xrow) in pixels.chunks_exact(k).enumerate() {
                        if let Some(ox) = source_index(ix, g.p.stride.1, kx, g.p.padding.1, ow) {
                            out_row[ox] += dot16(row, xrow);
                        }
                    }
                }
            }
        }
        let channel = rq.channel(o);
        for (&a, q) in acc.iter().zip(out.iter_mut()) {
            *q = channel.apply(a);
        }
    }
}

/// Writes weight row `r` of `m` (output channel and tap `(o, ky, kx)`, over the input
/// channels) into `row` as i16.
fn widen_row(w: &[i8], layout: TransposedLayout, r: usize, m: usize, row: &mut [i16]) {
    let k = row.len();
    match layout {
        TransposedLayout::OutputMajor => {
            for (v, &q) in row.iter_mut().zip(&w[r * k..(r + 1) * k]) {
                *v = i16::from(q);
            }
        }
        TransposedLayout::InputMajor => {
            for (c, v) in row.iter_mut().enumerate() {
                *v = i16::from(w[c * m + r]);
            }
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
