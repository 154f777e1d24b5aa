//! Pad-Rotate-Project and Pad-Rotate-Project-θ: the core's rotation maps as a gather,
//! then sums over the width in the core's order.

use super::gather::{gather_flat, sum_last_in_order};
use super::parallel::fill_rows;
use super::{Form, MeasureError};
use ambient_core::measure::{Interpolation, Measurement, PadRotateProject};
use ambient_core::Shape;
use tch::{Device, Tensor};

/// The tensors of Pad-Rotate-Project for one batch.
#[derive(Debug)]
pub(super) struct Rotate {
    /// For every image, angle, padded pixel and tap, the flat index into the unpadded
    /// channel (`H·W` reads zero): `[B, 1, A·Hp·Wp·T]`, with `T` taps per pixel.
    index: Tensor,
    /// Bilinear weights `[B, 1, A, Hp, Wp, 4]`; `None` for nearest (one tap, weight 1).
    weight: Option<Tensor>,
    /// θ, the angles `[B, A, 1]`, appended to each projection by Pad-Rotate-Project-θ.
    angles: Option<Tensor>,
    /// `[A, Hp, Wp]`.
    dims: [i64; 3],
    /// Values of one image's measurement.
    output_len: i64,
}

/// Builds the gather index (and bilinear weights) of a batch from θ, the angles, with the
/// core's [`PadRotateProject::nearest_map`] or [`PadRotateProject::bilinear_map`].
///
/// The core's maps index the padded channel, so they are translated here to the unpadded
/// one. Every tap in the padding or outside the image reads the zero slot `H·W`.
pub(super) fn pad_rotate_project(
    op: &PadRotateProject,
    values: &[f32],
    angles: &Tensor,
    batch: usize,
    device: Device,
) -> Result<Form, MeasureError> {
    let taps = match op.interpolation() {
        Interpolation::Nearest => 1,
        Interpolation::Bilinear => 4,
        _ => return Err(ambient_core::measure::MeasureError::Unsupported.into()),
    };
    let per_angle = op.map_len() * taps;
    let per_image = op
        .angles()
        .checked_mul(per_angle)
        .ok_or(MeasureError::BatchTooLarge { batch })?;
    let total = per_image
        .checked_mul(batch)
        .ok_or(MeasureError::BatchTooLarge { batch })?;

    let mut index = vec![0i64; total];
    let mut weight = vec![0.0f32; if taps == 4 { total } else { 0 }];
    let theta_len = op.theta_len();
    if taps == 4 {
        fill_bilinear(op, values, &mut index, &mut weight, per_angle)?;
    } else {
        fill_rows(&mut index, per_image, per_image, |b, out| {
            let image_angles = &values[b * theta_len..(b + 1) * theta_len];
            fill_nearest(op, image_angles, out)
        })?;
    }

    let a = op.angles() as i64;
    let hp = op.padded_height() as i64;
    let wp = op.padded_width() as i64;
    let rows = batch as i64;
    let index =
        Tensor::f_from_slice(&index)?
            .f_to_device(device)?
            .f_view([rows, 1, per_image as i64])?;
    let weight = match taps {
        4 => Some(
            Tensor::f_from_slice(&weight)?
                .f_to_device(device)?
                .f_view([rows, 1, a, hp, wp, 4])?,
        ),
        _ => None,
    };
    let angles = if op.with_theta() {
        Some(angles.f_view([rows, a, 1])?)
    } else {
        None
    };
    Ok(Form::Rotate(Rotate {
        index,
        weight,
        angles,
        dims: [a, hp, wp],
        output_len: op.output_len() as i64,
    }))
}

fn fill_nearest(
    op: &PadRotateProject,
    angles: &[f32],
    out: &mut [i64],
) -> Result<(), MeasureError> {
    let mut map = vec![0i32; op.map_len()];
    for (angle, out) in angles.iter().zip(out.chunks_exact_mut(op.map_len())) {
        op.nearest_map(*angle, &mut map)?;
        for (entry, source) in out.iter_mut().zip(&map) {
            *entry = unpadded_index(op, *source);
        }
    }
    Ok(())
}

/// Fills the bilinear index and weights, image by image. The two buffers are split into
/// matching rows so that each image's rows can be filled on its own thread.
fn fill_bilinear(
    op: &PadRotateProject,
    values: &[f32],
    index: &mut [i64],
    weight: &mut [f32],
    per_angle: usize,
) -> Result<(), MeasureError> {
    let mut pairs: Vec<(&mut [i64], &mut [f32])> = index
        .chunks_exact_mut(per_angle)
        .zip(weight.chunks_exact_mut(per_angle))
        .collect();
    let angles = op.angles();
    fill_rows(&mut pairs, angles, angles * per_angle, |b, rows| {
        let mut map = vec![0i32; per_angle];
        for (a, (index, weight)) in rows.iter_mut().enumerate() {
            op.bilinear_map(values[b * angles + a], &mut map, weight)?;
            for (entry, source) in index.iter_mut().zip(&map) {
                *entry = unpadded_index(op, *source);
            }
        }
        Ok(())
    })
}

/// Translates a flat index into the padded channel (or -1) into a flat index into the
/// unpadded channel, with the zero slot `H·W` for the padding and outside.
fn unpadded_index(op: &PadRotateProject, source: i32) -> i64 {
    let Shape { height, width, .. } = op.input_shape();
    let zero_slot = (height * width) as i64;
    let Ok(source) = usize::try_from(source) else {
        return zero_slot;
    };
    let wp = op.padded_width();
    let row = (source / wp).wrapping_sub(op.pad());
    let col = (source % wp).wrapping_sub(op.pad());
    if row < height && col < width {
        (row * width + col) as i64
    } else {
        zero_slot
    }
}

/// Returns the projections `[B, A·(Hp·C + with_theta)]` of `x` of shape `[B, C, H, W]`,
/// each `[Hp, C]` with the channel fastest, followed by its angle for
/// Pad-Rotate-Project-θ.
///
/// The taps and the columns are summed in the core's order (see
/// [`sum_last_in_order`]), so the nearest and bilinear results match the core's exactly.
pub(super) fn apply(x: &Tensor, rotate: &Rotate) -> Result<Tensor, MeasureError> {
    let size = x.size();
    let (batch, channels) = (size[0], size[1]);
    let [a, hp, wp] = rotate.dims;
    let gathered = gather_flat(x, &rotate.index)?;

    let rotated = match &rotate.weight {
        Some(weight) => {
            let taps = gathered.f_view([batch, channels, a, hp, wp, 4])?;
            // The core multiplies weight by value and adds the four products in tap order.
            sum_last_in_order(&taps.f_mul(weight)?)?
        }
        None => gathered.f_view([batch, channels, a, hp, wp])?,
    };
    let projections = sum_last_in_order(&rotated)?
        .f_permute([0, 2, 3, 1])?
        .f_reshape([batch, a, hp * channels])?;

    let blocks = match &rotate.angles {
        Some(angles) => Tensor::f_cat(&[&projections, angles], 2)?,
        None => projections,
    };
    Ok(blocks.f_reshape([batch, rotate.output_len])?)
}
