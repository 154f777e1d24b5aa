//! The storage rule of each measurement kind's values, and the masks of the kinds that
//! store only their surviving values.

use super::RecordError;
use crate::measure::{MeasureError, Measurement, MeasurementKind, Operator};
use crate::sampler::Sampler;

/// The layout of one measurement's values in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Only the values the seed's mask keeps, in storage order; the reader regenerates
    /// the mask from the seed and puts zeros elsewhere.
    Survivors,
    /// All `output_len()` values.
    Dense,
}

impl Storage {
    /// Returns how records of `kind` store their values.
    ///
    /// This is part of the format: changing it for a kind is a new major version.
    pub const fn of(kind: MeasurementKind) -> Self {
        match kind {
            MeasurementKind::BlockPixels
            | MeasurementKind::DropRow
            | MeasurementKind::DropCol
            | MeasurementKind::DropRowCol => Self::Survivors,
            _ => Self::Dense,
        }
    }
}

/// Calls `visit(index, kept)` for every value of `op`'s output in storage order (index
/// 0, 1, 2, ...), drawing the mask from `seed` without a θ buffer.
///
/// The draws replay the operator's documented order; the record tests check this against
/// the operator's own `theta` for many seeds and parameters.
pub(crate) fn for_each_kept(
    op: &Operator,
    seed: u64,
    mut visit: impl FnMut(usize, bool),
) -> Result<(), RecordError> {
    match op {
        Operator::BlockPixels(bp) => {
            let shape = bp.input_shape();
            let plane = shape.height * shape.width;
            if bp.per_channel() {
                let mut sampler = Sampler::new(seed);
                for i in 0..plane * shape.channels {
                    visit(i, sampler.uniform() >= bp.p());
                }
            } else {
                // One draw per pixel is shared by every channel; replaying the draws for
                // each channel keeps the visits in storage order without a mask buffer.
                for c in 0..shape.channels {
                    let mut sampler = Sampler::new(seed);
                    for pixel in 0..plane {
                        visit(c * plane + pixel, sampler.uniform() >= bp.p());
                    }
                }
            }
            Ok(())
        }
        #[allow(unreachable_patterns)]
        _ => Err(RecordError::InvalidParams(MeasureError::Unsupported)),
    }
}

/// Writes `op`'s mask for `seed` into `out` (`output_len()` values, nonzero where a value
/// is kept) with the operator's own `theta`, and returns the number of kept values.
pub(crate) fn fill_mask(op: &Operator, seed: u64, out: &mut [f32]) -> Result<usize, RecordError> {
    match op {
        // θ is the per-value mask itself: 0 where dropped, the kept scale (at least 1)
        // where kept.
        Operator::BlockPixels(_) => op.theta(seed, out)?,
        #[allow(unreachable_patterns)]
        _ => return Err(RecordError::InvalidParams(MeasureError::Unsupported)),
    }
    Ok(out.iter().filter(|&&m| m != 0.0).count())
}
