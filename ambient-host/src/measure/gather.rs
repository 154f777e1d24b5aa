//! Batched gathers from flattened images, and sums in the core's order.

use super::MeasureError;
use tch::Tensor;

/// Gathers `x[b, c, index[b, 0, l]]` for every channel from `x` of shape `[B, C, H, W]`,
/// with `index` of shape `[B, 1, L]` (i64) into the flattened channel, and returns
/// `[B, C, L]`.
///
/// Index `H·W` reads a zero: the channels are padded with one zero value, so pixels
/// outside the image need no mask (and no `0 · x`, which would turn an infinite or NaN
/// `x` into NaN where the core writes 0).
pub(super) fn gather_flat(x: &Tensor, index: &Tensor) -> Result<Tensor, MeasureError> {
    let size = x.size();
    let (batch, channels) = (size[0], size[1]);
    let flat = x.f_flatten(2, 3)?.f_constant_pad_nd([0, 1])?;
    let length = index.size()[2];
    let index = index.f_expand([batch, channels, length], false)?;
    Ok(flat.f_gather(2, &index, false)?)
}

/// Sums `t` over its last dimension left to right, `((t₀ + t₁) + t₂) + …`, the order in
/// which the core accumulates, so that the result is the core's to the bit (up to the sign
/// of a zero sum).
///
/// `Tensor::sum` does not promise an order: it reduces in vectorised blocks.
pub(super) fn sum_last_in_order(t: &Tensor) -> Result<Tensor, MeasureError> {
    let parts = t.f_unbind(-1)?;
    let mut parts = parts.into_iter();
    let Some(mut total) = parts.next() else {
        let mut size = t.size();
        size.pop();
        return Ok(Tensor::f_zeros(&size, (t.f_kind()?, t.device()))?);
    };
    for part in parts {
        total = total.f_add(&part)?;
    }
    Ok(total)
}
