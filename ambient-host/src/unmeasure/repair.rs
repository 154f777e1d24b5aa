//! The choice of repair, and applying it to a batch for a given measurement.

use std::fmt;
use std::str::FromStr;

use ambient_core::measure::{Measurement, MeasurementKind, Operator};
use ambient_core::sampler::image_seed;

use super::blur::{blur, BlurWeighting};
use super::convolve::Kernel;
use super::inpaint::{inpaint, InpaintOptions};
use super::median::median;
use super::tv::{tv_inpaint, TvOptions};
use super::wiener::{estimate_signal_power, noise_to_signal, wiener};
use super::UnmeasureError;

/// A classical repair `g` that maps a measurement back to an image, for the `unmeasure`
/// training mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Repair {
    /// Gaussian blur of a masked measurement.
    Blur,
    /// Median filter of the kept values.
    Median,
    /// Total-variation inpainting.
    Tv,
    /// Wiener deconvolution of a Convolve+Noise measurement.
    Wiener,
    /// Diffusion (harmonic) inpainting.
    Inpaint,
}

/// The measurement kinds whose θ is a per-value mask with `y = θ ⊙ x`.
const MASK_KINDS: [MeasurementKind; 6] = [
    MeasurementKind::BlockPixels,
    MeasurementKind::DropRow,
    MeasurementKind::DropCol,
    MeasurementKind::DropRowCol,
    MeasurementKind::BlockPatch,
    MeasurementKind::KeepPatch,
];

const MASK_KINDS_TEXT: &str =
    "a masking measurement (block-pixels, drop-row, drop-col, drop-row-col, block-patch or \
     keep-patch)";

impl Repair {
    /// Every repair, in the order the command line lists them.
    pub const ALL: [Repair; 5] = [
        Self::Blur,
        Self::Median,
        Self::Tv,
        Self::Wiener,
        Self::Inpaint,
    ];

    /// Returns the command-line name (`blur`, `median`, `tv`, `wiener`, `inpaint`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Blur => "blur",
            Self::Median => "median",
            Self::Tv => "tv",
            Self::Wiener => "wiener",
            Self::Inpaint => "inpaint",
        }
    }

    /// Returns the repair the reference code pairs with a measurement kind, if any: blur
    /// for dropped pixels, rows or columns, inpainting for Block-Patch, Wiener for
    /// Convolve+Noise.
    pub fn default_for(kind: MeasurementKind) -> Option<Self> {
        match kind {
            MeasurementKind::BlockPixels
            | MeasurementKind::DropRow
            | MeasurementKind::DropCol
            | MeasurementKind::DropRowCol => Some(Self::Blur),
            MeasurementKind::BlockPatch => Some(Self::Inpaint),
            MeasurementKind::ConvolveNoise => Some(Self::Wiener),
            _ => None,
        }
    }

    /// Checks that the repair applies to measurements of `kind`.
    pub fn check_applies(self, kind: MeasurementKind) -> Result<(), UnmeasureError> {
        let (applies, needs) = match self {
            Self::Wiener => (kind == MeasurementKind::ConvolveNoise, "convolve-noise"),
            _ => (MASK_KINDS.contains(&kind), MASK_KINDS_TEXT),
        };
        if applies {
            Ok(())
        } else {
            Err(UnmeasureError::Unsupported {
                repair: self.name(),
                kind,
                needs,
            })
        }
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown repair name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown repair {0:?}; expected blur, median, tv, wiener or inpaint")]
pub struct UnknownRepair(pub String);

impl FromStr for Repair {
    type Err = UnknownRepair;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| UnknownRepair(name.to_string()))
    }
}

/// Settings of every repair. The defaults follow the reference code unless a field's
/// documentation states otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepairOptions {
    /// The model's value range `(min, max)`: `(0, 1)` for MNIST, `(-1, 1)` for colour sets.
    /// Wiener output is clipped to it.
    pub range: (f32, f32),
    /// The blur's treatment of dropped pixels.
    pub blur: BlurWeighting,
    /// The total-variation solver's settings.
    pub tv: TvOptions,
    /// The diffusion solver's settings.
    pub inpaint: InpaintOptions,
    /// `E[x²]` of the clean data for the Wiener filter's noise-to-signal ratio, for
    /// example [`super::wiener::MNIST_SIGNAL_POWER`]; `None` estimates it from each batch
    /// with [`estimate_signal_power`].
    pub signal_power: Option<f32>,
}

impl Default for RepairOptions {
    /// Returns the `[0, 1]` range and each repair's default settings.
    fn default() -> Self {
        Self {
            range: (0.0, 1.0),
            blur: BlurWeighting::default(),
            tv: TvOptions::default(),
            inpaint: InpaintOptions::default(),
            signal_power: None,
        }
    }
}

/// Applies `repair` to a batch of measurements `y` made by `op`, whose θ is `theta` (one
/// row of `op.theta_len()` values per image, as [`Measurement::theta`] writes it).
///
/// θ is used only as the mask of masking measurements. The Wiener filter ignores it and
/// accepts an empty slice, because θ is then the noise field, which a repair must not use.
pub fn repair_batch(
    repair: Repair,
    op: &Operator,
    y: &[f32],
    theta: &[f32],
    options: &RepairOptions,
) -> Result<Vec<f32>, UnmeasureError> {
    repair.check_applies(op.kind())?;
    let shape = op.input_shape();
    match (repair, op) {
        (Repair::Wiener, Operator::ConvolveNoise(blur_op)) => {
            let kernel = Kernel::of_measurement(blur_op)?;
            let power = options
                .signal_power
                .unwrap_or_else(|| estimate_signal_power(y, blur_op.noise_std()));
            let nsr = noise_to_signal(blur_op.noise_std(), power)?;
            wiener(y, shape, &kernel, nsr, options.range)
        }
        (Repair::Blur, _) => blur(y, theta, shape, options.blur),
        (Repair::Median, _) => median(y, theta, shape),
        (Repair::Tv, _) => tv_inpaint(y, theta, shape, &options.tv),
        (Repair::Inpaint, _) => inpaint(y, theta, shape, &options.inpaint),
        (Repair::Wiener, _) => Err(UnmeasureError::Unsupported {
            repair: repair.name(),
            kind: op.kind(),
            needs: "convolve-noise",
        }),
    }
}

/// Writes θ for `count` images measured with the per-image seeds
/// [`image_seed`]`(batch_seed, i)`, the way [`ambient_core::measure::measure_batch`] draws
/// them.
pub fn theta_batch(
    op: &Operator,
    batch_seed: u64,
    count: usize,
) -> Result<Vec<f32>, UnmeasureError> {
    let len = op.theta_len();
    let total = len.checked_mul(count).ok_or(UnmeasureError::BatchLength {
        what: "theta",
        found: count,
        image_len: len,
    })?;
    let mut theta = vec![0.0; total];
    if len == 0 {
        return Ok(theta);
    }
    for (i, row) in theta.chunks_exact_mut(len).enumerate() {
        op.theta(image_seed(batch_seed, i as u64), row)?;
    }
    Ok(theta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ambient_core::measure::{measure_batch, MeasurementParams};
    use ambient_core::Shape;

    fn operator(kind: MeasurementKind, edit: impl FnOnce(&mut MeasurementParams)) -> Operator {
        let mut params = MeasurementParams::default();
        edit(&mut params);
        Operator::new(kind, Shape::new(1, 28, 28), &params).unwrap()
    }

    #[test]
    fn names_round_trip() {
        for repair in Repair::ALL {
            assert_eq!(repair.name().parse::<Repair>(), Ok(repair));
        }
        assert!("sharpen".parse::<Repair>().is_err());
    }

    #[test]
    fn wiener_needs_convolve_noise() {
        let op = operator(MeasurementKind::BlockPixels, |p| p.p = 0.5);
        let error = repair_batch(
            Repair::Wiener,
            &op,
            &[0.0; 784],
            &[],
            &RepairOptions::default(),
        );
        assert!(matches!(
            error,
            Err(UnmeasureError::Unsupported {
                repair: "wiener",
                ..
            })
        ));
        let op = operator(MeasurementKind::ConvolveNoise, |_| {});
        let error = repair_batch(Repair::Tv, &op, &[0.0; 784], &[], &RepairOptions::default());
        assert!(matches!(
            error,
            Err(UnmeasureError::Unsupported { repair: "tv", .. })
        ));
    }

    #[test]
    fn block_pixels_batch_repairs_constant() {
        // Two constant images through the core's Block-Pixels at p = 0.5, θ drawn from the
        // same seeds the measurement used; the mask-aware repairs return the constant.
        let op = operator(MeasurementKind::BlockPixels, |p| {
            p.p = 0.5;
            p.rescale = true;
        });
        let x = vec![0.7; 2 * 784];
        let mut y = vec![0.0; x.len()];
        measure_batch(&op, &x, 42, &mut y).unwrap();
        let theta = theta_batch(&op, 42, 2).unwrap();
        for repair in [Repair::Median, Repair::Tv, Repair::Inpaint] {
            let out = repair_batch(repair, &op, &y, &theta, &RepairOptions::default()).unwrap();
            let worst = out.iter().map(|v| (v - 0.7).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-5, "{repair}: worst error {worst}");
        }
    }

    #[test]
    fn wiener_batch_uses_operator_kernel() {
        let op = operator(MeasurementKind::ConvolveNoise, |p| p.noise_std = 0.0);
        let x: Vec<f32> = (0..784)
            .map(|i| {
                let (r, c) = ((i / 28) as f32 - 14.0, (i % 28) as f32 - 14.0);
                0.8 * (-(r * r + c * c) / 20.0).exp()
            })
            .collect();
        let mut y = vec![0.0; 784];
        measure_batch(&op, &x, 1, &mut y).unwrap();
        let options = RepairOptions {
            signal_power: Some(super::super::wiener::MNIST_SIGNAL_POWER),
            ..RepairOptions::default()
        };
        let out = repair_batch(Repair::Wiener, &op, &y, &[], &options).unwrap();
        let worst = x
            .iter()
            .zip(&out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "worst error {worst}");
    }
}
