//! The one θ sampler: every random draw of a measurement comes from here.
//!
//! A measurement is fully determined by its operator, its parameters, the image shape and a
//! 64-bit seed. The host trainer, the C library and firmware all call this code, so that a
//! device and the workstation draw the same θ to the bit. The rules below are pinned by the
//! value-stability tests at the end of this file; changing any of them is a breaking change
//! of the measurement record format.
//!
//! # Generator and seeding
//!
//! The generator is PCG32 (the 64-bit-state LCG with the XSH-RR output function, the same
//! sequence as `rand_pcg::Pcg32::new(seed, STREAM)`, which the tests check) with the fixed
//! stream constant [`STREAM`]. Seeding follows `pcg32_srandom_r` of the PCG reference
//! code: the increment is `(STREAM << 1) | 1`, the state starts at 0, is stepped once,
//! `seed` is added and the state is stepped again. The crate carries its own copy so that
//! [`Sampler::fill_u32`] can step four states at once.
//!
//! # Integer-to-float map
//!
//! A uniform draw in `[0, 1)` takes one `u32` and keeps its top 24 bits:
//! `(u >> 8) as f32 * 2^-24`. Every such value is exactly representable in `f32`.
//! [`Sampler::uniform_open0`] draws in `(0, 1]` as `((u >> 8) + 1) as f32 * 2^-24`.
//!
//! # Gaussian method
//!
//! A standard normal draw is Box-Muller on two fresh uniforms, computed in `f32` with
//! `libm` (never the platform's math library, so every target agrees to the bit):
//! `u1` in `(0, 1]` first, then `u2` in `[0, 1)`, and the result is
//! `sqrtf(-2 * logf(u1)) * cosf(2π * u2)`. The sine branch is discarded, so each Gaussian
//! draw consumes exactly two `u32`s and no state is carried between draws.
//!
//! # Integers in a range
//!
//! [`Sampler::below`] draws an integer in `0..n` by Lemire's multiply-shift with rejection
//! on one `u32` at a time, so it is unbiased.
//!
//! # Seeds of the images in a batch
//!
//! Image `i` of a batch measured with batch seed `s` uses seed [`image_seed`]`(s, i)`,
//! which is SplitMix64 applied to `s + i * 0x9E37_79B9_7F4A_7C15` (wrapping). Each operator
//! documents its own order of draws.

/// The PCG stream selector every measurement uses (the default stream of the PCG
/// reference implementation's `pcg32_random_t` initialiser).
pub const STREAM: u64 = 0xda3e_39cb_94b9_5bdb;

const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;

/// The multiplier of PCG's 64-bit LCG.
const MULTIPLIER: u64 = 6_364_136_223_846_793_005;

/// Returns `(mul, add)` of the LCG step `s -> s * mul + add` composed `draws` times (PCG's
/// `advance`, by repeated squaring in O(log draws) steps).
fn jump(draws: u64, increment: u64) -> (u64, u64) {
    let (mut acc_mul, mut acc_add) = (1u64, 0u64);
    let (mut cur_mul, mut cur_add) = (MULTIPLIER, increment);
    let mut left = draws;
    while left > 0 {
        if left & 1 == 1 {
            acc_mul = acc_mul.wrapping_mul(cur_mul);
            acc_add = acc_add.wrapping_mul(cur_mul).wrapping_add(cur_add);
        }
        cur_add = cur_mul.wrapping_add(1).wrapping_mul(cur_add);
        cur_mul = cur_mul.wrapping_mul(cur_mul);
        left >>= 1;
    }
    (acc_mul, acc_add)
}

/// PCG's XSH-RR output of one 64-bit state.
#[inline(always)]
fn output(state: u64) -> u32 {
    let xorshifted = (((state >> 18) ^ state) >> 27) as u32;
    xorshifted.rotate_right((state >> 59) as u32)
}

/// Returns the uniform value in `[0, 1)` that [`Sampler::uniform`] makes of the raw
/// output `u`, for operators that draw their outputs in bulk with [`Sampler::fill_u32`].
#[inline(always)]
pub(crate) fn uniform_of(u: u32) -> f32 {
    (u >> 8) as f32 * TWO_POW_MINUS_24
}

/// A deterministic source of θ draws, created from one 64-bit seed.
#[derive(Clone, Debug)]
pub struct Sampler {
    state: u64,
    increment: u64,
}

impl Sampler {
    /// Creates the sampler for `seed` (see the module docs for the exact seeding).
    pub fn new(seed: u64) -> Self {
        let increment = (STREAM << 1) | 1;
        let mut s = Self {
            state: 0,
            increment,
        };
        s.step();
        s.state = s.state.wrapping_add(seed);
        s.step();
        s
    }

    #[inline(always)]
    fn step(&mut self) {
        self.state = self
            .state
            .wrapping_mul(MULTIPLIER)
            .wrapping_add(self.increment);
    }

    /// Draws the next raw 32-bit output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.step();
        output(old)
    }

    /// Fills `out` with the next `out.len()` raw outputs, the same values as that many
    /// [`Sampler::next_u32`] calls. Four states advance side by side, each by four steps,
    /// so their multiplications overlap instead of each waiting for the one before.
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        const LANES: usize = 4;
        let mut chunks = out.chunks_exact_mut(LANES);
        if chunks.len() > 0 {
            let (mul, add) = jump(LANES as u64, self.increment);
            let mut lanes = [0u64; LANES];
            for lane in &mut lanes {
                *lane = self.state;
                self.step();
            }
            for chunk in &mut chunks {
                for (o, lane) in chunk.iter_mut().zip(&mut lanes) {
                    *o = output(*lane);
                    *lane = lane.wrapping_mul(mul).wrapping_add(add);
                }
            }
            self.state = lanes[0];
        }
        for o in chunks.into_remainder() {
            *o = self.next_u32();
        }
    }

    /// Draws a uniform value in `[0, 1)` with 24 bits of precision.
    pub fn uniform(&mut self) -> f32 {
        uniform_of(self.next_u32())
    }

    /// Draws a uniform value in `(0, 1]` with 24 bits of precision.
    pub fn uniform_open0(&mut self) -> f32 {
        ((self.next_u32() >> 8) + 1) as f32 * TWO_POW_MINUS_24
    }

    /// Draws a standard normal value by Box-Muller (two `u32` draws, cosine branch).
    pub fn gaussian(&mut self) -> f32 {
        let u1 = self.uniform_open0();
        let u2 = self.uniform();
        let radius = libm::sqrtf(-2.0 * libm::logf(u1));
        radius * libm::cosf(core::f32::consts::TAU * u2)
    }

    /// Draws an integer uniformly in `0..n`; returns 0 when `n` is 0 or 1 without drawing.
    pub fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        // Lemire's method: reject the low products that would bias the result.
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u64::from(self.next_u32()) * u64::from(n);
            if (product as u32) >= threshold {
                return (product >> 32) as u32;
            }
        }
    }

    /// Draws an angle uniformly in `[-π, π)` radians.
    pub fn angle(&mut self) -> f32 {
        core::f32::consts::PI * (2.0 * self.uniform() - 1.0)
    }

    /// Skips `draws` raw `u32` outputs in O(log draws) steps, leaving the sampler where
    /// `draws` calls of [`Sampler::next_u32`] would (each uniform draw is one `u32`).
    ///
    /// Operators use it to jump to a later part of their documented order of draws, for
    /// example to the column mask of Drop-Row-Col, without a buffer.
    pub fn skip(&mut self, draws: u64) {
        let (mul, add) = jump(draws, self.increment);
        self.state = self.state.wrapping_mul(mul).wrapping_add(add);
    }
}

/// Derives the seed of image `index` in a batch measured with `batch_seed`.
pub fn image_seed(batch_seed: u64, index: u64) -> u64 {
    splitmix64(batch_seed.wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

/// One output of the SplitMix64 finaliser on `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The values below were produced by this implementation and cross-checked with an
    // independent Python transcription of pcg32_srandom_r / pcg32_random_r (the PCG
    // reference algorithm) for seed 42 and the stream above.
    #[test]
    fn pcg32_first_outputs_are_stable() {
        let mut s = Sampler::new(42);
        let got: [u32; 4] = core::array::from_fn(|_| s.next_u32());
        assert_eq!(got, PCG32_SEED42);
    }

    const PCG32_SEED42: [u32; 4] = [0x7130_66ea, 0x3c7a_0d56, 0xf424_216a, 0x25c8_9145];

    #[test]
    fn pcg32_matches_rand_pcg() {
        use rand_core::RngCore;
        for seed in [0u64, 1, 42, u64::MAX, 0x9e37_79b9_7f4a_7c15] {
            let mut ours = Sampler::new(seed);
            let mut theirs = rand_pcg::Pcg32::new(seed, STREAM);
            for i in 0..1000 {
                assert_eq!(ours.next_u32(), theirs.next_u32(), "seed {seed}, draw {i}");
            }
            ours.skip(12_345);
            theirs.advance(12_345);
            assert_eq!(ours.next_u32(), theirs.next_u32(), "seed {seed} after skip");
        }
    }

    #[test]
    fn fill_equals_drawing() {
        for len in [0usize, 1, 3, 4, 5, 8, 13, 64, 257] {
            let mut drawn = Sampler::new(9);
            let want: std::vec::Vec<u32> = (0..len).map(|_| drawn.next_u32()).collect();
            let mut filled = Sampler::new(9);
            let mut got = std::vec![0u32; len];
            filled.fill_u32(&mut got);
            assert_eq!(got, want, "length {len}");
            assert_eq!(filled.next_u32(), drawn.next_u32(), "next draw after {len}");
        }
    }

    #[test]
    fn uniform_is_in_unit_interval() {
        let mut s = Sampler::new(7);
        for _ in 0..10_000 {
            let u = s.uniform();
            assert!((0.0..1.0).contains(&u));
            let v = s.uniform_open0();
            assert!(v > 0.0 && v <= 1.0);
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut s = Sampler::new(3);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let k = s.below(7) as usize;
            assert!(k < 7);
            seen[k] = true;
        }
        assert!(seen.iter().all(|&b| b));
        assert_eq!(s.below(0), 0);
        assert_eq!(s.below(1), 0);
    }

    #[test]
    fn gaussian_moments_are_standard() {
        let mut s = Sampler::new(11);
        let n = 200_000;
        let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let g = f64::from(s.gaussian());
            sum += g;
            sum_sq += g * g;
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        // Standard errors are 1/sqrt(n) ≈ 0.0022 for the mean and ≈ 0.0032 for the
        // variance; five of them is a bound a correct sampler essentially never breaks.
        assert!(mean.abs() < 0.012, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "variance {var}");
    }

    #[test]
    fn angle_is_in_half_open_range() {
        let mut s = Sampler::new(5);
        for _ in 0..10_000 {
            let a = s.angle();
            assert!((-core::f32::consts::PI..core::f32::consts::PI).contains(&a));
        }
    }

    #[test]
    fn skip_equals_drawing() {
        for draws in [0u64, 1, 2, 17, 1000] {
            let mut drawn = Sampler::new(8);
            for _ in 0..draws {
                drawn.next_u32();
            }
            let mut skipped = Sampler::new(8);
            skipped.skip(draws);
            assert_eq!(skipped.next_u32(), drawn.next_u32(), "after {draws} draws");
        }
    }

    #[test]
    fn image_seeds_differ_and_are_stable() {
        assert_ne!(image_seed(1, 0), image_seed(1, 1));
        assert_ne!(image_seed(1, 0), image_seed(2, 0));
        assert_eq!(image_seed(0, 0), 0xe220_a839_7b1d_cdaf);
    }
}
