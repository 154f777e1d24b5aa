//! Block-Patch: a `k`×`k` patch at a uniformly random position is zeroed.

use super::patch::PatchGeometry;
use super::{MeasureError, Measurement};
use crate::Shape;

/// Block-Patch: the values of a `k`×`k` patch (the same patch in every channel) are zeroed
/// and the rest are kept unchanged (no rescaling, as in the reference code).
///
/// θ is the full 0/1 mask, one value per image value in storage order:
/// 0 inside the patch and 1 outside.
/// `y = θ ⊙ x`, and `output_len` equals the image size. [`BlockPatch::position`] returns
/// the patch's top-left corner for a seed, for callers that build the mask themselves.
///
/// Order of draws: the corner row `i = below(H - k + 1)`, then the corner column
/// `j = below(W - k + 1)`. Every offset where the patch fits is possible, including the
/// last one, which the reference code's `choice(H - k)` never draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockPatch {
    geometry: PatchGeometry,
}

impl BlockPatch {
    /// Builds Block-Patch for images of `shape`; the side `k` must be in `1..=min(H, W)`.
    pub fn new(shape: Shape, k: usize) -> Result<Self, MeasureError> {
        Ok(Self {
            geometry: PatchGeometry::new(shape, k)?,
        })
    }

    /// Returns the patch side `k`.
    pub fn patch(&self) -> usize {
        self.geometry.side
    }

    /// Returns the top-left corner `(row, column)` of the patch that `seed` draws.
    pub fn position(&self, seed: u64) -> (usize, usize) {
        self.geometry.position(seed)
    }
}

impl Measurement for BlockPatch {
    fn input_shape(&self) -> Shape {
        self.geometry.shape
    }

    fn output_len(&self) -> usize {
        self.geometry.len
    }

    fn theta_len(&self) -> usize {
        self.geometry.len
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        self.geometry.measure_masked(false, x, seed, y)
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        self.geometry.write_mask(false, seed, theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::Sampler;

    fn image_4x4() -> [f32; 16] {
        core::array::from_fn(|i| (i + 1) as f32)
    }

    #[test]
    fn zeroes_patch_by_hand() {
        let op = BlockPatch::new(Shape::new(1, 4, 4), 2).unwrap();
        let x = image_4x4();
        let mut y = [0.0; 16];
        op.measure(&x, 5, &mut y).unwrap();

        // Seed 5 draws the corner (1, 0) (pinned in the value-stability tests).
        assert_eq!(op.position(5), (1, 0));
        #[rustfmt::skip]
        let expected = [
            1.0, 2.0, 3.0, 4.0,
            0.0, 0.0, 7.0, 8.0,
            0.0, 0.0, 11.0, 12.0,
            13.0, 14.0, 15.0, 16.0,
        ];
        assert_eq!(y, expected);
    }

    #[test]
    fn position_replays_two_draws() {
        let op = BlockPatch::new(Shape::new(3, 6, 8), 3).unwrap();
        for seed in 0..20 {
            let mut s = Sampler::new(seed);
            let expected = (s.below(4) as usize, s.below(6) as usize);
            assert_eq!(op.position(seed), expected, "seed {seed}");
        }
    }

    #[test]
    fn same_patch_in_every_channel() {
        let op = BlockPatch::new(Shape::new(3, 4, 4), 3).unwrap();
        let mut theta = [0.0; 48];
        op.theta(9, &mut theta).unwrap();
        assert_eq!(theta[..16], theta[16..32]);
        assert_eq!(theta[..16], theta[32..]);
        assert_eq!(theta.iter().filter(|&&t| t == 0.0).count(), 27);
    }

    #[test]
    fn rejects_patch_larger_than_image() {
        assert_eq!(
            BlockPatch::new(Shape::new(1, 4, 6), 5),
            Err(MeasureError::InvalidPatch {
                patch: 5,
                height: 4,
                width: 6
            })
        );
    }
}
