//! Measurement operators `y = f_θ(x)`.
//!
//! Each operator is a small value type built for one image [`Shape`] and validated at
//! construction. All of them implement [`Measurement`]:
//!
//! - [`Measurement::measure`] draws θ from a seed on the fly, so a device needs no θ buffer;
//! - [`Measurement::theta`] writes the same θ explicitly (a mask, patch offsets, angles, a
//!   noise field), so the host trainer can apply `f_θ` to tensors and differentiate it.
//!
//! `measure(x, seed, y)` and "write `theta(seed)`, then apply it" draw the same θ from
//! [`crate::sampler::Sampler`], in the order each operator documents. Applied with the
//! summation order each operator documents, they give identical values. An applier that
//! sums in another order (a tensor library's convolution or matrix product) agrees to `f32`
//! rounding for Convolve+Noise, Pad-Rotate-Project and Gaussian-Projection, and exactly for
//! the others.
//!
//! # θ of each operator
//!
//! Images are `[C, H, W]`, `n = C·H·W`, and "mask" means one value per image value in
//! storage order with `y = θ ⊙ x`.
//!
//! | operator | θ | `theta_len` | `y` |
//! |---|---|---|---|
//! | [`BlockPixels`] | mask: 0 or the kept scale `s` (`1/(1-p)`, or 1) | `n` | `n` |
//! | [`DropLines`] | mask: 0 or `s` (0 or `s²` for Drop-Row-Col) | `n` | `n` |
//! | [`BlockPatch`] | mask: 0 inside the `k`×`k` patch, 1 outside | `n` | `n` |
//! | [`KeepPatch`] | mask: 1 inside the patch, 0 outside | `n` | `n` |
//! | [`ExtractPatch`] | the corner `[i, j]` | 2 | `n` |
//! | [`ConvolveNoise`] | the noise field, added after the blur | `n` | `n` |
//! | [`PadRotateProject`] | the angles in radians | `a` | `a · (Hp·C + t)` |
//! | [`GaussianProjection`] | the `m × n` matrix, row by row | `m · n` | `m` |
//!
//! For Pad-Rotate-Project `a` is the number of angles, `Hp` the padded height, and `t` is 1
//! for Pad-Rotate-Project-θ (the angle follows each projection) and 0 otherwise.
//!
//! "The reference code" in these docs is the AmbientGAN authors' TensorFlow implementation
//! (`AshishBora/ambient-gan` on GitHub), whose behaviour the operators follow unless they
//! say otherwise.
//!
//! [`Operator`] wraps every kind behind one type for code that picks the measurement at
//! run time (the command line, the C ABI, the record reader).

mod block_patch;
mod block_pixels;
mod convolve_noise;
mod drop_lines;
mod error;
mod extract_patch;
mod gaussian_projection;
mod keep_patch;
mod pad_rotate_project;
mod params;
mod patch;
mod rotation;
#[cfg(test)]
mod stability;
#[cfg(test)]
mod tests;

pub use block_patch::BlockPatch;
pub use block_pixels::BlockPixels;
pub use convolve_noise::{ConvolveNoise, MAX_KERNEL_SIZE};
pub use drop_lines::{DropLines, Lines};
pub use error::MeasureError;
pub use extract_patch::ExtractPatch;
pub use gaussian_projection::GaussianProjection;
pub use keep_patch::KeepPatch;
pub use pad_rotate_project::PadRotateProject;
pub use params::{Interpolation, MeasurementKind, MeasurementParams};

pub(crate) use error::{check_len, check_probability, checked_image_len, checked_size};

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
    for (i, (xi, yi)) in x
        .chunks_exact(n_in)
        .zip(y.chunks_exact_mut(n_out))
        .enumerate()
    {
        op.measure(xi, image_seed(batch_seed, i as u64), yi)?;
    }
    Ok(())
}

/// Any measurement, chosen at run time.
///
/// Kinds that share one type share a variant: Drop-Row, Drop-Col and Drop-Row-Col are
/// [`DropLines`], and Pad-Rotate-Project with or without θ is [`PadRotateProject`].
/// [`Operator::kind`] returns the exact kind.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Operator {
    /// Block-Pixels.
    BlockPixels(BlockPixels),
    /// Drop-Row, Drop-Col or Drop-Row-Col.
    DropLines(DropLines),
    /// Block-Patch.
    BlockPatch(BlockPatch),
    /// Keep-Patch.
    KeepPatch(KeepPatch),
    /// Extract-Patch.
    ExtractPatch(ExtractPatch),
    /// Convolve+Noise.
    ConvolveNoise(ConvolveNoise),
    /// Pad-Rotate-Project or Pad-Rotate-Project-θ.
    PadRotateProject(PadRotateProject),
    /// Gaussian-Projection.
    GaussianProjection(GaussianProjection),
}

impl Operator {
    /// Builds the operator of `kind` for images of `shape` from `params`, validating the
    /// parameters that kind uses.
    pub fn new(
        kind: MeasurementKind,
        shape: Shape,
        params: &MeasurementParams,
    ) -> Result<Self, MeasureError> {
        let p = params;
        let drop_lines = |lines| DropLines::new(shape, lines, p.p, p.rescale, p.per_channel);
        let rotate =
            |with_theta| PadRotateProject::new(shape, p.pad, p.angles, p.interpolation, with_theta);
        let op = match kind {
            MeasurementKind::BlockPixels => {
                Self::BlockPixels(BlockPixels::new(shape, p.p, p.rescale, p.per_channel)?)
            }
            MeasurementKind::DropRow => Self::DropLines(drop_lines(Lines::Rows)?),
            MeasurementKind::DropCol => Self::DropLines(drop_lines(Lines::Columns)?),
            MeasurementKind::DropRowCol => Self::DropLines(drop_lines(Lines::RowsAndColumns)?),
            MeasurementKind::BlockPatch => Self::BlockPatch(BlockPatch::new(shape, p.patch)?),
            MeasurementKind::KeepPatch => Self::KeepPatch(KeepPatch::new(shape, p.patch)?),
            MeasurementKind::ExtractPatch => Self::ExtractPatch(ExtractPatch::new(shape, p.patch)?),
            MeasurementKind::ConvolveNoise => Self::ConvolveNoise(ConvolveNoise::new(
                shape,
                p.kernel_size,
                p.sigma,
                p.noise_std,
            )?),
            MeasurementKind::PadRotateProject => Self::PadRotateProject(rotate(false)?),
            MeasurementKind::PadRotateProjectTheta => Self::PadRotateProject(rotate(true)?),
            MeasurementKind::GaussianProjection => {
                Self::GaussianProjection(GaussianProjection::new(shape, p.projections)?)
            }
        };
        Ok(op)
    }

    /// Returns the operator's kind.
    pub fn kind(&self) -> MeasurementKind {
        match self {
            Self::BlockPixels(_) => MeasurementKind::BlockPixels,
            Self::DropLines(op) => op.kind(),
            Self::BlockPatch(_) => MeasurementKind::BlockPatch,
            Self::KeepPatch(_) => MeasurementKind::KeepPatch,
            Self::ExtractPatch(_) => MeasurementKind::ExtractPatch,
            Self::ConvolveNoise(_) => MeasurementKind::ConvolveNoise,
            Self::PadRotateProject(op) => op.kind(),
            Self::GaussianProjection(_) => MeasurementKind::GaussianProjection,
        }
    }

    fn inner(&self) -> &dyn Measurement {
        match self {
            Self::BlockPixels(op) => op,
            Self::DropLines(op) => op,
            Self::BlockPatch(op) => op,
            Self::KeepPatch(op) => op,
            Self::ExtractPatch(op) => op,
            Self::ConvolveNoise(op) => op,
            Self::PadRotateProject(op) => op,
            Self::GaussianProjection(op) => op,
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
