//! The measurement operators `y = f_θ(x)` on tch tensors, differentiable in `x`.
//!
//! θ is drawn only by `ambient-core` (its [`Measurement::theta`] and the helpers each operator
//! exposes), so the trainer, the C library and a device agree to the bit. This module turns
//! that θ into tensors on a device once per batch ([`TchMeasurement::sample_theta`]) and
//! applies `f_θ` with batched tch operations ([`TchMeasurement::apply`]), so autograd gives
//! the gradient that the generator is trained through.
//!
//! Every operator is linear in `x` for a fixed θ, except that Convolve+Noise adds its noise
//! (part of θ), and every tensor is created on the requested device, so CPU and CUDA run the
//! same operations.

mod blur;
mod error;
mod gather;
mod mask;
mod parallel;
mod patch;
mod projection;
mod rotate;
#[cfg(test)]
mod tests;

pub use error::MeasureError;

use ambient_core::measure::{Measurement, MeasurementKind, Operator};
use ambient_core::sampler::image_seed;
use ambient_core::Shape;
use tch::{Device, Kind, Tensor};

/// A measurement from `ambient-core`, applied to batches of image tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct TchMeasurement {
    op: Operator,
}

/// θ of a batch as tensors on one device, built by [`TchMeasurement::sample_theta`] and
/// consumed by [`TchMeasurement::apply`].
#[derive(Debug)]
pub struct Theta {
    op: Operator,
    batch: usize,
    device: Device,
    values: Tensor,
    form: Form,
}

/// The tensors `apply` uses, derived from the core's θ once per batch.
#[derive(Debug)]
enum Form {
    /// `y = x ⊙ mask`, with the mask `[B, C, H, W]`.
    Mask(Tensor),
    /// `y[b, c, l] = x[b, c, index[b, 0, l]]` over flattened channels, `H·W` reading zero.
    Gather(Tensor),
    /// Convolve+Noise.
    Blur(blur::Blur),
    /// Pad-Rotate-Project and Pad-Rotate-Project-θ.
    Rotate(rotate::Rotate),
    /// `y = θ x` with θ `[B, m, C·H·W]`.
    Projection(Tensor),
}

impl Theta {
    /// Returns the number of images θ was built for.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Returns the device θ lives on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Returns the kind of measurement θ was built for.
    pub fn kind(&self) -> MeasurementKind {
        self.op.kind()
    }

    /// Returns θ as the core writes it: `[B, theta_len]`, f32, row `i` for image `i`.
    pub fn values(&self) -> &Tensor {
        &self.values
    }
}

impl TchMeasurement {
    /// Wraps a core operator.
    pub fn new(op: Operator) -> Self {
        Self { op }
    }

    /// Returns the wrapped core operator.
    pub fn operator(&self) -> &Operator {
        &self.op
    }

    /// Returns the shape of one image's measurement: `[C, H, W]` for the image-shaped
    /// measurements, `[L]` for the 1-D ones.
    pub fn output_shape(&self) -> Vec<i64> {
        match self.op.kind() {
            MeasurementKind::PadRotateProject
            | MeasurementKind::PadRotateProjectTheta
            | MeasurementKind::GaussianProjection => vec![self.op.output_len() as i64],
            _ => shape_dims(self.op.input_shape()).to_vec(),
        }
    }

    /// Draws θ for image `i` of a batch with seed [`image_seed`]`(batch_seed, i)`, for `i` in
    /// `0..batch`, and builds its tensors on `device`.
    pub fn sample_theta(
        &self,
        batch_seed: u64,
        batch: usize,
        device: Device,
    ) -> Result<Theta, MeasureError> {
        let seeds: Vec<u64> = (0..batch as u64)
            .map(|i| image_seed(batch_seed, i))
            .collect();
        self.theta_from_seeds(&seeds, device)
    }

    /// Draws θ for one image per seed (image `i` with `seeds[i]`), as a measurement record
    /// stores them, and builds its tensors on `device`.
    pub fn theta_from_seeds(&self, seeds: &[u64], device: Device) -> Result<Theta, MeasureError> {
        let len = self.op.theta_len();
        let total = len
            .checked_mul(seeds.len())
            .ok_or(MeasureError::BatchTooLarge { batch: seeds.len() })?;
        let mut values = vec![0.0f32; total];
        parallel::fill_rows(&mut values, len, len, |i, out| {
            Ok(self.op.theta(seeds[i], out)?)
        })?;
        self.theta_from_values(&values, seeds.len(), device)
    }

    /// Builds the tensors of a batch's θ from the values the core writes, `batch` rows of
    /// `theta_len()` values each (for example θ stored in a measurement record).
    ///
    /// Values that would index outside the image are rejected here, before any tensor
    /// operation reads them.
    pub fn theta_from_values(
        &self,
        values: &[f32],
        batch: usize,
        device: Device,
    ) -> Result<Theta, MeasureError> {
        let len = self.op.theta_len();
        let total = len
            .checked_mul(batch)
            .ok_or(MeasureError::BatchTooLarge { batch })?;
        ambient_core_len_check(total, values.len())?;
        let rows = to_i64(batch, batch)?;
        let cols = to_i64(len, batch)?;

        let tensor = Tensor::f_from_slice(values)?
            .f_to_device(device)?
            .f_view([rows, cols])?;
        let shape = self.op.input_shape();
        let form = match &self.op {
            Operator::BlockPixels(_)
            | Operator::DropLines(_)
            | Operator::BlockPatch(_)
            | Operator::KeepPatch(_) => mask::full_mask(&tensor, rows, shape)?,
            Operator::ExtractPatch(op) => patch::extract_patch(op, values, batch, device)?,
            Operator::ConvolveNoise(op) => blur::convolve_noise(op, &tensor, rows, device)?,
            Operator::PadRotateProject(op) => {
                rotate::pad_rotate_project(op, values, &tensor, batch, device)?
            }
            Operator::GaussianProjection(op) => projection::gaussian_projection(op, &tensor, rows)?,
            _ => return Err(ambient_core::measure::MeasureError::Unsupported.into()),
        };
        Ok(Theta {
            op: self.op.clone(),
            batch,
            device,
            values: tensor,
            form,
        })
    }

    /// Applies `f_θ` to a batch `x` of shape `[B, C, H, W]` (f32, on θ's device) and returns
    /// `[B, ...output_shape()]`, differentiable in `x`.
    pub fn apply(&self, x: &Tensor, theta: &Theta) -> Result<Tensor, MeasureError> {
        self.check_input(x, theta)?;
        let y = match &theta.form {
            Form::Mask(mask) => x.f_mul(mask)?,
            Form::Gather(index) => patch::apply_gather(x, index)?,
            Form::Blur(blur) => blur::apply(x, blur)?,
            Form::Rotate(rotate) => rotate::apply(x, rotate)?,
            Form::Projection(matrix) => projection::apply(x, matrix)?,
        };
        Ok(y)
    }

    fn check_input(&self, x: &Tensor, theta: &Theta) -> Result<(), MeasureError> {
        if theta.op != self.op {
            return Err(MeasureError::ThetaMismatch {
                theta: theta.op.kind().name(),
                operator: self.op.kind().name(),
            });
        }

        if !x.defined() {
            return Err(MeasureError::Undefined { what: "x" });
        }
        let mut expected = vec![to_i64(theta.batch, theta.batch)?];
        expected.extend_from_slice(&shape_dims(self.op.input_shape()));
        let actual = x.size();
        if actual != expected {
            return Err(MeasureError::Shape {
                what: "x",
                expected,
                actual,
            });
        }

        let kind = x.f_kind()?;
        if kind != Kind::Float {
            return Err(MeasureError::Kind {
                what: "x",
                expected: Kind::Float,
                actual: kind,
            });
        }

        if x.device() != theta.device {
            return Err(MeasureError::Device {
                x: x.device(),
                theta: theta.device,
            });
        }
        Ok(())
    }
}

/// Returns `[C, H, W]` of a shape the core has validated (every length fits in `i32`).
fn shape_dims(shape: Shape) -> [i64; 3] {
    [
        shape.channels as i64,
        shape.height as i64,
        shape.width as i64,
    ]
}

fn to_i64(n: usize, batch: usize) -> Result<i64, MeasureError> {
    i64::try_from(n).map_err(|_| MeasureError::BatchTooLarge { batch })
}

fn ambient_core_len_check(expected: usize, actual: usize) -> Result<(), MeasureError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ambient_core::measure::MeasureError::LengthMismatch {
            what: "theta",
            expected,
            actual,
        }
        .into())
    }
}
