//! Extract-Patch: the `k`×`k` patch at a random position, re-centred and zero-padded back
//! to the image size, so its location is lost.

use super::patch::PatchGeometry;
use super::{check_len, MeasureError, Measurement};
use crate::Shape;

/// Extract-Patch: the `k`×`k` patch with top-left corner `(i, j)` is cut out of every
/// channel and placed at the centre of an otherwise zero image of the input's size.
///
/// The patch is placed with `(H - k) / 2` zero rows before it (rounded down) and the rest,
/// `H - k - (H - k) / 2`, after it; the columns likewise with `W`. For an even `H - k` this
/// is the reference code's symmetric padding of `(S - k) // 2`. For an odd `H - k` the
/// reference output is one row short, so this operator puts the extra row after the patch
/// and keeps the image size.
///
/// θ is the corner, `[i, j]` as two `f32` values (exact integers). `output_len` equals the
/// image size.
///
/// Order of draws: `i = below(H - k + 1)`, then `j = below(W - k + 1)`, exactly as
/// Block-Patch, so every offset where the patch fits is possible.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExtractPatch {
    geometry: PatchGeometry,
}

impl ExtractPatch {
    /// Builds Extract-Patch for images of `shape`; `k` must be in `1..=min(H, W)`.
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

    /// Returns where the patch lands in `y`: the number of zero rows above it and of zero
    /// columns left of it.
    pub fn placement(&self) -> (usize, usize) {
        let side = self.geometry.side;
        let shape = self.geometry.shape;
        ((shape.height - side) / 2, (shape.width - side) / 2)
    }
}

impl Measurement for ExtractPatch {
    fn input_shape(&self) -> Shape {
        self.geometry.shape
    }

    fn output_len(&self) -> usize {
        self.geometry.len
    }

    fn theta_len(&self) -> usize {
        2
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.geometry.len, x.len())?;
        check_len("y", self.geometry.len, y.len())?;
        let (top, left) = self.position(seed);
        let (out_top, out_left) = self.placement();
        let Shape { height, width, .. } = self.geometry.shape;
        let plane = height * width;

        y.fill(0.0);
        for (xc, yc) in x.chunks_exact(plane).zip(y.chunks_exact_mut(plane)) {
            for a in 0..self.geometry.side {
                let from = (top + a) * width + left;
                let to = (out_top + a) * width + out_left;
                let side = self.geometry.side;
                yc[to..to + side].copy_from_slice(&xc[from..from + side]);
            }
        }
        Ok(())
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        check_len("theta", 2, theta.len())?;
        let (top, left) = self.position(seed);
        // NOTE: offsets above 2^24 are not exact in f32; such images are far larger than
        // any this crate measures.
        theta[0] = top as f32;
        theta[1] = left as f32;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_4x4() -> [f32; 16] {
        core::array::from_fn(|i| (i + 1) as f32)
    }

    #[test]
    fn re_centres_patch_by_hand() {
        let op = ExtractPatch::new(Shape::new(1, 4, 4), 2).unwrap();
        let x = image_4x4();
        for seed in 0..20 {
            let (i, j) = op.position(seed);
            let mut y = [f32::NAN; 16];
            op.measure(&x, seed, &mut y).unwrap();

            // (4 - 2) / 2 = 1 zero row and column before the patch, 1 after.
            let v = |r: usize, c: usize| x[(i + r) * 4 + j + c];
            #[rustfmt::skip]
            let expected = [
                0.0, 0.0, 0.0, 0.0,
                0.0, v(0, 0), v(0, 1), 0.0,
                0.0, v(1, 0), v(1, 1), 0.0,
                0.0, 0.0, 0.0, 0.0,
            ];
            assert_eq!(y, expected, "seed {seed}, corner ({i}, {j})");
        }
    }

    #[test]
    fn odd_margin_puts_extra_zeros_after() {
        // 5×4 image, k = 2: rows 1 before and 2 after, columns 1 before and 1 after.
        let op = ExtractPatch::new(Shape::new(2, 5, 4), 2).unwrap();
        assert_eq!(op.placement(), (1, 1));
        let x: [f32; 40] = core::array::from_fn(|i| (i + 1) as f32);
        let mut y = [0.0; 40];
        op.measure(&x, 7, &mut y).unwrap();
        let (i, j) = op.position(7);
        for ch in 0..2 {
            for r in 0..5 {
                for c in 0..4 {
                    let inside = (1..3).contains(&r) && (1..3).contains(&c);
                    let expected = if inside {
                        x[ch * 20 + (i + r - 1) * 4 + j + c - 1]
                    } else {
                        0.0
                    };
                    assert_eq!(y[ch * 20 + r * 4 + c], expected, "{ch} {r} {c}");
                }
            }
        }
    }

    #[test]
    fn theta_is_the_corner() {
        let op = ExtractPatch::new(Shape::new(1, 6, 9), 3).unwrap();
        let mut theta = [0.0; 2];
        for seed in 0..20 {
            op.theta(seed, &mut theta).unwrap();
            let (i, j) = op.position(seed);
            assert_eq!(theta, [i as f32, j as f32]);
            assert!(i <= 3, "corner row {i}");
            assert!(j <= 6, "corner column {j}");
        }
    }

    #[test]
    fn full_size_patch_is_identity() {
        let op = ExtractPatch::new(Shape::new(1, 4, 4), 4).unwrap();
        let x = image_4x4();
        let mut y = [0.0; 16];
        op.measure(&x, 1, &mut y).unwrap();
        assert_eq!(y, x);
    }

    #[test]
    fn rejects_bad_patch_and_lengths() {
        assert!(matches!(
            ExtractPatch::new(Shape::new(1, 4, 4), 5),
            Err(MeasureError::InvalidPatch { patch: 5, .. })
        ));
        let op = ExtractPatch::new(Shape::new(1, 4, 4), 2).unwrap();
        assert_eq!(
            op.theta(0, &mut [0.0; 3]),
            Err(MeasureError::LengthMismatch {
                what: "theta",
                expected: 2,
                actual: 3
            })
        );
    }
}
