//! Block-Pixels: each pixel zeroed independently with probability `p`.

use super::{check_len, check_probability, checked_image_len, MeasureError, Measurement};
use crate::sampler::{uniform_of, Sampler};
use crate::Shape;

/// Mask draws made at a time with [`Sampler::fill_u32`]: the same values as one
/// `uniform` call per value, at a fraction of the time, on 256 bytes of stack.
const MASK_CHUNK: usize = 64;

/// Block-Pixels: each pixel is kept when a uniform draw `u` satisfies `u >= p`, and
/// zeroed otherwise. Kept values are multiplied by `1/(1-p)` when `rescale` is set (the
/// reference code does, so that `E[y] = x`).
///
/// θ is the mask, one value per image value (`0` or the kept scale), replicated across
/// channels when the mask is shared. `y = θ ⊙ x`, except that a dropped value is `+0.0`
/// even where `x` is negative, infinite or NaN. `output_len` equals the image size.
///
/// Order of draws: with `per_channel`, one uniform per value in storage order (channel,
/// then row, then column); otherwise one uniform per pixel (row, then column), shared by
/// every channel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockPixels {
    shape: Shape,
    len: usize,
    p: f32,
    scale: f32,
    per_channel: bool,
}

impl BlockPixels {
    /// Builds Block-Pixels for images of `shape`; `p` must be in `[0, 1)`.
    pub fn new(
        shape: Shape,
        p: f32,
        rescale: bool,
        per_channel: bool,
    ) -> Result<Self, MeasureError> {
        let len = checked_image_len(shape)?;
        check_probability(p)?;
        let scale = if rescale { 1.0 / (1.0 - p) } else { 1.0 };
        Ok(Self {
            shape,
            len,
            p,
            scale,
            per_channel,
        })
    }

    /// Returns the drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// Returns the value a kept pixel is multiplied by (`1/(1-p)` or 1).
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Returns whether each channel has its own mask.
    pub fn per_channel(&self) -> bool {
        self.per_channel
    }

    /// Returns whether the raw draw `u` keeps its value: its uniform reaches `p`.
    fn keeps(&self, u: u32) -> bool {
        uniform_of(u) >= self.p
    }

    /// Calls `visit(start, draws)` with the `count` raw mask draws of `seed` in order,
    /// [`MASK_CHUNK`] at a time, `start` being the index of the chunk's first draw.
    fn for_each_draw_chunk(&self, seed: u64, count: usize, mut visit: impl FnMut(usize, &[u32])) {
        let mut sampler = Sampler::new(seed);
        let mut draws = [0u32; MASK_CHUNK];
        for start in (0..count).step_by(MASK_CHUNK) {
            let chunk = &mut draws[..MASK_CHUNK.min(count - start)];
            sampler.fill_u32(chunk);
            visit(start, chunk);
        }
    }

    /// Calls `visit(index, kept)` for every image value, drawing the mask as the type
    /// documents. The visits are in storage order when each channel has its own mask; a
    /// shared mask visits pixel by pixel, every channel of a pixel together.
    pub(crate) fn for_each_mask(&self, seed: u64, mut visit: impl FnMut(usize, bool)) {
        let plane = self.shape.height * self.shape.width;
        let masks = if self.per_channel { self.len } else { plane };
        self.for_each_draw_chunk(seed, masks, |start, chunk| {
            for (i, &u) in (start..).zip(chunk) {
                let kept = self.keeps(u);
                if self.per_channel {
                    visit(i, kept);
                    continue;
                }
                for c in 0..self.shape.channels {
                    visit(c * plane + i, kept);
                }
            }
        });
    }
}

impl Measurement for BlockPixels {
    fn input_shape(&self) -> Shape {
        self.shape
    }

    fn output_len(&self) -> usize {
        self.len
    }

    fn theta_len(&self) -> usize {
        self.len
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("y", self.len, y.len())?;
        if self.per_channel {
            // The draws of a per-channel mask are in storage order, so each chunk of draws
            // is applied to the matching slices of `x` and `y`, with no branch per value.
            self.for_each_draw_chunk(seed, self.len, |start, chunk| {
                let span = start..start + chunk.len();
                let values = y[span.clone()].iter_mut().zip(&x[span]).zip(chunk);
                for ((yv, &xv), &u) in values {
                    let scaled = xv * self.scale;
                    *yv = if self.keeps(u) { scaled } else { 0.0 };
                }
            });
            return Ok(());
        }
        self.for_each_mask(seed, |i, kept| {
            // Both values are formed first, so this is a select and not a branch, which
            // a random mask would often mispredict.
            let scaled = x[i] * self.scale;
            y[i] = if kept { scaled } else { 0.0 };
        });
        Ok(())
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        check_len("theta", self.len, theta.len())?;
        self.for_each_mask(seed, |i, kept| {
            theta[i] = if kept { self.scale } else { 0.0 };
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::Sampler;

    fn image_4x4() -> [f32; 16] {
        core::array::from_fn(|i| (i + 1) as f32 / 16.0)
    }

    #[test]
    fn keeps_pixels_whose_draw_reaches_p() {
        let op = BlockPixels::new(Shape::new(1, 4, 4), 0.5, true, true).unwrap();
        let x = image_4x4();
        let mut y = [0.0; 16];
        op.measure(&x, 9, &mut y).unwrap();

        // Hand check: replay the documented draws, one uniform per pixel in order.
        let mut s = Sampler::new(9);
        for i in 0..16 {
            let expected = if s.uniform() >= 0.5 { x[i] * 2.0 } else { 0.0 };
            assert_eq!(y[i], expected, "pixel {i}");
        }
    }

    #[test]
    fn chunked_draws_replay_one_by_one() {
        // 3 × 9 × 9 = 243 values: whole chunks of draws and a ragged last one, for both
        // the per-channel mask (storage order) and the shared one (pixel order).
        let shape = Shape::new(3, 9, 9);
        let x: std::vec::Vec<f32> = (0..243).map(|i| i as f32 / 243.0 - 0.25).collect();
        for per_channel in [true, false] {
            let op = BlockPixels::new(shape, 0.4, true, per_channel).unwrap();
            let mut y = [f32::NAN; 243];
            let mut theta = [f32::NAN; 243];
            op.measure(&x, 21, &mut y).unwrap();
            op.theta(21, &mut theta).unwrap();

            let mut s = Sampler::new(21);
            let draws = if per_channel { 243 } else { 81 };
            let kept: std::vec::Vec<bool> = (0..draws).map(|_| s.uniform() >= 0.4).collect();
            for i in 0..243 {
                let k = if per_channel { kept[i] } else { kept[i % 81] };
                let scale = op.scale();
                let want = if k { x[i] * scale } else { 0.0 };
                assert_eq!(y[i], want, "per_channel {per_channel}, value {i}");
                assert_eq!(theta[i], if k { scale } else { 0.0 }, "theta {i}");
            }
        }
    }

    #[test]
    fn measure_equals_theta_times_x() {
        let op = BlockPixels::new(Shape::new(3, 4, 4), 0.3, true, false).unwrap();
        let x: [f32; 48] = core::array::from_fn(|i| i as f32 * 0.1);
        let mut y = [0.0; 48];
        let mut theta = [0.0; 48];
        op.measure(&x, 5, &mut y).unwrap();
        op.theta(5, &mut theta).unwrap();
        for i in 0..48 {
            assert_eq!(y[i], theta[i] * x[i]);
        }
    }

    #[test]
    fn shared_mask_is_the_same_in_every_channel() {
        let op = BlockPixels::new(Shape::new(3, 4, 4), 0.5, false, false).unwrap();
        let mut theta = [0.0; 48];
        op.theta(1, &mut theta).unwrap();
        assert_eq!(theta[..16], theta[16..32]);
        assert_eq!(theta[..16], theta[32..]);
        assert!(theta.iter().all(|&t| t == 0.0 || t == 1.0));
    }

    #[test]
    fn rejects_invalid_parameters() {
        let shape = Shape::new(1, 4, 4);
        for p in [1.0, -0.1, f32::NAN, 2.0] {
            assert!(matches!(
                BlockPixels::new(shape, p, true, true),
                Err(MeasureError::InvalidProbability { .. })
            ));
        }
        assert!(matches!(
            BlockPixels::new(Shape::new(1, 0, 4), 0.5, true, true),
            Err(MeasureError::InvalidShape { .. })
        ));
    }

    #[test]
    fn rejects_wrong_lengths() {
        let op = BlockPixels::new(Shape::new(1, 4, 4), 0.5, true, true).unwrap();
        let mut y = [0.0; 15];
        assert_eq!(
            op.measure(&[0.0; 16], 0, &mut y),
            Err(MeasureError::LengthMismatch {
                what: "y",
                expected: 16,
                actual: 15
            })
        );
    }
}
