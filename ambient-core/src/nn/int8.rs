//! The int8 kernels: i8 weights and activations, i32 accumulation, requantisation per output
//! channel (see [`super::quant`]).
//!
//! Activations enter the products as `x - zero_point` in i16 (range `[-255, 255]`) and
//! weights as i8 widened to i32, so every product fits in 16 bits times 8 bits and a dot
//! product over [`MAX_DEPTH`] terms cannot overflow i32. The dot products run over
//! contiguous slices, the form LLVM vectorises on x86-64 (widening multiplies and adds).
//!
//! The baseline x86-64 target has only SSE2, so LLVM vectorises those loops to 128-bit
//! `pmaddwd`. With the `std` feature on x86-64, each kernel is compiled a second time with
//! AVX2 enabled (256-bit `vpmaddwd`), and that copy runs where the CPU has AVX2 (checked at
//! run time). Both copies are the same Rust source over integers. No sum can overflow (see
//! [`MAX_DEPTH`]), so the order of the additions cannot change the result and both copies
//! give the same bits. The tests compare them on random and edge-case inputs.

use super::conv::{source_index, ConvGeometry};
use super::quant::{multiply_by_quantized_multiplier, quantize_wide, ADD_LEFT_SHIFT, WIDE_MAX};
use super::scratch::cast_mut;
use crate::format::Tensor;

/// Defines `$name`, which runs the body compiled with AVX2 when the `std` feature is on,
/// the target is x86-64 and the CPU has AVX2, and `$portable`, the body as written, which
/// every other target runs.
macro_rules! with_avx2_copy {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident / $portable:ident ($($arg:ident: $ty:ty),* $(,)?) $body:block
    ) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(all(any(feature = "std", test), target_arch = "x86_64"))]
            {
                /// Runs the body compiled with AVX2.
                ///
                /// # Safety
                ///
                /// The CPU must support AVX2.
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                if has_avx2() {
                    // SAFETY: the CPU was just checked to support AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $portable($($arg),*)
        }

        /// Runs the portable body of the function of the same name without the suffix. It
        /// is inlined into each caller, so it takes the caller's target features.
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn $portable($($arg: $ty),*) $body
    };
}

/// Returns whether the CPU has AVX2, so that the AVX2 kernels may run. Tests can turn them
/// off on their thread with [`tests::portable_only`] to compare both.
#[cfg(all(any(feature = "std", test), target_arch = "x86_64"))]
#[inline(always)]
fn has_avx2() -> bool {
    #[cfg(test)]
    if tests::PORTABLE_ONLY.with(|p| p.get()) {
        return false;
    }
    std::is_x86_feature_detected!("avx2")
}

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
    #[inline(always)]
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
    pub(super) bias: i32,
    pub(super) multiplier: i32,
    pub(super) shift: i32,
    pub(super) out_zp: i32,
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

#[inline(always)]
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

with_avx2_copy! {
/// Fully connected: the input is `[batch, in_len]`, `y` is `[batch, out_len]`, `w` is
/// `[out_len, in_len]`; `x16` has room for `in_len` values.
pub(crate) fn dense / dense_portable(
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

with_avx2_copy! {
/// Convolves one image; `col` has room for `out_plane * patch_len` values.
pub(crate) fn conv2d / conv2d_portable(
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
        let mut dots = [0i32; DOT_BLOCK];
        let patches = col.chunks(k * DOT_BLOCK);
        for (block, out) in patches.zip(plane.chunks_mut(DOT_BLOCK)) {
            for (d, patch) in dots.iter_mut().zip(block.chunks_exact(k)) {
                *d = dot(row, patch);
            }
            requantize(&dots[..out.len()], &channel, out);
        }
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

with_avx2_copy! {
/// Applies a transposed convolution to one image as a GEMM with contiguous depth. The
/// centred input `[in_c, n]` is transposed into i16 rows of `in_c` values; each weight row
/// `(o, ky, kx)` is widened to i16 once, and its i16 dot product with every input pixel
/// `(iy, ix)` (`pmaddwd` on x86-64) is added where that tap lands in the output plane of
/// channel `o` (col2im without the column matrix; taps that land in the padding are
/// skipped). Each plane is requantised as soon as its taps are done, so only one plane of
/// accumulators is live. `temp` holds [`conv_transpose2d_temp`] bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_transpose2d / conv_transpose2d_portable(
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
    let mut dots = [0i32; DOT_BLOCK];

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
                    let valid = |ix| source_index(ix, g.p.stride.1, kx, g.p.padding.1, ow);
                    // The pixels whose tap lands inside the row are one contiguous run.
                    let first = (0..iw).find(|&ix| valid(ix).is_some()).unwrap_or(iw);
                    let end = (first..iw).find(|&ix| valid(ix).is_none()).unwrap_or(iw);
                    for start in (first..end).step_by(DOT_BLOCK) {
                        let stop = end.min(start + DOT_BLOCK);
                        let dots = &mut dots[..stop - start];
                        dot16_pixels(row, &pixels[start * k..stop * k], dots);
                        for (ix, &d) in (start..stop).zip(dots.iter()) {
                            if let Some(ox) = valid(ix) {
                                out_row[ox] += d;
                            }
                        }
                    }
                }
            }
        }
        requantize(acc, &rq.channel(o), out);
    }
}
}

/// Writes `out[i] = channel.apply(acc[i])`, with the AVX2 kernel where the CPU has it.
#[inline(always)]
fn requantize(acc: &[i32], channel: &ChannelRequant, out: &mut [i8]) {
    #[cfg(all(any(feature = "std", test), target_arch = "x86_64"))]
    if has_avx2() {
        // SAFETY: the CPU was just checked to support AVX2.
        if unsafe { super::int8_avx2::requantize(acc, channel, out) } {
            return;
        }
    }
    for (&a, q) in acc.iter().zip(out.iter_mut()) {
        *q = channel.apply(a);
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

/// Pixels per call of [`dot16_pixels`] in the transposed convolution, whose results sit in a
/// stack buffer of this many i32.
const DOT_BLOCK: usize = 64;

/// Writes `out[j]`, the [`dot16`] of `w` with pixel `j` of `pixels` (`w.len()` values per
/// pixel), for every `j` of `out`, with the AVX2 kernel where the CPU has it.
#[inline(always)]
fn dot16_pixels(w: &[i16], pixels: &[i16], out: &mut [i32]) {
    #[cfg(all(any(feature = "std", test), target_arch = "x86_64"))]
    if has_avx2() {
        // SAFETY: the CPU was just checked to support AVX2.
        unsafe { super::int8_avx2::dot16_pixels(w, pixels, out) };
        return;
    }
    for (o, xrow) in out.iter_mut().zip(pixels.chunks_exact(w.len())) {
        *o = dot16(w, xrow);
    }
}

/// The i16 dot product, summed in i32 (at most [`MAX_DEPTH`] terms of `|x| <= 255`,
/// `|w| <= 128`, so it cannot overflow).
#[inline(always)]
fn dot16(w: &[i16], x: &[i16]) -> i32 {
    w.iter().zip(x).map(|(&a, &b)| a as i32 * b as i32).sum()
}

with_avx2_copy! {
/// Per-channel affine (batch norm) in place on one image: channel `c` uses entry
/// `offset + c` of the weight, bias and requantisation tables.
pub(crate) fn affine / affine_portable(
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
        #[cfg(all(any(feature = "std", test), target_arch = "x86_64"))]
        if has_avx2() {
            // SAFETY: the CPU was just checked to support AVX2.
            if unsafe { super::int8_avx2::affine(ch, &channel, in_zp, wc) } {
                continue;
            }
        }
        for v in ch {
            *v = channel.apply((*v as i32 - in_zp) * wc);
        }
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

#[cfg(test)]
pub(super) mod tests {
    //! The AVX2 kernels against the portable loops, which must give the same bits: on
    //! random layers (proptest) and on the extreme accumulators, shifts and zero points of
    //! the requantisation. On a CPU without AVX2 both sides run the portable code.

    use super::*;
    use crate::format::{ConvParams, DType};
    use crate::Shape;
    use core::cell::Cell;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    std::thread_local! {
        /// Set while [`portable_only`] runs: the kernels skip their AVX2 code.
        pub(crate) static PORTABLE_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` with the AVX2 kernels turned off on this thread.
    pub(crate) fn portable_only<R>(f: impl FnOnce() -> R) -> R {
        PORTABLE_ONLY.with(|p| p.set(true));
        let out = f();
        PORTABLE_ONLY.with(|p| p.set(false));
        out
    }

    fn i32_tensor(bytes: &[u8]) -> Tensor<'_> {
        Tensor {
            dtype: DType::I32,
            rank: 1,
            dims: [bytes.len() / 4, 1, 1, 1],
            bytes,
        }
    }

    fn le_bytes(values: &[i32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// The bias and `(multiplier, shift)` bytes of `channels` output channels.
    struct RequantBytes {
        bias: Vec<u8>,
        pairs: Vec<u8>,
        out_zp: i32,
    }

    impl RequantBytes {
        fn new(bias: &[i32], pairs: &[(i32, i32)], out_zp: i32) -> Self {
            let flat: Vec<i32> = pairs.iter().flat_map(|&(m, s)| [m, s]).collect();
            Self {
                bias: le_bytes(bias),
                pairs: le_bytes(&flat),
                out_zp,
            }
        }

        fn requant(&self) -> Requant<'_> {
            Requant {
                bias: i32_tensor(&self.bias),
                pairs: i32_tensor(&self.pairs),
                out_zp: self.out_zp,
            }
        }
    }

    /// A valid `(multiplier, shift)` pair: multiplier 0 or in `[2^30, 2^31)`.
    fn pair() -> impl Strategy<Value = (i32, i32)> {
        let multiplier = prop_oneof![Just(0), (1i32 << 30)..=i32::MAX];
        (multiplier, -31i32..=30)
    }

    fn channels(n: usize) -> impl Strategy<Value = (Vec<i32>, Vec<(i32, i32)>, i32)> {
        let bias = prop_oneof![Just(i32::MIN), Just(i32::MAX), -100_000i32..100_000];
        (
            proptest::collection::vec(bias, n),
            proptest::collection::vec(pair(), n),
            -128i32..=127,
        )
    }

    /// Edge values of an i32 accumulator.
    const EDGES: [i32; 11] = [
        i32::MIN,
        i32::MIN + 1,
        -(1 << 30),
        -65_536,
        -1,
        0,
        1,
        65_535,
        1 << 30,
        i32::MAX - 1,
        i32::MAX,
    ];

    #[test]
    fn requantize_matches_scalar_on_edges() {
        let multipliers = [0, 1 << 30, (1 << 30) + 1, 1_518_500_250, i32::MAX];
        let accumulators: Vec<i32> = EDGES
            .iter()
            .copied()
            .chain((0..21).map(|i| (i * 104_729 - 1_000_000) * (i % 3 + 1)))
            .collect();
        for multiplier in multipliers {
            for shift in -31..=30 {
                for bias in [i32::MIN, -1_000, 0, 7, i32::MAX] {
                    for out_zp in [-128, -3, 0, 127] {
                        let channel = ChannelRequant {
                            bias,
                            multiplier,
                            shift,
                            out_zp,
                        };
                        let want: Vec<i8> =
                            accumulators.iter().map(|&a| channel.apply(a)).collect();
                        let mut got = vec![0i8; accumulators.len()];
                        requantize(&accumulators, &channel, &mut got);
                        assert_eq!(
                            got, want,
                            "m {multiplier} shift {shift} bias {bias} zp {out_zp}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn requantize_negative_multiplier_falls_back() {
        let channel = ChannelRequant {
            bias: 0,
            multiplier: i32::MIN,
            shift: 0,
            out_zp: 0,
        };
        let want: Vec<i8> = EDGES.iter().map(|&a| channel.apply(a)).collect();
        let mut got = vec![0i8; EDGES.len()];
        requantize(&EDGES, &channel, &mut got);
        assert_eq!(got, want);
    }

    /// A transposed convolution or convolution case: geometry, weights, input and
    /// requantisation.
    #[derive(Debug)]
    struct Case {
        g: ConvGeometry,
        w: Vec<i8>,
        x: Vec<i8>,
        in_zp: i32,
        bias: Vec<i32>,
        pairs: Vec<(i32, i32)>,
        out_zp: i32,
    }

    prop_compose! {
        fn geometry(transposed: bool)(
            in_c in 1usize..40, ih in 1usize..9, iw in 1usize..9, out_c in 1usize..4,
            kernel in (1usize..5, 1usize..5), stride in (1usize..3, 1usize..3),
            pad in (0usize..3, 0usize..3),
        ) -> Option<ConvGeometry> {
            let (pad_h, pad_w) = (pad.0.min(kernel.0 - 1), pad.1.min(kernel.1 - 1));
            let out = |i: usize, k: usize, s: usize, p: usize| if transposed {
                ((i - 1) * s + k).checked_sub(2 * p).filter(|&o| o > 0)
            } else {
                (i + 2 * p).checked_sub(k).map(|d| d / s + 1)
            };
            let oh = out(ih, kernel.0, stride.0, pad_h)?;
            let ow = out(iw, kernel.1, stride.1, pad_w)?;
            Some(ConvGeometry {
                input: Shape::new(in_c, ih, iw),
                output: Shape::new(out_c, oh, ow),
                p: ConvParams {
                    out_channels: out_c,
                    kernel,
                    stride,
                    padding: (pad_h, pad_w),
                    output_padding: (0, 0),
                },
            })
        }
    }

    fn case(transposed: bool) -> impl Strategy<Value = Case> {
        geometry(transposed)
            .prop_filter("the input fits the kernel", Option::is_some)
            .prop_flat_map(|g| {
                let g = g.unwrap_or_else(|| unreachable!());
                let weights = g.patch_len() * g.output.channels;
                let inputs = g.input.channels * g.in_plane();
                (
                    Just(g),
                    proptest::collection::vec(any::<i8>(), weights),
                    proptest::collection::vec(any::<i8>(), inputs),
                    -128i32..=127,
                    channels(g.output.channels),
                )
            })
            .prop_map(|(g, w, x, in_zp, (bias, pairs, out_zp))| Case {
                g,
                w,
                x,
                in_zp,
                bias,
                pairs,
                out_zp,
            })
    }

    fn run_transposed(c: &Case, layout: TransposedLayout) -> Vec<i8> {
        let rq_bytes = RequantBytes::new(&c.bias, &c.pairs, c.out_zp);
        let rq = rq_bytes.requant();
        let temp_len = conv_transpose2d_temp(&c.g).unwrap_or(0);
        let mut temp = vec![0u32; temp_len.div_ceil(4)];
        // SAFETY: u32 storage viewed as bytes; u8 has no alignment or validity needs.
        let temp = unsafe {
            core::slice::from_raw_parts_mut(temp.as_mut_ptr().cast::<u8>(), temp.len() * 4)
        };
        let mut y = vec![0i8; c.g.output.channels * c.g.out_plane()];
        conv_transpose2d(&c.g, &c.w, layout, &rq, c.in_zp, &c.x, &mut y, temp);
        y
    }

    fn run_conv(c: &Case) -> Vec<i8> {
        let rq_bytes = RequantBytes::new(&c.bias, &c.pairs, c.out_zp);
        let mut col = vec![0i16; c.g.out_plane() * c.g.patch_len()];
        let mut y = vec![0i8; c.g.output.channels * c.g.out_plane()];
        conv2d(
            &c.g,
            &c.w,
            &rq_bytes.requant(),
            c.in_zp,
            &c.x,
            &mut y,
            &mut col,
        );
        y
    }

    proptest! {
        #[test]
        fn conv_transpose_avx2_matches_portable(c in case(true)) {
            for layout in [TransposedLayout::OutputMajor, TransposedLayout::InputMajor] {
                let portable = portable_only(|| run_transposed(&c, layout));
                prop_assert_eq!(run_transposed(&c, layout), portable, "{:?}", layout);
            }
        }

        #[test]
        fn conv2d_avx2_matches_portable(c in case(false)) {
            let portable = portable_only(|| run_conv(&c));
            prop_assert_eq!(run_conv(&c), portable);
        }

        #[test]
        fn affine_avx2_matches_portable(
            plane in 1usize..40,
            x in proptest::collection::vec(any::<i8>(), 3 * 40),
            w in proptest::collection::vec(any::<i8>(), 3),
            in_zp in -128i32..=127,
            (bias, pairs, out_zp) in channels(3),
        ) {
            let rq_bytes = RequantBytes::new(&bias, &pairs, out_zp);
            let rq = rq_bytes.requant();
            let mut fast = x[..3 * plane].to_vec();
            let mut portable = fast.clone();
            affine(&mut fast, &w, &rq, in_zp, 0, plane);
            portable_only(|| affine(&mut portable, &w, &rq, in_zp, 0, plane));
            prop_assert_eq!(fast, portable);
        }

        #[test]
        fn dense_avx2_matches_portable(
            in_len in 1usize..80,
            batch in 1usize..3,
            seed_w in proptest::collection::vec(any::<i8>(), 80 * 9),
            x in proptest::collection::vec(any::<i8>(), 80 * 2),
            zero_point in -128i32..=127,
            (bias, pairs, out_zp) in channels(9),
        ) {
            let rq_bytes = RequantBytes::new(&bias, &pairs, out_zp);
            let rq = rq_bytes.requant();
            let w = &seed_w[..9 * in_len];
            let input = DenseInput::Int8 { x: &x[..batch * in_len], zero_point };
            let mut x16 = vec![0i16; in_len];
            let (mut fast, mut portable) = (vec![0i8; batch * 9], vec![0i8; batch * 9]);
            dense(w, &rq, input, &mut fast, &mut x16);
            portable_only(|| dense(w, &rq, input, &mut portable, &mut x16));
            prop_assert_eq!(fast, portable);
        }
    }
}
