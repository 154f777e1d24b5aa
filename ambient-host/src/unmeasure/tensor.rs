//! The repairs on tch tensors, for the training loop's `unmeasure` mode.

use ambient_core::measure::Operator;
use tch::{Device, Kind, Tensor};

use super::{repair_batch, Repair, RepairOptions, UnmeasureError};
use crate::measure::Theta;

/// A repair bound to one measurement and one data set's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRepair {
    repair: Repair,
    op: Operator,
    options: RepairOptions,
}

impl TensorRepair {
    /// Binds `repair` to `op` for the clean images `images` (`[N, C, H, W]`, any device).
    ///
    /// The clipping range is the images' minimum and maximum, and the Wiener filter's
    /// `E[x²]` their mean square, the statistic behind the reference code's constants for
    /// MNIST and CelebA.
    pub fn for_images(
        repair: Repair,
        op: Operator,
        images: &Tensor,
    ) -> Result<Self, UnmeasureError> {
        repair.check_applies(op.kind())?;
        let min = images.f_min()?.f_double_value(&[])? as f32;
        let max = images.f_max()?.f_double_value(&[])? as f32;
        let power = images
            .f_square()?
            .f_mean(Kind::Double)?
            .f_double_value(&[])? as f32;
        let options = RepairOptions {
            range: (min, max),
            signal_power: Some(power),
            ..RepairOptions::default()
        };
        Ok(Self {
            repair,
            op,
            options,
        })
    }

    /// Returns the repair.
    pub fn repair(&self) -> Repair {
        self.repair
    }

    /// Returns the settings the repair runs with.
    pub fn options(&self) -> &RepairOptions {
        &self.options
    }

    /// Repairs the measurements `y` (`[B, C, H, W]`) made with `theta`, on the CPU, and
    /// returns the images on `y`'s device.
    pub fn apply(&self, y: &Tensor, theta: &Theta) -> Result<Tensor, UnmeasureError> {
        let size = y.size();
        let values = to_vec(y)?;
        let theta_values = match self.repair {
            Repair::Wiener => Vec::new(),
            _ => to_vec(theta.values())?,
        };

        // Every repaired measurement is image-shaped, so the output has the input's size.
        let repaired = repair_batch(self.repair, &self.op, &values, &theta_values, &self.options)?;
        let images = Tensor::f_from_slice(&repaired)?.f_view(size.as_slice())?;
        Ok(images.f_to_device(y.device())?)
    }
}

fn to_vec(t: &Tensor) -> Result<Vec<f32>, UnmeasureError> {
    let flat = t
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?
        .f_flatten(0, -1)?;
    Ok(Vec::<f32>::try_from(&flat)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::TchMeasurement;
    use ambient_core::measure::{MeasurementKind, MeasurementParams};
    use ambient_core::Shape;

    #[test]
    fn constant_batch_survives_round_trip() {
        // Constant 0.3 images (and one 0 and one 1 value to set the range), Block-Pixels
        // at p = 0.5 through the tch measurement, repaired by the median filter.
        let shape = Shape::new(1, 8, 8);
        let params = MeasurementParams {
            p: 0.5,
            ..MeasurementParams::default()
        };
        let op = Operator::new(MeasurementKind::BlockPixels, shape, &params).unwrap();
        let mut clean = vec![0.3f32; 3 * 64];
        clean[0] = 0.0;
        clean[1] = 1.0;
        let images = Tensor::from_slice(&clean).view([3, 1, 8, 8]);
        let repair = TensorRepair::for_images(Repair::Median, op.clone(), &images).unwrap();
        assert_eq!(repair.options().range, (0.0, 1.0));

        let measurement = TchMeasurement::new(op);
        let x = Tensor::full([2, 1, 8, 8], 0.3, (Kind::Float, Device::Cpu));
        let theta = measurement.sample_theta(11, 2, Device::Cpu).unwrap();
        let y = measurement.apply(&x, &theta).unwrap();
        let out = repair.apply(&y, &theta).unwrap();
        assert_eq!(out.size(), vec![2, 1, 8, 8]);
        let worst = (out - 0.3).abs().max().double_value(&[]);
        assert!(worst < 1e-6, "worst error {worst}");
    }

    #[test]
    fn wiener_power_is_mean_square() {
        let shape = Shape::new(1, 2, 2);
        let op = Operator::new(
            MeasurementKind::ConvolveNoise,
            shape,
            &MeasurementParams {
                kernel_size: 1,
                ..MeasurementParams::default()
            },
        )
        .unwrap();
        let images =
            Tensor::from_slice(&[0.0f32, 1.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5]).view([2, 1, 2, 2]);
        let repair = TensorRepair::for_images(Repair::Wiener, op, &images).unwrap();
        // (1 + 1 + 4 · 0.25) / 8 = 0.375.
        let power = repair.options().signal_power.unwrap();
        assert!((power - 0.375).abs() < 1e-6, "{power}");
    }
}
