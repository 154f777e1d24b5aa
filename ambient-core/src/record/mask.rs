//! The storage rule of each measurement kind's values, and the masks of the kinds that
//! store only their surviving values.

use super::RecordError;
use crate::measure::{
    BlockPixels, DropLines, Lines, MeasureError, Measurement, MeasurementKind, Operator,
};
use crate::sampler::Sampler;
use crate::Shape;

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
///
/// NOTE: this is a second copy of the mask rules of `BlockPixels` and `DropLines`, whose
/// own visitors are private. Delegating to a public visitor would remove the copy.
pub(crate) fn for_each_kept(
    op: &Operator,
    seed: u64,
    visit: impl FnMut(usize, bool),
) -> Result<(), RecordError> {
    match op {
        Operator::BlockPixels(bp) => block_pixels_kept(bp, seed, visit),
        Operator::DropLines(dl) => drop_lines_kept(dl, seed, visit),
        _ => return Err(RecordError::InvalidParams(MeasureError::Unsupported)),
    }
    Ok(())
}

/// Block-Pixels: one uniform per value in storage order, or one per pixel shared by every
/// channel; a value is kept when its uniform is at least `p`.
fn block_pixels_kept(bp: &BlockPixels, seed: u64, mut visit: impl FnMut(usize, bool)) {
    let shape = bp.input_shape();
    let plane = shape.height * shape.width;
    if bp.per_channel() {
        let mut sampler = Sampler::new(seed);
        for i in 0..plane * shape.channels {
            visit(i, sampler.uniform() >= bp.p());
        }
    } else {
        // Replaying the shared draws for each channel keeps the visits in storage order
        // without a mask buffer.
        for c in 0..shape.channels {
            let mut sampler = Sampler::new(seed);
            for pixel in 0..plane {
                visit(c * plane + pixel, sampler.uniform() >= bp.p());
            }
        }
    }
}

/// Drop-Row, Drop-Col and Drop-Row-Col: all row draws first (`C·H`, or `H` when shared),
/// then all column draws (`C·W`, or `W`); a value is kept when its row and its column are.
fn drop_lines_kept(dl: &DropLines, seed: u64, mut visit: impl FnMut(usize, bool)) {
    let Shape {
        channels,
        height,
        width,
    } = dl.input_shape();
    let drops_rows = matches!(dl.lines(), Lines::Rows | Lines::RowsAndColumns);
    let drops_columns = matches!(dl.lines(), Lines::Columns | Lines::RowsAndColumns);
    let per_channel = dl.per_channel();
    let row_draws = match (drops_rows, per_channel) {
        (false, _) => 0,
        (true, true) => channels * height,
        (true, false) => height,
    };
    let line_kept = |sampler: &mut Sampler, drops: bool| !drops || sampler.uniform() >= dl.p();

    let mut index = 0;
    for c in 0..channels {
        let (row_skip, column_skip) = if per_channel {
            (c * height, c * width)
        } else {
            (0, 0)
        };
        let mut rows = Sampler::new(seed);
        rows.skip(row_skip as u64);
        let mut first_column = Sampler::new(seed);
        first_column.skip((row_draws + column_skip) as u64);
        for _ in 0..height {
            let row = line_kept(&mut rows, drops_rows);
            let mut columns = first_column.clone();
            for _ in 0..width {
                let column = line_kept(&mut columns, drops_columns);
                visit(index, row && column);
                index += 1;
            }
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
