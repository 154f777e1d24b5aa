//! Measurement names and their parameters, shared by the command line, the C ABI and the
//! measurement record header.

use super::MeasureError;

/// The measurement families.
///
/// The discriminant is the kind's code in the measurement record header and over the C
/// ABI; it never changes once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum MeasurementKind {
    /// Each pixel zeroed independently with probability `p`.
    BlockPixels = 1,
    /// Whole rows zeroed independently with probability `p`.
    DropRow = 2,
    /// Whole columns zeroed independently with probability `p`.
    DropCol = 3,
    /// The product of independent row and column masks.
    DropRowCol = 4,
    /// A `k`×`k` patch at a uniformly random position zeroed.
    BlockPatch = 5,
    /// Everything outside a random `k`×`k` patch zeroed.
    KeepPatch = 6,
    /// The `k`×`k` patch at a random position, re-centred and zero-padded to the image size.
    ExtractPatch = 7,
    /// Gaussian blur with zero padding, then additive Gaussian noise.
    ConvolveNoise = 8,
    /// Zero-pad, rotate by a random angle and sum over the width axis, `angles` times.
    PadRotateProject = 9,
    /// Pad-Rotate-Project with each angle appended to its projection.
    PadRotateProjectTheta = 10,
    /// Inner products with `m` independent standard Gaussian vectors.
    GaussianProjection = 11,
}

impl MeasurementKind {
    /// Every kind, in code order.
    pub const ALL: [MeasurementKind; 11] = [
        Self::BlockPixels,
        Self::DropRow,
        Self::DropCol,
        Self::DropRowCol,
        Self::BlockPatch,
        Self::KeepPatch,
        Self::ExtractPatch,
        Self::ConvolveNoise,
        Self::PadRotateProject,
        Self::PadRotateProjectTheta,
        Self::GaussianProjection,
    ];

    /// Returns the command-line name (`block-pixels`, `convolve-noise`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::BlockPixels => "block-pixels",
            Self::DropRow => "drop-row",
            Self::DropCol => "drop-col",
            Self::DropRowCol => "drop-row-col",
            Self::BlockPatch => "block-patch",
            Self::KeepPatch => "keep-patch",
            Self::ExtractPatch => "extract-patch",
            Self::ConvolveNoise => "convolve-noise",
            Self::PadRotateProject => "pad-rotate-project",
            Self::PadRotateProjectTheta => "pad-rotate-project-theta",
            Self::GaussianProjection => "gaussian-projection",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Result<Self, MeasureError> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or(MeasureError::UnknownMeasurement)
    }

    /// Returns the kind with record-format code `code`.
    pub fn from_code(code: u8) -> Result<Self, MeasureError> {
        Self::ALL
            .into_iter()
            .find(|k| *k as u8 == code)
            .ok_or(MeasureError::UnknownMeasurement)
    }
}

/// How Pad-Rotate-Project resamples the rotated image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum Interpolation {
    /// Nearest neighbour, as the reference code does.
    Nearest = 0,
    /// Bilinear.
    Bilinear = 1,
}

/// Every parameter any measurement takes; each kind reads the ones it needs.
///
/// The defaults are the paper's MNIST settings. On the command line each field is a
/// `--param key=value` with the key in parentheses below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasurementParams {
    /// Drop probability (`p`), in `[0, 1)`. Default 0.9.
    pub p: f32,
    /// Whether kept values are scaled by `1/(1-p)` (`rescale`), as the reference code
    /// does, so that the measurement is unbiased. Default true.
    pub rescale: bool,
    /// Whether Block-Pixels, Drop-Row, Drop-Col and Drop-Row-Col draw one mask per channel
    /// (`per_channel`) instead of one shared across channels. Default true (the
    /// reference's MNIST and CelebA runs; its CIFAR-10 Block-Pixels shares the mask).
    pub per_channel: bool,
    /// Patch side (`k`) for the patch measurements. Default 14.
    pub patch: usize,
    /// Blur kernel size (`size`), odd. Default 5.
    pub kernel_size: usize,
    /// Blur standard deviation in pixels (`sigma`). Default 1.0.
    pub sigma: f32,
    /// Standard deviation of the additive noise (`noise`), in image units. Default 0.1.
    pub noise_std: f32,
    /// Zero padding on each side before rotation (`pad`); `None` picks the smallest
    /// padding that keeps the rotated image inside,
    /// `ceil((ceil(√(h² + w²)) − min(h, w)) / 2)`, which is `ceil((√2 − 1) · s / 2)` for a
    /// square side `s` (6 for 28×28, 14 for 64×64, as in the AmbientGAN reference code).
    pub pad: Option<usize>,
    /// Number of projection angles (`angles`). Default 2.
    pub angles: usize,
    /// Rotation resampling (`interp`, `nearest` or `bilinear`). Default nearest.
    pub interpolation: Interpolation,
    /// Number of Gaussian projections (`m`). Default 100.
    pub projections: usize,
}

impl Default for MeasurementParams {
    fn default() -> Self {
        Self {
            p: 0.9,
            rescale: true,
            per_channel: true,
            patch: 14,
            kernel_size: 5,
            sigma: 1.0,
            noise_std: 0.1,
            pad: None,
            angles: 2,
            interpolation: Interpolation::Nearest,
            projections: 100,
        }
    }
}

impl MeasurementParams {
    /// The parameter keys accepted by [`MeasurementParams::set`].
    pub const KEYS: [&'static str; 11] = [
        "p",
        "rescale",
        "per_channel",
        "k",
        "size",
        "sigma",
        "noise",
        "pad",
        "angles",
        "interp",
        "m",
    ];

    /// Sets one parameter from its command-line form, for example `("p", "0.95")`.
    ///
    /// Only the syntax is checked here; each operator validates the values it uses when
    /// it is constructed.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), MeasureError> {
        match key {
            "p" => self.p = parse_real("p", value)?,
            "rescale" => self.rescale = parse_bool("rescale", value)?,
            "per_channel" => self.per_channel = parse_bool("per_channel", value)?,
            "k" => self.patch = parse_count("k", value)?,
            "size" => self.kernel_size = parse_count("size", value)?,
            "sigma" => self.sigma = parse_real("sigma", value)?,
            "noise" => self.noise_std = parse_real("noise", value)?,
            "pad" => self.pad = Some(parse_count("pad", value)?),
            "angles" => self.angles = parse_count("angles", value)?,
            "interp" => {
                self.interpolation = match value {
                    "nearest" => Interpolation::Nearest,
                    "bilinear" => Interpolation::Bilinear,
                    _ => return Err(MeasureError::InvalidParameterValue { name: "interp" }),
                }
            }
            "m" => self.projections = parse_count("m", value)?,
            _ => return Err(MeasureError::UnknownParameter),
        }
        Ok(())
    }
}

fn parse_real(name: &'static str, value: &str) -> Result<f32, MeasureError> {
    value
        .trim()
        .parse::<f32>()
        .map_err(|_| MeasureError::InvalidParameterValue { name })
}

fn parse_count(name: &'static str, value: &str) -> Result<usize, MeasureError> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| MeasureError::InvalidParameterValue { name })
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, MeasureError> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(MeasureError::InvalidParameterValue { name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in MeasurementKind::ALL {
            assert_eq!(MeasurementKind::from_name(kind.name()), Ok(kind));
            assert_eq!(MeasurementKind::from_code(kind as u8), Ok(kind));
        }
        assert_eq!(
            MeasurementKind::from_name("blur"),
            Err(MeasureError::UnknownMeasurement)
        );
        assert_eq!(
            MeasurementKind::from_code(0),
            Err(MeasureError::UnknownMeasurement)
        );
    }

    #[test]
    fn set_parses_each_key() {
        let mut params = MeasurementParams::default();
        params.set("p", "0.5").unwrap();
        params.set("rescale", "false").unwrap();
        params.set("k", "7").unwrap();
        params.set("interp", "bilinear").unwrap();
        params.set("pad", "3").unwrap();
        assert_eq!(params.p, 0.5);
        assert!(!params.rescale);
        assert_eq!(params.patch, 7);
        assert_eq!(params.interpolation, Interpolation::Bilinear);
        assert_eq!(params.pad, Some(3));
    }

    #[test]
    fn set_rejects_bad_input() {
        let mut params = MeasurementParams::default();
        assert_eq!(params.set("q", "1"), Err(MeasureError::UnknownParameter));
        assert_eq!(
            params.set("p", "half"),
            Err(MeasureError::InvalidParameterValue { name: "p" })
        );
        assert_eq!(
            params.set("k", "-3"),
            Err(MeasureError::InvalidParameterValue { name: "k" })
        );
    }
}
