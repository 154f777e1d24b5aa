//! Measurement operators `y = f_θ(x)`.
//!
//! Each operator is a small value type built for one image [`Shape`] and validated at
//! construction. All of them implement [`Measurement`]:
//!
//! - [`Measurement::measure`] draws θ from a seed on the fly, so a device needs no θ buffer;
//! - [`Measurement::theta`] writes the same θ explicitly (a mask, patch offsets, angles, a
//!   noise field), so the host trainer can apply `f_θ` to tensors and differentiate it.
//!
//! `measure(x, seed, y)` and "write `theta(seed)`, then apply it" give identical values: both
//! draw from [`crate::sampler::Sampler`] in the order each operator documents.
//!
//! [`Operator`] wraps every kind behind one type for code that picks the measurement at
//! run time (the command line, the C ABI, the record reader).

mod block_pixels;
mod error;
mod params;

pub use block_pixels::BlockPixels;
pub use error::MeasureError;
pub use params::{Interpolation, MeasurementKind, MeasurementParams};

pub(crate) use error::{check_len, check_probability, checked_image_len};

use crate::sampler::image_seed;
use crate::Shape;

/// A measurement `y = f_θ(x)` of one image, with θ drawn from a 64-bit seed.
pub trait Measurement {
    /// Returns the image shape the operator was built for.
    fn input_shape(&self) -> Shape;

    /// Returns the number of values in `y` for one image.
    fn output_len(&self) -> usize;

    /// Returns the number of values [`Measurement::theta`] writes for one image.
    fn theta_len(&self) -> usize;

    /// Measures one image: writes `f_θ(x)` into `y`, with θ drawn from `seed`.
    ///
    /// `x` must hold `input_shape()` values and `y` exactly `output_len()`.
    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError>;

    /// Writes the θ that `seed` draws into `theta` (exactly `theta_len()` values).
    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError>;
}

/// Measures a batch: image `i` of `x` is measured with seed [`image_seed`]`(batch_seed, i)`
/// into slot `i` of `y`.
pub fn measure_batch<M: Measurement + ?Sized>(
    op: &M,
    x: &[f32],
    batch_seed: u64,
    y: &mut [f32],
) -> Result<(), MeasureError> {
    let n_in = checked_image_len(op.input_shape())?;
    let n_out = op.output_len();
    let batch = x.len() / n_in;
    check_len("x", batch * n_in, x.len())?;
    check_len("y", batch * n_out, y.len())?;
    for (i, (xi, yi)) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)).enumerate() {
        op.measure(xi, image_seed(batch_seed, i as u64), yi)?;
    }
    Ok(())
}

/// Any measurement, chosen at run time.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Operator {
    /// Block-Pixels.
    BlockPixels(BlockPixels),
}

impl Operator {
    /// Builds the operator of `kind` for images of `shape` from `params`, validating the
    /// parameters that kind uses.
    pub fn new(
        kind: MeasurementKind,
        shape: Shape,
        params: &MeasurementParams,
    ) -> Result<Self, MeasureError> {
        match kind {
            MeasurementKind::BlockPixels => Ok(Self::BlockPixels(BlockPixels::new(
                shape,
                params.p,
                params.rescale,
                params.per_channel,
            )?)),
            _ => Err(MeasureError::Unsupported),
        }
    }

    /// Returns the operator's kind.
    pub fn kind(&self) -> MeasurementKind {
        match self {
            Self::BlockPixels(_) => MeasurementKind::BlockPixels,
        }
    }

    fn inner(&self) -> &dyn Measurement {
        match self {
            Self::BlockPixels(op) => op,
        }
    }
}

impl Measurement for Operator {
    fn input_shape(&self) -> Shape {
        self.inner().input_shape()
    }

    fn output_len(&self) -> usize {
        self.inner().output_len()
    }

    fn theta_len(&self) -> usize {
        self.inner().theta_len()
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        self.inner().measure(x, seed, y)
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        self.inner().theta(seed, theta)
    }
}
