//! The storage rule of each measurement kind's values, and the masks of the kinds that
//! store only their surviving values.

use super::RecordError;
use crate::measure::{BlockPixels, MeasureError, Measurement, MeasurementKind, Operator};
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
/// The operators' own mask visitors draw the mask; only Block-Pixels with a shared mask
/// needs a different visiting order here, because its visitor goes pixel by pixel.
pub(crate) fn for_each_kept(
    op: &Operator,
    seed: u64,
    mut visit: impl FnMut(usize, bool),
) -> Result<(), RecordError> {
    match op {
        Operator::BlockPixels(bp) => block_pixels_kept(bp, seed, visit),
        Operator::DropLines(dl) => dl.for_each_mask(seed, |i, factor| visit(i, factor != 0.0)),
        _ => return Err(RecordError::InvalidParams(MeasureError::Unsupported)),
    }
    Ok(())
}

/// Block-Pixels: a value is kept when its uniform is at least `p`.
fn block_pixels_kept(bp: &BlockPixels, seed: u64, mut visit: impl FnMut(usize, bool)) {
    if bp.per_channel() {
        bp.for_each_mask(seed, visit);
        return;
    }

    // Replaying the shared draws for each channel keeps the visits in storage order
    // without a mask buffer.
    let shape = bp.input_shape();
    let plane = shape.height * shape.width;
    for c in 0..shape.channels {
        let mut sampler = Sampler::new(seed);
        for pixel in 0..plane {
            visit(c * plane + pixel, sampler.uniform() >= bp.p());
        }
    }
}

/// Writes `op`'s mask for `seed` into `out` (`output_len()` values, nonzero where a value
/// is kept) with the operator's own `theta`, and returns the number of kept values.
pub(crate) fn fill_mask(op: &Operator, seed: u64, out: &mut [f32]) -> Result<usize, RecordError> {
    match op {
        // θ is the per-value mask itself: 0 where dropped, the kept scale (at least 1)
        // where kept, so a kept value never reads as 0.
        Operator::BlockPixels(_) | Operator::DropLines(_) => op.theta(seed, out)?,
        _ => return Err(RecordError::InvalidParams(MeasureError::Unsupported)),
    }
    Ok(out.iter().filter(|&&m| m != 0.0).count())
}
