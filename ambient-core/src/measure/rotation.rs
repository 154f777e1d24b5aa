//! The rotation Pad-Rotate-Project applies to the padded image, as a map from each output
//! pixel to its source pixels.

/// A rotation by one angle of a `height × width` image about its centre, sampled per
/// output pixel.
///
/// Output pixel `(r, c)` takes its value from the source coordinates
///
/// ```text
/// dr = r - cr,  dc = c - cc
/// sr = cr + (cos θ · dr + sin θ · dc)
/// sc = cc + (cos θ · dc - sin θ · dr)
/// ```
///
/// with the centre `(cr, cc) = ((height - 1) / 2, (width - 1) / 2)` and every step in
/// `f32` (`cosf` and `sinf` from `libm`). This is the inverse map of
/// `scipy.ndimage.rotate(image, θ in degrees, axes=(1, 0), reshape=False)`: with row 0 at
/// the top, a positive θ turns the picture counterclockwise.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rotation {
    cos: f32,
    sin: f32,
    centre_row: f32,
    centre_col: f32,
    height: usize,
    width: usize,
}

/// One bilinear tap: the flat source index (`-1` outside the image) and its weight (0
/// outside the image).
pub(super) type Tap = (i32, f32);

impl Rotation {
    /// Creates the rotation by `angle` radians of a `height × width` image, both at most
    /// `i32::MAX` pixels in all.
    pub(super) fn new(angle: f32, height: usize, width: usize) -> Self {
        Self {
            cos: libm::cosf(angle),
            sin: libm::sinf(angle),
            centre_row: (height as f32 - 1.0) * 0.5,
            centre_col: (width as f32 - 1.0) * 0.5,
            height,
            width,
        }
    }

    /// Returns the source coordinates `(sr, sc)` of output pixel `(row, col)`.
    fn source(&self, row: usize, col: usize) -> (f32, f32) {
        let dr = row as f32 - self.centre_row;
        let dc = col as f32 - self.centre_col;
        let source_row = self.centre_row + (self.cos * dr + self.sin * dc);
        let source_col = self.centre_col + (self.cos * dc - self.sin * dr);
        (source_row, source_col)
    }

    /// Returns the flat index `row * width + col` of a source pixel given as whole-number
    /// `f32` coordinates, or -1 when it lies outside the image (or is NaN).
    fn flat_index(&self, row: f32, col: f32) -> i32 {
        let inside_rows = row >= 0.0 && row < self.height as f32;
        let inside_cols = col >= 0.0 && col < self.width as f32;
        if inside_rows && inside_cols {
            // The image has at most i32::MAX pixels, so the index fits.
            (row as usize * self.width + col as usize) as i32
        } else {
            -1
        }
    }

    /// Returns the nearest source pixel of output pixel `(row, col)` as a flat index, or
    /// -1 when it lies outside the image.
    ///
    /// Each source coordinate is rounded half up, `floorf(s + 0.5)`, as `scipy.ndimage`
    /// does for order 0.
    pub(super) fn nearest(&self, row: usize, col: usize) -> i32 {
        let (source_row, source_col) = self.source(row, col);
        self.flat_index(
            libm::floorf(source_row + 0.5),
            libm::floorf(source_col + 0.5),
        )
    }

    /// Returns the four bilinear taps of output pixel `(row, col)`.
    ///
    /// With `r0 = floorf(sr)`, `fr = sr - r0` and likewise `c0`, `fc`, the taps are, in
    /// order, `(r0, c0)`, `(r0, c0 + 1)`, `(r0 + 1, c0)`, `(r0 + 1, c0 + 1)` with weights
    /// `(1-fr)(1-fc)`, `(1-fr)fc`, `fr(1-fc)`, `fr·fc`. A tap outside the image reads as
    /// zero: index -1 and weight 0.
    pub(super) fn bilinear(&self, row: usize, col: usize) -> [Tap; 4] {
        let (source_row, source_col) = self.source(row, col);
        let row0 = libm::floorf(source_row);
        let col0 = libm::floorf(source_col);
        let row_frac = source_row - row0;
        let col_frac = source_col - col0;

        let corners = [
            (row0, col0, (1.0 - row_frac) * (1.0 - col_frac)),
            (row0, col0 + 1.0, (1.0 - row_frac) * col_frac),
            (row0 + 1.0, col0, row_frac * (1.0 - col_frac)),
            (row0 + 1.0, col0 + 1.0, row_frac * col_frac),
        ];
        corners.map(|(r, c, weight)| match self.flat_index(r, c) {
            -1 => (-1, 0.0),
            index => (index, weight),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::f32::consts::{FRAC_PI_2, PI};

    #[test]
    fn zero_angle_is_identity() {
        let rotation = Rotation::new(0.0, 4, 6);
        for r in 0..4 {
            for c in 0..6 {
                let index = (r * 6 + c) as i32;
                assert_eq!(rotation.nearest(r, c), index);
                assert_eq!(rotation.bilinear(r, c)[0], (index, 1.0));
            }
        }
    }

    #[test]
    fn quarter_turn_is_counterclockwise() {
        // Turning counterclockwise by π/2 brings the right column to the top row: output
        // (r, c) reads source (c, 4 - r) of a 5×5 image.
        let rotation = Rotation::new(FRAC_PI_2, 5, 5);
        for r in 0..5 {
            for c in 0..5 {
                assert_eq!(rotation.nearest(r, c), (c * 5 + 4 - r) as i32, "({r}, {c})");
            }
        }
        let back = Rotation::new(-FRAC_PI_2, 5, 5);
        assert_eq!(back.nearest(0, 0), 20);
    }

    #[test]
    fn half_turn_on_even_side_mirrors_both_axes() {
        let rotation = Rotation::new(PI, 4, 4);
        for r in 0..4 {
            for c in 0..4 {
                assert_eq!(rotation.nearest(r, c), ((3 - r) * 4 + 3 - c) as i32);
            }
        }
    }

    #[test]
    fn corners_outside_read_as_zero() {
        // A 45° turn of a 1×5 image: output (0, 0) reads source row -√2, outside.
        let rotation = Rotation::new(PI / 4.0, 1, 5);
        assert_eq!(rotation.nearest(0, 0), -1);
        assert_eq!(rotation.bilinear(0, 0), [(-1, 0.0); 4]);

        // The centre maps to itself; the taps below it fall outside the single row.
        let taps = rotation.bilinear(0, 2);
        assert_eq!(taps[0], (2, 1.0));
        assert_eq!(taps[2], (-1, 0.0));
        assert_eq!(taps[3], (-1, 0.0));
    }

    #[test]
    fn nan_angle_maps_outside() {
        let rotation = Rotation::new(f32::NAN, 3, 3);
        assert_eq!(rotation.nearest(1, 1), -1);
        assert_eq!(rotation.bilinear(1, 1), [(-1, 0.0); 4]);
    }
}
