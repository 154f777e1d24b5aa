//! Batch normalisation at inference and its conditional form, f32, and the folding of a
//! batch norm into the layer before it (used by the exporter).

use crate::format::Tensor;

/// Applies `y = scale[c] * x + shift[c]` in place to one image of `channels` planes.
/// `offset` selects the row of a conditional batch norm's `[classes, channels]` tables
/// (`label * channels`), and is 0 for a plain batch norm.
pub(crate) fn affine(
    x: &mut [f32],
    scale: &Tensor<'_>,
    shift: &Tensor<'_>,
    offset: usize,
    plane: usize,
) {
    for (c, ch) in x.chunks_exact_mut(plane).enumerate() {
        let a = scale.f32_at(offset + c);
        let b = shift.f32_at(offset + c);
        for v in ch {
            *v = *v * a + b;
        }
    }
}

/// Converts batch-norm statistics to the stored per-channel affine form:
/// `scale = gamma / sqrt(var + eps)`, `shift = beta - mean * scale`. All slices have one
/// entry per channel; returns `false`, writing nothing, when their lengths differ.
pub fn batch_norm_affine(
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
    scale: &mut [f32],
    shift: &mut [f32],
) -> bool {
    let n = gamma.len();
    if [beta.len(), mean.len(), var.len(), scale.len(), shift.len()] != [n; 5] {
        return false;
    }
    for c in 0..n {
        let s = gamma[c] / libm::sqrtf(var[c] + eps);
        scale[c] = s;
        shift[c] = beta[c] - mean[c] * s;
    }
    true
}

/// Folds a per-channel affine `y = scale[c] * x + shift[c]` that follows a dense,
/// convolution or transposed-convolution layer into that layer's weight and bias, in place.
///
/// `weight` is viewed as `[outer, channels, inner]` exactly as for
/// [`crate::nn::quant::quantize_per_channel`] (dense `(1, out, in)`, convolution
/// `(1, out, in*kh*kw)`, transposed convolution `(in, out, kh*kw)`). Returns `false`,
/// changing nothing, when the lengths disagree.
pub fn fold_affine_into(
    weight: &mut [f32],
    bias: &mut [f32],
    outer: usize,
    inner: usize,
    scale: &[f32],
    shift: &[f32],
) -> bool {
    let channels = bias.len();
    let n = outer
        .checked_mul(channels)
        .and_then(|v| v.checked_mul(inner));
    if n != Some(weight.len()) || scale.len() != channels || shift.len() != channels {
        return false;
    }
    for (i, w) in weight.iter_mut().enumerate() {
        *w *= scale[(i / inner) % channels];
    }
    for c in 0..channels {
        bias[c] = bias[c] * scale[c] + shift[c];
    }
    true
}
