//! Pad-Rotate-Project and Pad-Rotate-Project-θ: zero-pad, rotate by random angles, and
//! sum over the width axis.

use super::rotation::Rotation;
use super::{check_len, checked_image_len, checked_size, Interpolation, MeasureError};
use super::{Measurement, MeasurementKind};
use crate::sampler::Sampler;
use crate::Shape;

/// Pad-Rotate-Project, and with `with_theta` Pad-Rotate-Project-θ.
///
/// Each channel is zero-padded by `pad` pixels on every side to `Hp × Wp`
/// (`Hp = H + 2·pad`), rotated by an angle θ about the centre
/// `((Hp - 1) / 2, (Wp - 1) / 2)` of the padded image, and summed over the width axis,
/// which gives one value per padded row. The rotation keeps the padded size (scipy's
/// `reshape=False`); with row 0 at the top a positive θ turns the picture
/// counterclockwise. The exact sampling (the source coordinates, the nearest rounding rule
/// `floorf(s + 0.5)`, the bilinear taps) is documented on
/// [`PadRotateProject::nearest_map`] and [`PadRotateProject::bilinear_map`].
///
/// `y` contains `angles` projections one after the other. A projection is `Hp · C` values,
/// `[Hp, C]` flattened with the channel fastest, as the reference code flattens its
/// `[H, C]` sums; Pad-Rotate-Project-θ appends the angle (raw radians) after each one.
///
/// θ is the `angles` angles, drawn in order with [`Sampler::angle`], uniform in `[-π, π)`.
/// Projection `a` uses angle `a`.
///
/// The host rebuilds each rotation from [`PadRotateProject::nearest_map`] or
/// [`PadRotateProject::bilinear_map`] as a gather, so both sides sample the same pixels with
/// the same weights; [`Measurement::measure`] uses those exact maps. The sums over the
/// width agree to `f32` rounding only, because `measure` adds the columns left to right
/// and the host may not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PadRotateProject {
    shape: Shape,
    len: usize,
    pad: usize,
    padded_height: usize,
    padded_width: usize,
    angles: usize,
    interpolation: Interpolation,
    with_theta: bool,
    output_len: usize,
}

impl PadRotateProject {
    /// Builds the operator for images of `shape`.
    ///
    /// `pad` of `None` picks [`PadRotateProject::default_pad`]. `angles` must be at least 1.
    pub fn new(
        shape: Shape,
        pad: Option<usize>,
        angles: usize,
        interpolation: Interpolation,
        with_theta: bool,
    ) -> Result<Self, MeasureError> {
        let len = checked_image_len(shape)?;
        if angles == 0 {
            return Err(MeasureError::ZeroCount { name: "angles" });
        }
        let pad = match pad {
            Some(pad) => pad,
            None => Self::default_pad(shape)?,
        };

        let padded = |side: usize| pad.checked_mul(2).and_then(|p| p.checked_add(side));
        let overflow = MeasureError::SizeOverflow {
            what: "padded image",
        };
        let padded_height = padded(shape.height).ok_or(overflow)?;
        let padded_width = padded(shape.width).ok_or(overflow)?;
        checked_size("padded image", padded_height.checked_mul(padded_width))?;
        let projection = padded_height.checked_mul(shape.channels);
        let block = projection.and_then(|p| p.checked_add(usize::from(with_theta)));
        let output_len = checked_size("y", block.and_then(|b| b.checked_mul(angles)))?;

        Ok(Self {
            shape,
            len,
            pad,
            padded_height,
            padded_width,
            angles,
            interpolation,
            with_theta,
            output_len,
        })
    }

    /// Returns the smallest padding that keeps the whole rotated image inside the padded
    /// one: `ceil((ceil(√(H² + W²)) - min(H, W)) / 2)`, in exact integer arithmetic.
    ///
    /// For a square side `S` this is `ceil((√2 - 1) · S / 2)`: 6 for 28×28 and 14 for
    /// 64×64, the padding the AmbientGAN reference code uses for MNIST and CelebA.
    pub fn default_pad(shape: Shape) -> Result<usize, MeasureError> {
        let overflow = MeasureError::SizeOverflow {
            what: "padded image",
        };
        let height = shape.height as u64;
        let width = shape.width as u64;
        let squares = height
            .checked_mul(height)
            .and_then(|h| width.checked_mul(width).and_then(|w| h.checked_add(w)))
            .ok_or(overflow)?;
        let root = squares.isqrt();
        let diagonal = if root * root < squares {
            root + 1
        } else {
            root
        };
        let pad = (diagonal - height.min(width)).div_ceil(2);
        usize::try_from(pad).map_err(|_| overflow)
    }

    /// Returns the kind: Pad-Rotate-Project, or Pad-Rotate-Project-θ with `with_theta`.
    pub fn kind(&self) -> MeasurementKind {
        if self.with_theta {
            MeasurementKind::PadRotateProjectTheta
        } else {
            MeasurementKind::PadRotateProject
        }
    }

    /// Returns the zero padding on each side.
    pub fn pad(&self) -> usize {
        self.pad
    }

    /// Returns the height `Hp` of the padded image, which is also the length of one
    /// channel's projection.
    pub fn padded_height(&self) -> usize {
        self.padded_height
    }

    /// Returns the width `Wp` of the padded image.
    pub fn padded_width(&self) -> usize {
        self.padded_width
    }

    /// Returns the number of projections.
    pub fn angles(&self) -> usize {
        self.angles
    }

    /// Returns the rotation's resampling.
    pub fn interpolation(&self) -> Interpolation {
        self.interpolation
    }

    /// Returns whether each projection is followed by its angle.
    pub fn with_theta(&self) -> bool {
        self.with_theta
    }

    /// Returns the number of pixels of one padded channel, `Hp · Wp`: the length of a
    /// nearest map, and a quarter of a bilinear map's.
    pub fn map_len(&self) -> usize {
        self.padded_height * self.padded_width
    }

    /// Returns the number of values of one projection, `Hp · C`.
    pub fn projection_len(&self) -> usize {
        self.padded_height * self.shape.channels
    }

    /// Writes the nearest-neighbour map of the rotation by `angle` radians.
    ///
    /// `map[r · Wp + c]` is the flat index `sr · Wp + sc` into the padded channel of the
    /// pixel that output pixel `(r, c)` copies, or -1 when that source lies outside the
    /// padded image (the output pixel is then zero). The source coordinates are
    /// `sr = cr + (cos θ · dr + sin θ · dc)` and `sc = cc + (cos θ · dc - sin θ · dr)`,
    /// with `dr = r - cr`, `dc = c - cc`, the centre `(cr, cc) = ((Hp - 1) / 2, (Wp - 1) / 2)`,
    /// all in `f32` with `libm`'s `cosf` and `sinf`, each rounded half up as
    /// `floorf(s + 0.5)`. `map` must have [`Self::map_len`] values.
    ///
    /// This is `scipy.ndimage.rotate(order=0, reshape=False, mode='grid-constant')` with
    /// the angle in degrees, up to ties and `f32` rounding (checked against scipy 1.17.1).
    /// The reference code's `mode='constant'` also zeroes some pixels whose source lies on
    /// the outermost ring of the padded image, which is zero padding whenever `pad >= 1`,
    /// so the projections agree.
    pub fn nearest_map(&self, angle: f32, map: &mut [i32]) -> Result<(), MeasureError> {
        check_len("map", self.map_len(), map.len())?;
        let rotation = Rotation::new(angle, self.padded_height, self.padded_width);
        for (r, row) in map.chunks_exact_mut(self.padded_width).enumerate() {
            for (c, entry) in row.iter_mut().enumerate() {
                *entry = rotation.nearest(r, c);
            }
        }
        Ok(())
    }

    /// Writes the bilinear map of the rotation by `angle` radians: four taps per output
    /// pixel, so `index` and `weight` hold `4 · map_len()` values each.
    ///
    /// Entries `4 · (r · Wp + c) + t` for `t = 0..4` are, for output pixel `(r, c)` with
    /// source `(sr, sc)` as in [`Self::nearest_map`], `r0 = floorf(sr)`, `fr = sr - r0` and
    /// likewise `c0`, `fc`: the padded pixels `(r0, c0)`, `(r0, c0 + 1)`, `(r0 + 1, c0)`,
    /// `(r0 + 1, c0 + 1)` with weights `(1-fr)(1-fc)`, `(1-fr)fc`, `fr(1-fc)`, `fr·fc`. A
    /// tap outside the padded image has index -1 and weight 0. The output pixel is the sum
    /// of the four weighted values in tap order.
    pub fn bilinear_map(
        &self,
        angle: f32,
        index: &mut [i32],
        weight: &mut [f32],
    ) -> Result<(), MeasureError> {
        check_len("index", 4 * self.map_len(), index.len())?;
        check_len("weight", 4 * self.map_len(), weight.len())?;
        let rotation = Rotation::new(angle, self.padded_height, self.padded_width);
        let pixels = index.chunks_exact_mut(4).zip(weight.chunks_exact_mut(4));
        for (pixel, (index, weight)) in pixels.enumerate() {
            let taps = rotation.bilinear(pixel / self.padded_width, pixel % self.padded_width);
            for (t, (tap_index, tap_weight)) in taps.into_iter().enumerate() {
                index[t] = tap_index;
                weight[t] = tap_weight;
            }
        }
        Ok(())
    }

    /// Writes one projection of `x` at `angle` radians into `out` ([`Self::projection_len`]
    /// values, `[Hp, C]` with the channel fastest), exactly as [`Measurement::measure`]
    /// computes each of its projections.
    pub fn project(&self, x: &[f32], angle: f32, out: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("out", self.projection_len(), out.len())?;
        self.project_unchecked(x, angle, out);
        Ok(())
    }

    /// [`Self::project`] on slices whose lengths are already checked.
    fn project_unchecked(&self, x: &[f32], angle: f32, out: &mut [f32]) {
        let rotation = Rotation::new(angle, self.padded_height, self.padded_width);
        let channels = self.shape.channels;
        out.fill(0.0);
        for (r, sums) in out.chunks_exact_mut(channels).enumerate() {
            for c in 0..self.padded_width {
                match self.interpolation {
                    Interpolation::Nearest => {
                        let source = rotation.nearest(r, c);
                        for (ch, sum) in sums.iter_mut().enumerate() {
                            *sum += self.padded_value(x, ch, source);
                        }
                    }
                    Interpolation::Bilinear => {
                        let taps = rotation.bilinear(r, c);
                        for (ch, sum) in sums.iter_mut().enumerate() {
                            let mut value = 0.0;
                            for (source, tap_weight) in taps {
                                value += tap_weight * self.padded_value(x, ch, source);
                            }
                            *sum += value;
                        }
                    }
                }
            }
        }
    }

    /// Returns the value of channel `channel` of the padded image at flat padded index
    /// `source` (zero for -1 and in the padding).
    fn padded_value(&self, x: &[f32], channel: usize, source: i32) -> f32 {
        let Ok(source) = usize::try_from(source) else {
            return 0.0;
        };
        let row = (source / self.padded_width).wrapping_sub(self.pad);
        let col = (source % self.padded_width).wrapping_sub(self.pad);
        if row < self.shape.height && col < self.shape.width {
            x[(channel * self.shape.height + row) * self.shape.width + col]
        } else {
            0.0
        }
    }
}

impl Measurement for PadRotateProject {
    fn input_shape(&self) -> Shape {
        self.shape
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn theta_len(&self) -> usize {
        self.angles
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("y", self.output_len, y.len())?;
        let mut sampler = Sampler::new(seed);
        let block = self.output_len / self.angles;
        let projection = self.projection_len();
        for out in y.chunks_exact_mut(block) {
            let angle = sampler.angle();
            self.project_unchecked(x, angle, &mut out[..projection]);
            if self.with_theta {
                out[projection] = angle;
            }
        }
        Ok(())
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        check_len("theta", self.angles, theta.len())?;
        let mut sampler = Sampler::new(seed);
        for angle in theta.iter_mut() {
            *angle = sampler.angle();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::f32::consts::FRAC_PI_2;

    fn nearest(shape: Shape, pad: usize, angles: usize, with_theta: bool) -> PadRotateProject {
        PadRotateProject::new(shape, Some(pad), angles, Interpolation::Nearest, with_theta).unwrap()
    }

    fn image_4x4() -> [f32; 16] {
        core::array::from_fn(|i| (i + 1) as f32)
    }

    /// Returns the 2-channel 3×5 image `((i mod 7) + 1) / 7` of the scipy golden values.
    fn image_2x3x5() -> [f32; 30] {
        core::array::from_fn(|i| ((i % 7) + 1) as f32 / 7.0)
    }

    fn assert_close(got: &[f32], want: &[f32], tolerance: f32) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= tolerance, "value {i}: {g} vs {w}\n{got:?}");
        }
    }

    #[test]
    fn default_pad_matches_reference() {
        let pad = |h, w| PadRotateProject::default_pad(Shape::new(1, h, w)).unwrap();
        assert_eq!(pad(28, 28), 6);
        assert_eq!(pad(64, 64), 14);
        assert_eq!(pad(4, 4), 1);
        // 3×4: the diagonal is exactly 5, so the short side 3 needs 1 pixel per side.
        assert_eq!(pad(3, 4), 1);
        assert_eq!(pad(1, 1), 1);
        let op =
            PadRotateProject::new(Shape::new(1, 28, 28), None, 2, Interpolation::Nearest, true)
                .unwrap();
        assert_eq!(op.pad(), 6);
        assert_eq!(op.output_len(), 82);
    }

    #[test]
    fn projects_4x4_by_hand() {
        let op = nearest(Shape::new(1, 4, 4), 1, 1, false);
        let x = image_4x4();
        let mut y = [0.0; 6];

        // Row sums of rows 1..=4 of [1, 2, ..., 16] are 16 r + 10.
        op.project(&x, 0.0, &mut y).unwrap();
        assert_eq!(y, [0.0, 10.0, 26.0, 42.0, 58.0, 0.0]);

        // Column j sums to 28 + 4 j. Counterclockwise by π/2 the right column is on top.
        op.project(&x, FRAC_PI_2, &mut y).unwrap();
        assert_eq!(y, [0.0, 40.0, 36.0, 32.0, 28.0, 0.0]);
        op.project(&x, -FRAC_PI_2, &mut y).unwrap();
        assert_eq!(y, [0.0, 28.0, 32.0, 36.0, 40.0, 0.0]);
    }

    #[test]
    fn bilinear_quarter_turn_by_hand() {
        let op = PadRotateProject::new(
            Shape::new(1, 4, 4),
            Some(1),
            1,
            Interpolation::Bilinear,
            false,
        )
        .unwrap();
        let x = image_4x4();
        let mut y = [0.0; 6];
        op.project(&x, 0.0, &mut y).unwrap();
        assert_eq!(y, [0.0, 10.0, 26.0, 42.0, 58.0, 0.0]);

        // f32 π/2 has cos ≈ -4.4e-8, so the taps are whole pixels up to ~1e-7 weight.
        op.project(&x, FRAC_PI_2, &mut y).unwrap();
        assert_close(&y, &[0.0, 40.0, 36.0, 32.0, 28.0, 0.0], 1e-4);
    }

    #[test]
    fn channels_interleave_in_projection() {
        let op = nearest(Shape::new(2, 4, 4), 0, 1, false);
        let mut x = [0.0; 32];
        x[..16].copy_from_slice(&image_4x4());
        x[16..].fill(1.0);
        let mut y = [0.0; 8];
        op.project(&x, 0.0, &mut y).unwrap();
        assert_eq!(y, [10.0, 4.0, 26.0, 4.0, 42.0, 4.0, 58.0, 4.0]);
    }

    // Golden values from scipy 1.17.1: for each channel of the padded image_2x3x5 (pad 2,
    // 7×9), `scipy.ndimage.rotate(channel, degrees(np.float32(-2.1)), axes=(1, 0),
    // reshape=False, order=0, mode='constant', cval=0, prefilter=False).sum(axis=1)`,
    // interleaved channel fastest. This is the reference code's rotation call.
    #[test]
    fn nearest_matches_reference_rotation() {
        let op = nearest(Shape::new(2, 3, 5), 2, 1, false);
        let mut y = [0.0; 14];
        op.project(&image_2x3x5(), -2.1, &mut y).unwrap();
        let scipy = [
            0.0, 0.0, 1.428571, 1.714286, 2.714286, 2.285714, 1.428571, 0.857143, 1.428571, 2.0,
            1.142857, 1.428571, 0.0, 0.0,
        ];
        assert_close(&y, &scipy, 1e-5);
    }

    // Golden values from scipy 1.17.1, as above with order=1 and mode='grid-constant'
    // (bilinear with zero outside, which is this operator's bilinear rule).
    #[test]
    fn bilinear_matches_scipy_order_1() {
        let op = PadRotateProject::new(
            Shape::new(2, 3, 5),
            Some(2),
            1,
            Interpolation::Bilinear,
            false,
        )
        .unwrap();
        let mut y = [0.0; 14];
        op.project(&image_2x3x5(), -2.1, &mut y).unwrap();
        let scipy = [
            0.11384, 0.1423, 1.409192, 1.716339, 2.133666, 1.787962, 1.709935, 1.440897, 1.371977,
            1.53377, 1.165997, 1.473144, 0.1423, 0.17076,
        ];
        assert_close(&y, &scipy, 1e-5);
    }

    // Golden map from scipy 1.17.1: rotating the index image `arange(63).reshape(7, 9) + 1`
    // by degrees(np.float32(0.7)) with order=0, mode='grid-constant', cval=0, then
    // subtracting 1. mode='constant' (the reference code's) additionally maps eight pixels
    // of the outermost ring to -1; that ring is zero padding whenever pad >= 1.
    #[test]
    fn nearest_map_matches_scipy() {
        let op = nearest(Shape::new(1, 3, 5), 2, 1, false);
        let mut map = [0; 63];
        op.nearest_map(0.7, &mut map).unwrap();
        #[rustfmt::skip]
        let scipy = [
            -1, -1, -1, 5, 15, 16, 25, 35, -1,
            -1, 3, 4, 14, 14, 24, 34, 35, 44,
            2, 2, 12, 22, 23, 32, 42, 43, 53,
            1, 11, 20, 21, 31, 41, 42, 51, 61,
            9, 19, 20, 30, 39, 40, 50, 60, 60,
            18, 27, 28, 38, 48, 48, 58, 59, -1,
            -1, 27, 37, 46, 47, 57, -1, -1, -1,
        ];
        assert_eq!(map, scipy);
    }

    #[test]
    fn bilinear_map_weights_sum_to_one_inside() {
        let op = PadRotateProject::new(
            Shape::new(1, 4, 6),
            Some(3),
            1,
            Interpolation::Bilinear,
            false,
        )
        .unwrap();
        let n = op.map_len();
        let mut index = [0; 4 * 120];
        let mut weight = [0.0; 4 * 120];
        assert_eq!(n, 10 * 12);
        op.bilinear_map(1.0, &mut index, &mut weight).unwrap();
        for pixel in 0..n {
            let taps = &index[4 * pixel..4 * pixel + 4];
            let weights = &weight[4 * pixel..4 * pixel + 4];
            for (i, w) in taps.iter().zip(weights) {
                assert!(*i >= -1, "pixel {pixel}: index {i}");
                assert!(*i < n as i32, "pixel {pixel}: index {i}");
                assert!((0.0..=1.0).contains(w));
                if *i == -1 {
                    assert_eq!(*w, 0.0);
                }
            }
            if taps.iter().all(|&i| i >= 0) {
                let total: f32 = weights.iter().sum();
                assert!((total - 1.0).abs() < 1e-6, "pixel {pixel}: {weights:?}");
            }
        }
    }

    #[test]
    fn theta_variant_appends_each_angle() {
        let op = nearest(Shape::new(2, 4, 4), 1, 3, true);
        let x: [f32; 32] = core::array::from_fn(|i| i as f32 * 0.25);
        assert_eq!(op.output_len(), 3 * (6 * 2 + 1));
        let mut y = [0.0; 39];
        op.measure(&x, 17, &mut y).unwrap();
        let mut theta = [0.0; 3];
        op.theta(17, &mut theta).unwrap();

        let mut s = Sampler::new(17);
        for (a, block) in y.chunks_exact(13).enumerate() {
            assert_eq!(theta[a], s.angle(), "angle {a}");
            let mut projection = [0.0; 12];
            op.project(&x, theta[a], &mut projection).unwrap();
            assert_eq!(block[..12], projection, "projection {a}");
            assert_eq!(block[12], theta[a]);
        }
    }

    #[test]
    fn rejects_zero_angles_and_huge_pads() {
        let shape = Shape::new(1, 4, 4);
        assert_eq!(
            PadRotateProject::new(shape, None, 0, Interpolation::Nearest, false),
            Err(MeasureError::ZeroCount { name: "angles" })
        );
        assert_eq!(
            PadRotateProject::new(
                shape,
                Some(usize::MAX / 2),
                1,
                Interpolation::Nearest,
                false
            ),
            Err(MeasureError::SizeOverflow {
                what: "padded image"
            })
        );
        assert_eq!(
            PadRotateProject::new(shape, Some(30_000), 1, Interpolation::Nearest, false),
            Err(MeasureError::SizeOverflow {
                what: "padded image"
            })
        );
    }

    #[test]
    fn rejects_wrong_map_lengths() {
        let op = nearest(Shape::new(1, 4, 4), 1, 1, false);
        assert_eq!(
            op.nearest_map(0.0, &mut [0; 35]),
            Err(MeasureError::LengthMismatch {
                what: "map",
                expected: 36,
                actual: 35
            })
        );
        assert!(op
            .bilinear_map(0.0, &mut [0; 144], &mut [0.0; 143])
            .is_err());
        assert!(op.bilinear_map(0.0, &mut [0; 36], &mut [0.0; 144]).is_err());
        assert!(op.project(&[0.0; 16], 0.0, &mut [0.0; 7]).is_err());
    }
}
