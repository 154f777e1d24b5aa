//! Drop-Row, Drop-Col and Drop-Row-Col: whole rows, columns, or both zeroed with
//! probability `p`.

use super::MeasurementKind;
use super::{check_len, check_probability, checked_image_len, MeasureError, Measurement};
use crate::sampler::{uniform_of, Sampler};
use crate::Shape;

/// Column draws made at a time with [`Sampler::fill_u32`] (256 bytes of stack).
const LINE_CHUNK: usize = 64;

/// The lines of the image that [`DropLines`] drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lines {
    /// Drop-Row: one draw per row.
    Rows,
    /// Drop-Col: one draw per column.
    Columns,
    /// Drop-Row-Col: independent row and column masks, multiplied.
    RowsAndColumns,
}

/// Drop-Row, Drop-Col and Drop-Row-Col.
///
/// Each row (or column) is kept when a uniform draw `u` satisfies `u >= p` and zeroed
/// otherwise, like a pixel of Block-Pixels. With `rescale` a kept line is multiplied by
/// `1/(1-p)`; Drop-Row-Col multiplies a row factor and a column factor, so a value that
/// survives both is scaled by `1/(1-p)²`, as the reference code does.
///
/// With `per_channel` (the reference code's behaviour) every channel has its own row and
/// column draws; otherwise one set of draws is shared by all channels.
///
/// θ is the full mask, one value per image value in storage order (`0`, or the kept
/// scale), and `y = θ ⊙ x`, except that a dropped value is `+0.0` even where `x` is
/// negative, infinite or NaN. `output_len` equals the image size.
///
/// Order of draws, one uniform each: the row draws first, channel by channel (`C·H` draws,
/// or `H` when shared), then the column draws, channel by channel (`C·W`, or `W`). Drop-Row
/// makes only the row draws and Drop-Col only the column draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropLines {
    shape: Shape,
    len: usize,
    lines: Lines,
    p: f32,
    scale: f32,
    per_channel: bool,
}

impl DropLines {
    /// Builds the operator for images of `shape`; `p` must be in `[0, 1)`.
    pub fn new(
        shape: Shape,
        lines: Lines,
        p: f32,
        rescale: bool,
        per_channel: bool,
    ) -> Result<Self, MeasureError> {
        let len = checked_image_len(shape)?;
        check_probability(p)?;
        let scale = if rescale { 1.0 / (1.0 - p) } else { 1.0 };
        Ok(Self {
            shape,
            len,
            lines,
            p,
            scale,
            per_channel,
        })
    }

    /// Returns which lines are dropped.
    pub fn lines(&self) -> Lines {
        self.lines
    }

    /// Returns the measurement kind (Drop-Row, Drop-Col or Drop-Row-Col).
    pub fn kind(&self) -> MeasurementKind {
        match self.lines {
            Lines::Rows => MeasurementKind::DropRow,
            Lines::Columns => MeasurementKind::DropCol,
            Lines::RowsAndColumns => MeasurementKind::DropRowCol,
        }
    }

    /// Returns the drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// Returns the factor of one kept line (`1/(1-p)` or 1).
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Returns whether each channel has its own draws.
    pub fn per_channel(&self) -> bool {
        self.per_channel
    }

    fn drops_rows(&self) -> bool {
        matches!(self.lines, Lines::Rows | Lines::RowsAndColumns)
    }

    fn drops_columns(&self) -> bool {
        matches!(self.lines, Lines::Columns | Lines::RowsAndColumns)
    }

    /// Returns the sampler positioned at the first line draw of `channel`, for lines whose
    /// draws begin `start` draws into the order with `lines_per_channel` draws a channel.
    fn line_sampler(
        &self,
        seed: u64,
        start: usize,
        lines_per_channel: usize,
        channel: usize,
    ) -> Sampler {
        let mut sampler = Sampler::new(seed);
        let within = if self.per_channel {
            channel * lines_per_channel
        } else {
            0
        };
        sampler.skip((start + within) as u64);
        sampler
    }

    fn line_factor(&self, sampler: &mut Sampler, drops: bool) -> f32 {
        if drops {
            self.factor_of(sampler.next_u32())
        } else {
            1.0
        }
    }

    /// Returns the factor of a dropped line for the raw draw `u`: the kept scale when its
    /// uniform reaches `p`, else 0.
    fn factor_of(&self, u: u32) -> f32 {
        if uniform_of(u) >= self.p {
            self.scale
        } else {
            0.0
        }
    }

    /// Calls `visit(index, factor)` for every image value in storage order.
    ///
    /// The column factors are redrawn for every row from a copy of the channel's column
    /// sampler, which costs `H·W` draws per channel but needs no buffer beyond one chunk of
    /// [`LINE_CHUNK`] raw draws on the stack, made at a time with [`Sampler::fill_u32`].
    pub(crate) fn for_each_mask(&self, seed: u64, mut visit: impl FnMut(usize, f32)) {
        let Shape {
            channels,
            height,
            width,
        } = self.shape;
        let row_draws = if !self.drops_rows() {
            0
        } else if self.per_channel {
            channels * height
        } else {
            height
        };

        let mut draws = [0u32; LINE_CHUNK];
        let mut index = 0;
        for c in 0..channels {
            let mut rows = self.line_sampler(seed, 0, height, c);
            let columns = self.line_sampler(seed, row_draws, width, c);
            for _ in 0..height {
                let row_factor = self.line_factor(&mut rows, self.drops_rows());
                if !self.drops_columns() {
                    for _ in 0..width {
                        visit(index, row_factor);
                        index += 1;
                    }
                    continue;
                }
                let mut row_columns = columns.clone();
                for start in (0..width).step_by(LINE_CHUNK) {
                    let chunk = &mut draws[..LINE_CHUNK.min(width - start)];
                    row_columns.fill_u32(chunk);
                    for &u in chunk.iter() {
                        visit(index, row_factor * self.factor_of(u));
                        index += 1;
                    }
                }
            }
        }
    }
}

impl Measurement for DropLines {
    fn input_shape(&self) -> Shape {
        self.shape
    }

    fn output_len(&self) -> usize {
        self.len
    }

    fn theta_len(&self) -> usize {
        self.len
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("y", self.len, y.len())?;
        self.for_each_mask(seed, |i, factor| {
            // Both values are formed first, so this is a select and not a branch.
            let scaled = factor * x[i];
            y[i] = if factor == 0.0 { 0.0 } else { scaled };
        });
        Ok(())
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        check_len("theta", self.len, theta.len())?;
        self.for_each_mask(seed, |i, factor| theta[i] = factor);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_4x4() -> [f32; 16] {
        core::array::from_fn(|i| (i + 1) as f32 / 16.0)
    }

    /// Replays `n` documented uniform draws from `seed` as keep decisions.
    fn replay_kept<const N: usize>(seed: u64, skip: u64, p: f32) -> [bool; N] {
        let mut s = Sampler::new(seed);
        s.skip(skip);
        core::array::from_fn(|_| s.uniform() >= p)
    }

    #[test]
    fn wide_rows_replay_documented_draws() {
        // 70 columns cross a chunk of column draws. The row draws come first (one per row
        // of each channel, or per row when shared), then the column draws the same way.
        let shape = Shape::new(2, 3, 70);
        let x: std::vec::Vec<f32> = (0..420).map(|i| i as f32 + 1.0).collect();
        for lines in [Lines::Columns, Lines::RowsAndColumns] {
            for per_channel in [true, false] {
                let op = DropLines::new(shape, lines, 0.5, true, per_channel).unwrap();
                let mut y = [f32::NAN; 420];
                op.measure(&x, 4, &mut y).unwrap();

                let drops_rows = lines == Lines::RowsAndColumns;
                let row_draws = match (drops_rows, per_channel) {
                    (false, _) => 0,
                    (true, true) => 6,
                    (true, false) => 3,
                };
                let draw = |k: usize| {
                    let mut s = Sampler::new(4);
                    s.skip(k as u64);
                    if s.uniform() >= 0.5 {
                        2.0
                    } else {
                        0.0
                    }
                };
                for c in 0..2 {
                    let within = if per_channel { c } else { 0 };
                    for r in 0..3 {
                        let row = if drops_rows {
                            draw(within * 3 + r)
                        } else {
                            1.0
                        };
                        for col in 0..70 {
                            let i = (c * 3 + r) * 70 + col;
                            let want = row * draw(row_draws + within * 70 + col) * x[i];
                            assert_eq!(y[i], want, "{lines:?} {per_channel} value {i}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn drop_row_zeroes_whole_rows() {
        let op = DropLines::new(Shape::new(1, 4, 4), Lines::Rows, 0.5, true, true).unwrap();
        let x = image_4x4();
        let mut y = [0.0; 16];
        op.measure(&x, 3, &mut y).unwrap();

        let kept: [bool; 4] = replay_kept(3, 0, 0.5);
        for (r, &row_kept) in kept.iter().enumerate() {
            for c in 0..4 {
                let i = r * 4 + c;
                let expected = if row_kept { 2.0 * x[i] } else { 0.0 };
                assert_eq!(y[i], expected, "row {r} column {c}");
            }
        }
    }

    #[test]
    fn drop_col_zeroes_whole_columns() {
        let op = DropLines::new(Shape::new(1, 4, 4), Lines::Columns, 0.5, false, true).unwrap();
        let x = image_4x4();
        let mut y = [0.0; 16];
        op.measure(&x, 4, &mut y).unwrap();

        let kept: [bool; 4] = replay_kept(4, 0, 0.5);
        for r in 0..4 {
            for (c, &column_kept) in kept.iter().enumerate() {
                let i = r * 4 + c;
                let expected = if column_kept { x[i] } else { 0.0 };
                assert_eq!(y[i], expected, "row {r} column {c}");
            }
        }
    }

    #[test]
    fn drop_row_col_multiplies_masks() {
        let shape = Shape::new(2, 4, 4);
        let op = DropLines::new(shape, Lines::RowsAndColumns, 0.5, true, true).unwrap();
        let mut theta = [0.0; 32];
        op.theta(6, &mut theta).unwrap();

        // Rows of both channels come first (8 draws), then the columns of both channels.
        let rows: [bool; 8] = replay_kept(6, 0, 0.5);
        let columns: [bool; 8] = replay_kept(6, 8, 0.5);
        for ch in 0..2 {
            for r in 0..4 {
                for c in 0..4 {
                    let kept = rows[ch * 4 + r] && columns[ch * 4 + c];
                    let expected = if kept { 4.0 } else { 0.0 };
                    assert_eq!(theta[ch * 16 + r * 4 + c], expected, "{ch} {r} {c}");
                }
            }
        }
    }

    #[test]
    fn shared_draws_repeat_in_every_channel() {
        let shape = Shape::new(3, 4, 4);
        let op = DropLines::new(shape, Lines::RowsAndColumns, 0.5, false, false).unwrap();
        let mut theta = [0.0; 48];
        op.theta(2, &mut theta).unwrap();
        assert_eq!(theta[..16], theta[16..32]);
        assert_eq!(theta[..16], theta[32..]);

        let rows: [bool; 4] = replay_kept(2, 0, 0.5);
        let columns: [bool; 4] = replay_kept(2, 4, 0.5);
        for r in 0..4 {
            for c in 0..4 {
                let expected = if rows[r] && columns[c] { 1.0 } else { 0.0 };
                assert_eq!(theta[r * 4 + c], expected, "row {r} column {c}");
            }
        }
    }

    #[test]
    fn per_channel_draws_differ_between_channels() {
        // With p = 0.5 and 2 × 16 row draws, identical channels have probability 2^-16.
        let shape = Shape::new(2, 16, 4);
        let op = DropLines::new(shape, Lines::Rows, 0.5, false, true).unwrap();
        let mut theta = [0.0; 128];
        op.theta(1, &mut theta).unwrap();
        assert_ne!(theta[..64], theta[64..]);
    }

    #[test]
    fn rejects_invalid_parameters() {
        let shape = Shape::new(1, 4, 4);
        for p in [1.0, -0.5, f32::INFINITY] {
            assert_eq!(
                DropLines::new(shape, Lines::Rows, p, true, true),
                Err(MeasureError::InvalidProbability { value: p })
            );
        }
        assert!(matches!(
            DropLines::new(Shape::new(0, 4, 4), Lines::Columns, 0.5, true, true),
            Err(MeasureError::InvalidShape { .. })
        ));
    }
}
