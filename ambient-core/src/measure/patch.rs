//! The random `k`×`k` patch shared by Block-Patch, Keep-Patch and Extract-Patch.

use super::{check_len, checked_image_len, MeasureError};
use crate::sampler::Sampler;
use crate::Shape;

/// A patch side validated for one image shape, and the draw of its position.
///
/// The top-left corner `(i, j)` is uniform over every position where the patch fits:
/// `i = below(H - k + 1)` first, then `j = below(W - k + 1)` (see
/// [`Sampler::below`], which makes no draw when its range has one value). The reference
/// code draws `choice(H - k)`, which never places the patch at the last row or column
/// offset and fails when `k` equals the image side. Including the last offset makes every
/// pixel equally likely to be covered at the border too, and allows `k = H`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct PatchGeometry {
    pub(super) shape: Shape,
    pub(super) len: usize,
    pub(super) side: usize,
}

impl PatchGeometry {
    /// Validates that `side` is in `1..=min(H, W)`.
    pub(super) fn new(shape: Shape, side: usize) -> Result<Self, MeasureError> {
        let len = checked_image_len(shape)?;
        if side == 0 || side > shape.height || side > shape.width {
            return Err(MeasureError::InvalidPatch {
                patch: side,
                height: shape.height,
                width: shape.width,
            });
        }
        Ok(Self { shape, len, side })
    }

    /// Draws the top-left corner `(row, column)` for `seed`.
    pub(super) fn position(&self, seed: u64) -> (usize, usize) {
        let mut sampler = Sampler::new(seed);
        // Both ranges are at most the image side, which `checked_image_len` keeps below
        // i32::MAX, so they fit in u32.
        let row = sampler.below((self.shape.height - self.side + 1) as u32);
        let column = sampler.below((self.shape.width - self.side + 1) as u32);
        (row as usize, column as usize)
    }

    /// Calls `visit(index, inside)` for every image value in storage order, with `inside`
    /// true when the value lies in the patch at `corner` (the same patch in every channel).
    pub(super) fn for_each_value(
        &self,
        corner: (usize, usize),
        mut visit: impl FnMut(usize, bool),
    ) {
        let (top, left) = corner;
        let mut index = 0;
        for _ in 0..self.shape.channels {
            for r in 0..self.shape.height {
                let row_inside = (top..top + self.side).contains(&r);
                for c in 0..self.shape.width {
                    visit(index, row_inside && (left..left + self.side).contains(&c));
                    index += 1;
                }
            }
        }
    }

    /// Writes `y = θ ⊙ x` for the patch mask that `seed` draws: values inside the patch
    /// are kept when `keep_inside` is true (Keep-Patch) and zeroed otherwise (Block-Patch).
    pub(super) fn measure_masked(
        &self,
        keep_inside: bool,
        x: &[f32],
        seed: u64,
        y: &mut [f32],
    ) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("y", self.len, y.len())?;
        self.for_each_value(self.position(seed), |i, inside| {
            y[i] = if inside == keep_inside { x[i] } else { 0.0 };
        });
        Ok(())
    }

    /// Writes the 0/1 patch mask that `seed` draws, 1 where [`Self::measure_masked`]
    /// keeps a value.
    pub(super) fn write_mask(
        &self,
        keep_inside: bool,
        seed: u64,
        theta: &mut [f32],
    ) -> Result<(), MeasureError> {
        check_len("theta", self.len, theta.len())?;
        self.for_each_value(self.position(seed), |i, inside| {
            theta[i] = if inside == keep_inside { 1.0 } else { 0.0 };
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_covers_every_offset() {
        let geometry = PatchGeometry::new(Shape::new(1, 4, 5), 2).unwrap();
        let mut seen = [[false; 4]; 3];
        for seed in 0..500 {
            let (i, j) = geometry.position(seed);
            assert!(i <= 2, "corner ({i}, {j})");
            assert!(j <= 3, "corner ({i}, {j})");
            seen[i][j] = true;
        }
        assert!(seen.iter().flatten().all(|&s| s), "{seen:?}");
    }

    #[test]
    fn full_size_patch_sits_at_origin() {
        let geometry = PatchGeometry::new(Shape::new(2, 4, 4), 4).unwrap();
        for seed in 0..10 {
            assert_eq!(geometry.position(seed), (0, 0));
        }
    }

    #[test]
    fn rejects_patch_outside_image() {
        for (side, height, width) in [(0, 4, 4), (5, 4, 4), (4, 3, 8), (4, 8, 3)] {
            assert_eq!(
                PatchGeometry::new(Shape::new(1, height, width), side),
                Err(MeasureError::InvalidPatch {
                    patch: side,
                    height,
                    width
                })
            );
        }
    }
}
