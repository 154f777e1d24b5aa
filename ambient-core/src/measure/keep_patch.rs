//! Keep-Patch: everything outside a random `k`×`k` patch is zeroed.

use super::patch::PatchGeometry;
use super::{MeasureError, Measurement};
use crate::Shape;

/// Keep-Patch: only the values of a `k`×`k` patch (the same patch in every channel) are
/// kept, at their original position; everything else is zeroed. For the same seed its mask
/// is the complement of [`BlockPatch`](super::BlockPatch)'s.
///
/// θ is the full 0/1 mask, one value per image value in storage order:
/// 1 inside the patch and 0 outside.
/// `y = θ ⊙ x`, and `output_len` equals the image size. [`KeepPatch::position`] returns
/// the patch's top-left corner for a seed, for callers that build the mask themselves.
///
/// Order of draws: the corner row `i = below(H - k + 1)`, then the corner column
/// `j = below(W - k + 1)`. Every offset where the patch fits is possible, including the
/// last one, which the reference code's `choice(H - k)` never draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeepPatch {
    geometry: PatchGeometry,
}

impl KeepPatch {
    /// Builds Keep-Patch for images of `shape`; the side `k` must be in `1..=min(H, W)`.
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

impl Measurement for KeepPatch {
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
        self.geometry.measure_masked(true, x, seed, y)
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        self.geometry.write_mask(true, seed, theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_patch_by_hand() {
        let op = KeepPatch::new(Shape::new(1, 4, 4), 2).unwrap();
        let x: [f32; 16] = core::array::from_fn(|i| (i + 1) as f32);
        let mut y = [0.0; 16];
        op.measure(&x, 5, &mut y).unwrap();

        // Seed 5 draws the corner (1, 0), as for Block-Patch.
        assert_eq!(op.position(5), (1, 0));
        #[rustfmt::skip]
        let expected = [
            0.0, 0.0, 0.0, 0.0,
            5.0, 6.0, 0.0, 0.0,
            9.0, 10.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(y, expected);
    }

    #[test]
    fn rejects_zero_patch() {
        assert!(matches!(
            KeepPatch::new(Shape::new(1, 4, 4), 0),
            Err(MeasureError::InvalidPatch { patch: 0, .. })
        ));
    }
}
