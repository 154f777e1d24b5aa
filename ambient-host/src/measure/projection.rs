//! Gaussian-Projection: a batched matrix product with θ, the core's Gaussian matrix.

use super::{Form, MeasureError};
use ambient_core::measure::{GaussianProjection, Measurement};
use tch::Tensor;

/// Views θ (the `m × n` matrix of each image, row by row) as `[B, m, n]`.
pub(super) fn gaussian_projection(
    op: &GaussianProjection,
    values: &Tensor,
    rows: i64,
) -> Result<Form, MeasureError> {
    let m = op.projections() as i64;
    let n = op.theta_len() as i64 / m;
    Ok(Form::Projection(values.f_view([rows, m, n])?))
}

/// Returns `θ x` for `x` of shape `[B, C, H, W]` flattened in storage order: `[B, m]`.
pub(super) fn apply(x: &Tensor, matrix: &Tensor) -> Result<Tensor, MeasureError> {
    let size = x.size();
    let column = x.f_reshape([size[0], size[1] * size[2] * size[3], 1])?;
    Ok(matrix.f_bmm(&column)?.f_squeeze_dim(2)?)
}
