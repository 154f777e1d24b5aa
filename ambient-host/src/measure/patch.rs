//! Extract-Patch: the core's patch corner turned into a gather index.

use super::gather::gather_flat;
use super::parallel::fill_rows;
use super::{Form, MeasureError};
use ambient_core::measure::ExtractPatch;
use ambient_core::measure::Measurement;
use ambient_core::Shape;
use tch::{Device, Tensor};

/// Builds the gather index of a batch from θ, the corner `[i, j]` of each image's patch.
///
/// Output pixel `(r, c)` inside the centred `k × k` window reads input pixel
/// `(i + r - top, j + c - left)`, with `(top, left)` the core's [`ExtractPatch::placement`];
/// every other output pixel reads the zero slot `H·W`. The index is `[B, 1, H·W]`.
pub(super) fn extract_patch(
    op: &ExtractPatch,
    values: &[f32],
    batch: usize,
    device: Device,
) -> Result<Form, MeasureError> {
    let Shape { height, width, .. } = op.input_shape();
    let plane = height * width;
    let total = batch
        .checked_mul(plane)
        .ok_or(MeasureError::BatchTooLarge { batch })?;

    let mut index = vec![0i64; total];
    fill_rows(&mut index, plane, plane, |b, row| {
        let corner = checked_corner(op, values[2 * b], values[2 * b + 1])?;
        fill_index(op, corner, row);
        Ok(())
    })?;

    let index = Tensor::f_from_slice(&index)?.f_to_device(device)?.f_view([
        batch as i64,
        1,
        plane as i64,
    ])?;
    Ok(Form::Gather(index))
}

/// Returns the corner θ stores, or an error when it is not a whole-number position where
/// the patch fits (θ read from a file may be anything).
fn checked_corner(op: &ExtractPatch, i: f32, j: f32) -> Result<(usize, usize), MeasureError> {
    let Shape { height, width, .. } = op.input_shape();
    let k = op.patch();
    let check = |index: usize, value: f32, limit: usize| {
        let whole = value.fract() == 0.0 && value >= 0.0 && value <= limit as f32;
        if whole {
            Ok(value as usize)
        } else {
            Err(MeasureError::InvalidTheta {
                index,
                value,
                reason: "a patch corner must be a whole number where the patch fits",
            })
        }
    };
    Ok((check(0, i, height - k)?, check(1, j, width - k)?))
}

fn fill_index(op: &ExtractPatch, (i, j): (usize, usize), out: &mut [i64]) {
    let Shape { height, width, .. } = op.input_shape();
    let k = op.patch();
    let (top, left) = op.placement();
    let zero_slot = (height * width) as i64;
    for (r, out_row) in out.chunks_exact_mut(width).enumerate() {
        for (c, entry) in out_row.iter_mut().enumerate() {
            let inside = (top..top + k).contains(&r) && (left..left + k).contains(&c);
            *entry = if inside {
                ((i + r - top) * width + (j + c - left)) as i64
            } else {
                zero_slot
            };
        }
    }
}

/// Applies a gather index of shape `[B, 1, H·W]` to `x` of shape `[B, C, H, W]`.
pub(super) fn apply_gather(x: &Tensor, index: &Tensor) -> Result<Tensor, MeasureError> {
    let size = x.size();
    Ok(gather_flat(x, index)?.f_view(size.as_slice())?)
}
