//! The C forms of a measurement's kind, parameters and image shape.

use ambient_core::measure::{Interpolation, MeasurementKind, MeasurementParams};
use ambient_core::Shape;

use crate::status::AmbientStatus;

/// The measurement families, by their stable code (the `kind` field of
/// `ambient_measurement_params`, and the code in measurement records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum AmbientMeasurementKind {
    /// Each pixel zeroed independently with probability `p`.
    BlockPixels = 1,
    /// Whole rows zeroed independently with probability `p`.
    DropRow = 2,
    /// Whole columns zeroed independently with probability `p`.
    DropCol = 3,
    /// The product of independent row and column masks, each with probability `p`.
    DropRowCol = 4,
    /// A `patch` x `patch` square at a uniformly random position zeroed.
    BlockPatch = 5,
    /// Everything outside a random `patch` x `patch` square zeroed.
    KeepPatch = 6,
    /// The `patch` x `patch` square at a random position, re-centred and zero-padded back to
    /// the image size, so that its location is lost.
    ExtractPatch = 7,
    /// Gaussian blur (`kernel_size`, `sigma`) with zero padding, then additive Gaussian
    /// noise of standard deviation `noise_std`.
    ConvolveNoise = 8,
    /// Zero-pad by `pad`, rotate by a random angle and sum over the width axis, `angles`
    /// times: one value per padded row and angle.
    PadRotateProject = 9,
    /// Pad-Rotate-Project with each angle (radians) appended to its projection.
    PadRotateProjectTheta = 10,
    /// Inner products with `projections` independent standard Gaussian vectors.
    GaussianProjection = 11,
}

/// The resampling of the rotated image in Pad-Rotate-Project (the `interpolation` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum AmbientInterpolation {
    /// Nearest neighbour.
    Nearest = 0,
    /// Bilinear.
    Bilinear = 1,
}

/// Every parameter any measurement takes. Fill it with `ambient_measurement_params_default`,
/// then change what you need.
///
/// Each kind checks the numeric parameters it uses and ignores the others; the kind and
/// interpolation codes are checked for every kind. Flags are `uint8_t`: 0 is false, any
/// other value is true. Codes are plain integers, so any bit pattern is defined behaviour
/// and an unknown code gets a status.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmbientMeasurementParams {
    /// The measurement, an `ambient_measurement_kind` code.
    pub kind: u8,
    /// Drop probability in [0, 1): Block-Pixels, Drop-Row, Drop-Col, Drop-Row-Col.
    /// Default 0.9.
    pub p: f32,
    /// Flag: scale kept values by 1/(1 - p) so that the measurement is unbiased.
    /// Default 1.
    pub rescale: u8,
    /// Flag: Block-Pixels draws one mask per channel instead of one per pixel shared by
    /// every channel. Default 1.
    pub per_channel: u8,
    /// Patch side in pixels: Block-Patch, Keep-Patch, Extract-Patch. Default 14.
    pub patch: usize,
    /// Blur kernel side, odd: Convolve+Noise. Default 5.
    pub kernel_size: usize,
    /// Blur standard deviation in pixels, above 0: Convolve+Noise. Default 1.0.
    pub sigma: f32,
    /// Standard deviation of the additive noise in image units, at least 0:
    /// Convolve+Noise. Default 0.1.
    pub noise_std: f32,
    /// Flag: pick the smallest zero padding that keeps the rotated image inside,
    /// ceil((sqrt(2) - 1) * max(height, width) / 2), and ignore `pad`. Default 1.
    pub auto_pad: u8,
    /// Zero padding on each side before rotation, when `auto_pad` is 0:
    /// Pad-Rotate-Project. Default 0.
    pub pad: usize,
    /// Number of projection angles, at least 1: Pad-Rotate-Project. Default 2.
    pub angles: usize,
    /// Rotation resampling, an `ambient_interpolation` code: Pad-Rotate-Project.
    /// Default nearest.
    pub interpolation: u8,
    /// Number of Gaussian projections, at least 1: Gaussian-Projection. Default 100.
    pub projections: usize,
}

/// The shape of one image, `[channels, height, width]`, stored channel-major: all of
/// channel 0 row by row, then channel 1, and so on.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AmbientShape {
    /// Number of channels (1 for MNIST, 3 for colour).
    pub channels: usize,
    /// Number of rows.
    pub height: usize,
    /// Number of columns.
    pub width: usize,
}

impl From<AmbientShape> for Shape {
    fn from(shape: AmbientShape) -> Self {
        Shape::new(shape.channels, shape.height, shape.width)
    }
}

impl From<Shape> for AmbientShape {
    fn from(shape: Shape) -> Self {
        Self {
            channels: shape.channels,
            height: shape.height,
            width: shape.width,
        }
    }
}

impl AmbientMeasurementParams {
    /// Returns the core's defaults with `kind` set to `code`.
    pub(crate) fn defaults(code: u8) -> Self {
        let core = MeasurementParams::default();
        Self {
            kind: code,
            p: core.p,
            rescale: core.rescale.into(),
            per_channel: core.per_channel.into(),
            patch: core.patch,
            kernel_size: core.kernel_size,
            sigma: core.sigma,
            noise_std: core.noise_std,
            auto_pad: core.pad.is_none().into(),
            pad: core.pad.unwrap_or(0),
            angles: core.angles,
            interpolation: core.interpolation as u8,
            projections: core.projections,
        }
    }

    /// Converts to the core's kind and parameters; fails on an unknown kind or
    /// interpolation code.
    pub(crate) fn to_core(self) -> Result<(MeasurementKind, MeasurementParams), AmbientStatus> {
        let kind = MeasurementKind::from_code(self.kind)?;
        let interpolation = match self.interpolation {
            0 => Interpolation::Nearest,
            1 => Interpolation::Bilinear,
            _ => return Err(AmbientStatus::InvalidParameter),
        };
        let params = MeasurementParams {
            p: self.p,
            rescale: self.rescale != 0,
            per_channel: self.per_channel != 0,
            patch: self.patch,
            kernel_size: self.kernel_size,
            sigma: self.sigma,
            noise_std: self.noise_std,
            pad: if self.auto_pad != 0 {
                None
            } else {
                Some(self.pad)
            },
            angles: self.angles,
            interpolation,
            projections: self.projections,
        };
        Ok((kind, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_match_core() {
        let kinds = [
            (
                AmbientMeasurementKind::BlockPixels,
                MeasurementKind::BlockPixels,
            ),
            (AmbientMeasurementKind::DropRow, MeasurementKind::DropRow),
            (AmbientMeasurementKind::DropCol, MeasurementKind::DropCol),
            (
                AmbientMeasurementKind::DropRowCol,
                MeasurementKind::DropRowCol,
            ),
            (
                AmbientMeasurementKind::BlockPatch,
                MeasurementKind::BlockPatch,
            ),
            (
                AmbientMeasurementKind::KeepPatch,
                MeasurementKind::KeepPatch,
            ),
            (
                AmbientMeasurementKind::ExtractPatch,
                MeasurementKind::ExtractPatch,
            ),
            (
                AmbientMeasurementKind::ConvolveNoise,
                MeasurementKind::ConvolveNoise,
            ),
            (
                AmbientMeasurementKind::PadRotateProject,
                MeasurementKind::PadRotateProject,
            ),
            (
                AmbientMeasurementKind::PadRotateProjectTheta,
                MeasurementKind::PadRotateProjectTheta,
            ),
            (
                AmbientMeasurementKind::GaussianProjection,
                MeasurementKind::GaussianProjection,
            ),
        ];
        assert_eq!(kinds.len(), MeasurementKind::ALL.len());
        for (c_kind, core_kind) in kinds {
            assert_eq!(c_kind as u8, core_kind as u8, "{core_kind:?}");
        }
    }

    #[test]
    fn interpolation_codes_match_core() {
        assert_eq!(
            AmbientInterpolation::Nearest as u8,
            Interpolation::Nearest as u8
        );
        assert_eq!(
            AmbientInterpolation::Bilinear as u8,
            Interpolation::Bilinear as u8
        );
    }

    #[test]
    fn defaults_round_trip_to_core() {
        let c_params = AmbientMeasurementParams::defaults(MeasurementKind::DropRow as u8);
        let (kind, params) = c_params.to_core().unwrap();
        assert_eq!(kind, MeasurementKind::DropRow);
        assert_eq!(params, MeasurementParams::default());
    }

    #[test]
    fn flags_accept_any_nonzero() {
        let mut c_params = AmbientMeasurementParams::defaults(1);
        c_params.rescale = 0;
        c_params.per_channel = 0xff;
        c_params.auto_pad = 0;
        c_params.pad = 3;
        let (_, params) = c_params.to_core().unwrap();
        assert!(!params.rescale);
        assert!(params.per_channel);
        assert_eq!(params.pad, Some(3));
    }

    #[test]
    fn bad_codes_rejected() {
        let mut c_params = AmbientMeasurementParams::defaults(0);
        assert_eq!(
            c_params.to_core().err(),
            Some(AmbientStatus::UnknownMeasurement)
        );
        c_params.kind = 12;
        assert_eq!(
            c_params.to_core().err(),
            Some(AmbientStatus::UnknownMeasurement)
        );
        c_params.kind = 1;
        c_params.interpolation = 2;
        assert_eq!(
            c_params.to_core().err(),
            Some(AmbientStatus::InvalidParameter)
        );
    }
}
