//! int8 quantisation arithmetic in the TensorFlow Lite convention, shared by the device
//! (requantisation) and the exporter (choosing scales, quantising weights, building lookup
//! tables), so both sides run one implementation.
//!
//! - Activations: asymmetric per tensor, `real = scale * (q - zero_point)`, `q` in
//!   `[-128, 127]`.
//! - Weights: symmetric per output channel, `q` in `[-127, 127]`, zero point 0.
//! - Bias: i32 with scale `input_scale * weight_scale`.
//! - Requantisation: an i32 accumulator times `input_scale * weight_scale / output_scale`,
//!   applied as a Q31 multiplier and a power-of-two shift with TensorFlow Lite's rounding
//!   (`MultiplyByQuantizedMultiplier`: a saturating rounding doubling high multiply, then a
//!   rounding right shift).

use crate::format::QuantParams;

/// The left shift of TensorFlow Lite's int8 add, which keeps precision before the operands
/// are rescaled to a common scale.
pub const ADD_LEFT_SHIFT: u32 = 20;

/// Returns the rounded high half of `2 * a * b`, saturating the one overflowing case
/// `a = b = i32::MIN` (gemmlowp's `SaturatingRoundingDoublingHighMul`).
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge = if ab >= 0 {
        1i64 << 30
    } else {
        1 - (1i64 << 30)
    };
    // Division truncates toward zero, as C++'s does; a shift would floor instead.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// Divides by `2^exponent` rounding to nearest, ties away from zero (gemmlowp's
/// `RoundingDivideByPOT`); `exponent <= 31`.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    let exponent = exponent.min(31);
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// Multiplies `x` by the real number `multiplier * 2^(shift - 31)` with TensorFlow Lite's
/// rounding. A positive shift is applied first as a left shift, which saturates here where
/// TensorFlow Lite's C++ would overflow.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.clamp(0, 30) as u32;
    let right = (-shift).clamp(0, 31) as u32;
    let shifted = x.saturating_mul(1 << left);
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        right,
    )
}

/// Returns whether a stored `(multiplier, shift)` pair is one [`quantize_multiplier`] can
/// produce: multiplier 0, or in `[2^30, 2^31)`, with the shift in `[-31, 30]`.
pub fn is_valid_multiplier(multiplier: i32, shift: i32) -> bool {
    (multiplier == 0 || multiplier >= 1 << 30) && (-31..=30).contains(&shift)
}

/// Splits a real multiplier into a Q31 multiplier and a shift, so that
/// `real ≈ multiplier * 2^(shift - 31)` (TensorFlow Lite's `QuantizeMultiplier`). Zero,
/// negative, non-finite and tiny (below 2^-32) values give `(0, 0)`; values of 2^30 and more
/// saturate.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if !(real.is_finite() && real > 0.0) {
        return (0, 0);
    }
    let (fraction, mut shift) = frexp(real);
    let mut q = libm::round(fraction * (1u64 << 31) as f64) as i64;
    if q == 1i64 << 31 {
        q /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    if shift > 30 {
        return (i32::MAX, 30);
    }
    (q as i32, shift)
}

/// Splits a positive, finite `x` into `fraction * 2^exponent` with `fraction` in `[0.5, 1)`.
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7FF) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        let (f, e) = frexp(x * (1u64 << 54) as f64);
        return (f, e - 54);
    }
    let fraction = f64::from_bits((bits & !(0x7FFu64 << 52)) | (1022u64 << 52));
    (fraction, biased - 1022)
}

/// Chooses per-tensor activation parameters covering `[min, max]` (extended to include 0,
/// so that zero padding is exact), as TensorFlow Lite's `ChooseQuantizationParams` does for
/// int8. Returns `None` when a bound is not finite or `min > max`.
pub fn choose_quant_params(min: f32, max: f32) -> Option<QuantParams> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return None;
    }
    let min = (min as f64).min(0.0);
    let max = (max as f64).max(0.0);
    if max == min {
        return Some(QuantParams {
            scale: 1.0,
            zero_point: 0,
        });
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = (max - min) / (qmax - qmin);
    let from_min = qmin - min / scale;
    let from_max = qmax - max / scale;
    let from_min_error = qmin.abs() + (min / scale).abs();
    let from_max_error = qmax.abs() + (max / scale).abs();
    let zero_point = if from_min_error < from_max_error {
        from_min
    } else {
        from_max
    };
    let zero_point = libm::round(zero_point.clamp(qmin, qmax)) as i32;
    let scale = scale as f32;
    (scale > 0.0 && scale.is_finite()).then_some(QuantParams { scale, zero_point })
}

/// Quantises one real value: `clamp(round(x / scale) + zero_point, -128, 127)`, rounding
/// half away from zero. Plain f32 division and `libm::roundf` give the same bits on every
/// IEEE 754 target.
#[inline]
pub fn quantize(x: f32, q: QuantParams) -> i8 {
    let v = libm::roundf(x / q.scale) as i32;
    v.saturating_add(q.zero_point).clamp(-128, 127) as i8
}

/// The largest magnitude of a 16-bit quantised latent value; symmetric, so that the range
/// has no extra negative level.
pub const WIDE_MAX: i32 = 32_767;

/// Chooses the symmetric 16-bit parameters of a latent input in `[min, max]`: zero point
/// 0, scale `max(|min|, |max|) / 32767`. Returns `None` when a bound is not finite or
/// `min > max`.
pub fn choose_wide_params(min: f32, max: f32) -> Option<QuantParams> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return None;
    }
    let bound = min.abs().max(max.abs());
    let scale = if bound == 0.0 {
        1.0
    } else {
        bound / WIDE_MAX as f32
    };
    (scale > 0.0 && scale.is_finite()).then_some(QuantParams {
        scale,
        zero_point: 0,
    })
}

/// Quantises one real value to 16 bits with zero point 0: `clamp(round(x / scale), -32767,
/// 32767)`, rounding half away from zero, bit-identical on every IEEE 754 target as
/// [`quantize`] is.
#[inline]
pub fn quantize_wide(x: f32, scale: f32) -> i16 {
    (libm::roundf(x / scale) as i32).clamp(-WIDE_MAX, WIDE_MAX) as i16
}

/// Returns the real value of a quantised one: `scale * (q - zero_point)`.
#[inline]
pub fn dequantize(v: i8, q: QuantParams) -> f32 {
    (v as i32 - q.zero_point) as f32 * q.scale
}

/// Quantises weights symmetrically per channel. `weights` is viewed as `[outer, channels,
/// inner]` (dense `[out, in]`: `(1, out, in)`; convolution `[out, in, kh, kw]`:
/// `(1, out, in*kh*kw)`; transposed convolution `[in, out, kh, kw]`: `(in, out, kh*kw)`;
/// a batch-norm scale `[c]`: `(1, c, 1)`). Writes `q` (same length) and one scale per channel
/// (`max |w| / 127`, or 1 for an all-zero channel). Returns `false`, writing nothing, when
/// the lengths disagree or a weight is not finite.
pub fn quantize_per_channel(
    weights: &[f32],
    outer: usize,
    channels: usize,
    inner: usize,
    q: &mut [i8],
    scales: &mut [f32],
) -> bool {
    let n = outer
        .checked_mul(channels)
        .and_then(|v| v.checked_mul(inner));
    if n != Some(weights.len()) || q.len() != weights.len() || scales.len() != channels {
        return false;
    }
    if weights.iter().any(|w| !w.is_finite()) {
        return false;
    }
    scales.fill(0.0);
    for (i, w) in weights.iter().enumerate() {
        let c = (i / inner) % channels;
        scales[c] = scales[c].max(w.abs());
    }
    for s in scales.iter_mut() {
        *s = if *s == 0.0 { 1.0 } else { *s / 127.0 };
    }
    for (i, (w, out)) in weights.iter().zip(q.iter_mut()).enumerate() {
        let s = scales[(i / inner) % channels];
        *out = (libm::roundf(w / s) as i32).clamp(-127, 127) as i8;
    }
    true
}

/// Quantises a bias to i32 with scale `input_scale * weight_scale`, rounding half away
/// from zero and saturating.
pub fn quantize_bias(bias: f32, input_scale: f32, weight_scale: f32) -> i32 {
    let v = bias as f64 / (input_scale as f64 * weight_scale as f64);
    libm::round(v).clamp(i32::MIN as f64, i32::MAX as f64) as i32
}

/// Returns the requantisation `(multiplier, shift)` of an output channel:
/// `input_scale * weight_scale / output_scale`.
pub fn channel_multiplier(input_scale: f32, weight_scale: f32, output_scale: f32) -> (i32, i32) {
    quantize_multiplier(input_scale as f64 * weight_scale as f64 / output_scale as f64)
}

/// Returns the three `(multiplier, shift)` pairs of an int8 residual add (first operand,
/// second operand, output), as TensorFlow Lite prepares them: both operands are shifted left
/// by [`ADD_LEFT_SHIFT`] and rescaled to twice the larger input scale.
pub fn add_multipliers(a: QuantParams, b: QuantParams, out: QuantParams) -> [(i32, i32); 3] {
    let twice_max = 2.0 * (a.scale as f64).max(b.scale as f64);
    [
        quantize_multiplier(a.scale as f64 / twice_max),
        quantize_multiplier(b.scale as f64 / twice_max),
        quantize_multiplier(twice_max / ((1u64 << ADD_LEFT_SHIFT) as f64 * out.scale as f64)),
    ]
}

/// Fills a 256-entry lookup table of an elementwise function: entry `q + 128` is
/// `quantize(f(dequantize(q, input)), output)`. The device only indexes the table, so the
/// result has the same bits on every target whatever `f` (computed at export) is.
pub fn build_lut(
    input: QuantParams,
    output: QuantParams,
    f: impl Fn(f32) -> f32,
    lut: &mut [i8; 256],
) {
    for (i, entry) in lut.iter_mut().enumerate() {
        let q = i as i32 - 128;
        *entry = quantize(f(dequantize(q as i8, input)), output);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srdhm_hand_values() {
        // 2 * 2^30 * 2^30 / 2^32 = 2^29.
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        // 2 * 3 * 2^30 / 2^32 = 1.5 rounds up to 2. gemmlowp's negative nudge is 1 - 2^30,
        // so -1.5 becomes -2 + 2^-31 and truncates to -1.
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
    }

    #[test]
    fn rounding_divide_ties_away() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
    }

    #[test]
    fn quantize_multiplier_round_trip() {
        for &real in &[0.5, 0.75, 1.0, 0.001_234, 3.5, 1e-7, 0.999_999_999_9] {
            let (m, s) = quantize_multiplier(real);
            assert!(is_valid_multiplier(m, s), "{real}: {m} {s}");
            let back = m as f64 * 2f64.powi(s - 31);
            assert!((back - real).abs() <= real * 1e-9, "{real} -> {back}");
        }
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(1e-12), (0, 0));
        // 0.5 is exactly 2^30 * 2^(0 - 31).
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        // 1 - 2^-40 rounds up to 2^31, which is renormalised.
        assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-40)), (1 << 30, 1));
    }

    #[test]
    fn multiply_matches_real_product() {
        let (m, s) = quantize_multiplier(0.3);
        assert_eq!(multiply_by_quantized_multiplier(100, m, s), 30);
        assert_eq!(multiply_by_quantized_multiplier(-5, m, s), -2); // -1.5 rounds to -2
        let (m, s) = quantize_multiplier(2.5);
        assert_eq!(multiply_by_quantized_multiplier(3, m, s), 8); // 7.5 rounds to 8
    }

    #[test]
    fn choose_params_hand_values() {
        let q = choose_quant_params(0.0, 1.0).unwrap();
        assert_eq!(q.zero_point, -128);
        assert_eq!(q.scale, 1.0 / 255.0);
        let q = choose_quant_params(-1.0, 1.0).unwrap();
        assert_eq!(q.scale, 2.0 / 255.0);
        // Both candidates are 127 - 1 / (2 / 255) = -0.5, which rounds half away to -1.
        assert_eq!(q.zero_point, -1);
        let q = choose_quant_params(2.0, 3.0).unwrap(); // extended to [0, 3]
        assert_eq!(q.zero_point, -128);
        assert!(choose_quant_params(f32::NAN, 1.0).is_none());
        assert!(choose_quant_params(1.0, 0.0).is_none());
    }

    #[test]
    fn per_channel_weights_transposed_layout() {
        // [in = 2, out = 2, k = 1]: channel c is every second element.
        let w = [1.0, -0.5, -2.0, 0.25];
        let mut q = [0i8; 4];
        let mut s = [0f32; 2];
        assert!(quantize_per_channel(&w, 2, 2, 1, &mut q, &mut s));
        assert_eq!(s, [2.0 / 127.0, 0.5 / 127.0]);
        assert_eq!(q, [64, -127, -127, 64]);
        assert!(!quantize_per_channel(&w, 2, 2, 2, &mut q, &mut s));
    }

    #[test]
    fn lut_of_relu_is_clamp_at_zero_point() {
        let p = QuantParams {
            scale: 0.1,
            zero_point: -3,
        };
        let mut lut = [0i8; 256];
        build_lut(p, p, |x| x.max(0.0), &mut lut);
        for q in -128i32..=127 {
            assert_eq!(lut[(q + 128) as usize] as i32, q.max(-3), "q = {q}");
        }
    }
}
