//! AVX2 kernels of the int8 path, run where the CPU has AVX2 (checked at run time by the
//! callers in [`super::int8`]).
//!
//! They compute the same integer sums as the portable loops, in another order. Integer
//! addition is associative and no partial sum can overflow i32 (at most
//! [`super::int8::MAX_DEPTH`] products of `|x| <= 255` and `|w| <= 128`), so the results are
//! the same bits.

use core::arch::x86_64::{
    __m128i, __m256i, _mm256_add_epi32, _mm256_add_epi64, _mm256_and_si256, _mm256_blend_epi32,
    _mm256_blendv_epi8, _mm256_castsi256_si128, _mm256_cmpgt_epi32, _mm256_cvtepi8_epi32,
    _mm256_extracti128_si256, _mm256_hadd_epi32, _mm256_loadu_si256, _mm256_madd_epi16,
    _mm256_max_epi32, _mm256_min_epi32, _mm256_mul_epi32, _mm256_mullo_epi32, _mm256_set1_epi32,
    _mm256_set1_epi64x, _mm256_setzero_si256, _mm256_slli_epi64, _mm256_sllv_epi32,
    _mm256_srai_epi32, _mm256_srav_epi32, _mm256_srli_epi64, _mm256_storeu_si256, _mm256_sub_epi32,
    _mm256_xor_si256, _mm_add_epi32, _mm_loadl_epi64, _mm_storeu_si128,
};

use super::int8::ChannelRequant;

/// i16 lanes of one 256-bit register.
const LANES: usize = 16;

/// Writes `out[j] = Σ_c w[c] · pixels[j·k + c]` with `k = w.len()`, for every `j` of `out`;
/// `pixels` contains at least `out.len() · k` values.
///
/// Four pixels share each load of `w` ([`dot4`]). When `out.len()` is not a multiple of 4,
/// the last group of four overlaps the one before it and writes the same sums again.
///
/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn dot16_pixels(w: &[i16], pixels: &[i16], out: &mut [i32]) {
    let (k, n) = (w.len(), out.len());
    if n < 4 {
        for (j, o) in out.iter_mut().enumerate() {
            let row = &pixels[j * k..(j + 1) * k];
            // SAFETY: AVX2 is enabled for this function.
            *o = unsafe { dot1(w, row) };
        }
        return;
    }
    let mut j = 0;
    while j < n {
        let first = j.min(n - 4);
        let quad = &pixels[first * k..(first + 4) * k];
        // SAFETY: AVX2 is enabled for this function.
        let sums = unsafe { dot4(w, quad) };
        out[first..first + 4].copy_from_slice(&sums);
        j = first + 4;
    }
}

/// Returns the dot products of `w` with the four consecutive rows of `quad`, each
/// `w.len()` values: four 256-bit accumulators take `vpmaddwd` products of 16 depth values
/// at a time, and three horizontal adds reduce them to the four sums. The depth past the
/// last multiple of 16 is added in scalar code.
///
/// # Safety
///
/// The CPU must support AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn dot4(w: &[i16], quad: &[i16]) -> [i32; 4] {
    let k = w.len();
    let full = k - k % LANES;
    let (r0, rest) = quad.split_at(k);
    let (r1, rest) = rest.split_at(k);
    let (r2, r3) = rest.split_at(k);
    let r3 = &r3[..k];
    // SAFETY: every load reads 16 values at offset `c` with `c + 16 <= full <= k` from `w`
    // or from one of the four rows, each `k` values long.
    let mut sums = unsafe {
        let load = |row: &[i16], c: usize| _mm256_loadu_si256(row.as_ptr().add(c).cast());
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm256_setzero_si256(),
            _mm256_setzero_si256(),
            _mm256_setzero_si256(),
            _mm256_setzero_si256(),
        );
        for c in (0..full).step_by(LANES) {
            let wv = load(w, c);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(wv, load(r0, c)));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(wv, load(r1, c)));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(wv, load(r2, c)));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(wv, load(r3, c)));
        }
        // Lane i of the low half of `h` is the sum of the low half of accumulator i, lane
        // i of the high half that of its high half.
        let h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
        let s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
        let mut sums = [0i32; 4];
        _mm_storeu_si128(sums.as_mut_ptr().cast::<__m128i>(), s);
        sums
    };
    for (sum, row) in sums.iter_mut().zip([r0, r1, r2, r3]) {
        *sum += scalar_dot(&w[full..], &row[full..]);
    }
    sums
}

/// Returns the dot product of `w` and `row`, one accumulator wide.
///
/// # Safety
///
/// The CPU must support AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn dot1(w: &[i16], row: &[i16]) -> i32 {
    let k = w.len();
    let full = k - k % LANES;
    let row = &row[..k];
    // SAFETY: every load reads 16 values at offset `c` with `c + 16 <= full <= k`.
    let sum = unsafe {
        let mut acc = _mm256_setzero_si256();
        for c in (0..full).step_by(LANES) {
            let wv = _mm256_loadu_si256(w.as_ptr().add(c).cast());
            let xv = _mm256_loadu_si256(row.as_ptr().add(c).cast());
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(wv, xv));
        }
        let h = _mm256_hadd_epi32(acc, acc);
        let h = _mm256_hadd_epi32(h, h);
        let s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
        let mut sums = [0i32; 4];
        _mm_storeu_si128(sums.as_mut_ptr().cast::<__m128i>(), s);
        sums[0]
    };
    sum + scalar_dot(&w[full..], &row[full..])
}

#[inline(always)]
fn scalar_dot(w: &[i16], x: &[i16]) -> i32 {
    w.iter().zip(x).map(|(&a, &b)| a as i32 * b as i32).sum()
}

/// [`ChannelRequant`] with its shift split into the left and right shifts of
/// `multiply_by_quantized_multiplier`, broadcast to eight lanes.
struct RequantLanes {
    bias: __m256i,
    multiplier: __m256i,
    left: __m256i,
    right: __m256i,
    out_zp: __m256i,
}

impl RequantLanes {
    /// Broadcasts `c`, or returns `None` for a negative multiplier, which the reader never
    /// accepts and [`requantize8`] does not handle.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(c: &ChannelRequant) -> Option<Self> {
        if c.multiplier < 0 {
            return None;
        }
        Some(Self {
            bias: _mm256_set1_epi32(c.bias),
            multiplier: _mm256_set1_epi32(c.multiplier),
            left: _mm256_set1_epi32(c.shift.clamp(0, 30)),
            right: _mm256_set1_epi32((-c.shift).clamp(0, 31)),
            out_zp: _mm256_set1_epi32(c.out_zp),
        })
    }
}

/// Returns `a + b` per i32 lane, saturating as `i32::saturating_add` does.
#[inline]
#[target_feature(enable = "avx2")]
fn saturating_add(a: __m256i, b: __m256i) -> __m256i {
    let sum = _mm256_add_epi32(a, b);
    // Signed overflow: both operands have the sign the sum lacks.
    let overflow = _mm256_and_si256(_mm256_xor_si256(a, sum), _mm256_xor_si256(b, sum));
    let limit = _mm256_xor_si256(_mm256_srai_epi32::<31>(a), _mm256_set1_epi32(i32::MAX));
    _mm256_blendv_epi8(sum, limit, _mm256_srai_epi32::<31>(overflow))
}

/// Requantises eight accumulators exactly as `ChannelRequant::apply` does, and returns the
/// outputs as i32 lanes in `[-128, 127]`.
///
/// The steps of `multiply_by_quantized_multiplier`: the saturating left shift compares
/// against `i32::MAX >> left` and `i32::MIN >> left`. The rounding doubling high multiply
/// with a multiplier `m >= 0` is `floor((a·m + 2^30) / 2^31)` (both of its nudges give
/// that), computed in 64-bit lanes whose bits 31 to 62 are the result. The rounding right
/// shift follows gemmlowp's `RoundingDivideByPOT` with per-lane shifts.
#[inline]
#[target_feature(enable = "avx2")]
fn requantize8(acc: __m256i, r: &RequantLanes) -> __m256i {
    let x = saturating_add(acc, r.bias);

    let max = _mm256_set1_epi32(i32::MAX);
    let min = _mm256_set1_epi32(i32::MIN);
    let shifted = _mm256_sllv_epi32(x, r.left);
    let over = _mm256_cmpgt_epi32(x, _mm256_srav_epi32(max, r.left));
    let under = _mm256_cmpgt_epi32(_mm256_srav_epi32(min, r.left), x);
    let shifted = _mm256_blendv_epi8(_mm256_blendv_epi8(shifted, max, over), min, under);

    let nudge = _mm256_set1_epi64x(1 << 30);
    let even = _mm256_mul_epi32(shifted, r.multiplier);
    let odd = _mm256_mul_epi32(_mm256_srli_epi64::<32>(shifted), r.multiplier);
    let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(even, nudge));
    let odd = _mm256_srli_epi64::<31>(_mm256_add_epi64(odd, nudge));
    let high = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));

    // mask = 2^right - 1 (i32::MAX for right = 31, by wrapping), threshold = mask / 2 plus
    // one for negative values.
    let mask = _mm256_sub_epi32(
        _mm256_sllv_epi32(_mm256_set1_epi32(1), r.right),
        _mm256_set1_epi32(1),
    );
    let remainder = _mm256_and_si256(high, mask);
    let negative = _mm256_srai_epi32::<31>(high);
    let threshold = _mm256_sub_epi32(_mm256_srav_epi32(mask, _mm256_set1_epi32(1)), negative);
    let round_up = _mm256_cmpgt_epi32(remainder, threshold);
    let v = _mm256_sub_epi32(_mm256_srav_epi32(high, r.right), round_up);

    let v = saturating_add(v, r.out_zp);
    _mm256_max_epi32(
        _mm256_min_epi32(v, _mm256_set1_epi32(127)),
        _mm256_set1_epi32(-128),
    )
}

/// Stores the eight i32 lanes of `v`, each in `[-128, 127]`, as i8 into `out[..8]`.
#[inline]
#[target_feature(enable = "avx2")]
fn store_i8(v: __m256i, out: &mut [i8]) {
    let mut lanes = [0i32; 8];
    // SAFETY: `lanes` has room for the eight i32 of one 256-bit store.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
    for (o, l) in out[..8].iter_mut().zip(lanes) {
        *o = l as i8;
    }
}

/// Writes `out[i] = c.apply(acc[i])` for the accumulators of one output channel; returns
/// `false`, writing nothing, for a multiplier [`requantize8`] does not handle.
///
/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn requantize(acc: &[i32], c: &ChannelRequant, out: &mut [i8]) -> bool {
    let Some(lanes) = RequantLanes::new(c) else {
        return false;
    };
    let mut acc_blocks = acc.chunks_exact(8);
    let mut out_blocks = out.chunks_exact_mut(8);
    for (a, o) in (&mut acc_blocks).zip(&mut out_blocks) {
        // SAFETY: `a` contains the eight i32 of one 256-bit load.
        let v = unsafe { _mm256_loadu_si256(a.as_ptr().cast()) };
        store_i8(requantize8(v, &lanes), o);
    }
    for (&a, o) in acc_blocks
        .remainder()
        .iter()
        .zip(out_blocks.into_remainder())
    {
        *o = c.apply(a);
    }
    true
}

/// Applies `x ← c.apply((x - in_zp) · weight)` to the values of one channel in place (the
/// int8 batch norm); returns `false`, changing nothing, for a multiplier [`requantize8`]
/// does not handle.
///
/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn affine(x: &mut [i8], c: &ChannelRequant, in_zp: i32, weight: i32) -> bool {
    let Some(lanes) = RequantLanes::new(c) else {
        return false;
    };
    let (zp, w) = (_mm256_set1_epi32(in_zp), _mm256_set1_epi32(weight));
    let mut blocks = x.chunks_exact_mut(8);
    for block in &mut blocks {
        // SAFETY: `block` contains the eight bytes of one 64-bit load.
        let bytes = unsafe { _mm_loadl_epi64(block.as_ptr().cast()) };
        let centred = _mm256_sub_epi32(_mm256_cvtepi8_epi32(bytes), zp);
        store_i8(requantize8(_mm256_mullo_epi32(centred, w), &lanes), block);
    }
    for v in blocks.into_remainder() {
        *v = c.apply((*v as i32 - in_zp) * weight);
    }
    true
}
