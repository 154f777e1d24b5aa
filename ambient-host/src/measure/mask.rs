//! The mask measurements: Block-Pixels, Drop-Row, Drop-Col, Drop-Row-Col, Block-Patch and
//! Keep-Patch, each `y = θ ⊙ x`.

use super::{shape_dims, Form, MeasureError};
use ambient_core::Shape;
use tch::Tensor;

/// Views θ, which the core writes as the full mask (one value per image value in storage
/// order, `[B, C·H·W]`), as `[B, C, H, W]`, so `apply` is one broadcast-free multiply.
///
/// NOTE: a dropped value is `0 · x`, which is NaN for an infinite or NaN `x`, where the
/// core writes 0. The two agree on every finite image.
pub(super) fn full_mask(values: &Tensor, rows: i64, shape: Shape) -> Result<Form, MeasureError> {
    let [c, h, w] = shape_dims(shape);
    Ok(Form::Mask(values.f_view([rows, c, h, w])?))
}
