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
/// `y` holds `angles` projections one after the other. A projection is `Hp · C` values,
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
    /// 64×64, the paper's values.
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
    /// `floorf(s + 0.5)`. This is `scipy.ndimage.rotate(order=0, reshape=False)` with the
    /// angle in degrees, up to ties and `f32` rounding. `map` holds [`Self::map_len`]
    /// values.
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
