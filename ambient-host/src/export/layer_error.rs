//! Where an int8 model's error comes from: every value of the int8 model, dequantised,
//! against the same value of the float model it was quantised from, on one batch.
//!
//! The error of value `v` is what all layers up to `v` have accumulated, in the value's
//! own units; dividing by the value's quantisation step shows how far it is from the
//! rounding error of that value alone (half a step).

use ambient_core::nn::quant::dequantize;
use ambient_core::nn::Model;

use super::generate::Scratch;
use super::latents::Latents;
use super::summary::operation;
use super::ExportError;

/// The error of one value of an int8 model against its float model.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueError {
    /// The value: 0 for the latent input, `k + 1` for the output of layer `k`.
    pub value: usize,
    /// The operation that computes it (`input` for the latent input).
    pub operation: String,
    /// The value's quantisation step in the int8 model.
    pub step: f32,
    /// The largest `|int8 − float|`.
    pub max_abs: f32,
    /// The mean `|int8 − float|`.
    pub mean_abs: f32,
    /// The largest `|int8 − float|` where the float value lies within the range the
    /// value's quantisation covers, which leaves out values clipped on purpose (a sigmoid's
    /// input beyond its saturation).
    pub max_abs_in_range: f32,
}

/// Runs `float` and `int8` (the same architecture, one quantised from the other) on
/// `latents` and returns the error of every value of the int8 model.
pub fn value_errors(
    float: &Model<'_>,
    int8: &Model<'_>,
    latents: &Latents,
) -> Result<Vec<ValueError>, ExportError> {
    let labels = latents.labels.as_deref();
    let mut reference: Vec<Vec<f32>> = Vec::new();
    let mut scratch = Scratch::for_model(float, latents.count)?;
    float.trace(&latents.z, labels, scratch.bytes(), &mut |_, values| {
        reference.push(values.to_vec());
    })?;

    let layers = int8.layers();
    let mut errors = Vec::with_capacity(layers.len() + 1);
    let mut scratch = Scratch::for_model(int8, latents.count)?;
    int8.trace_quantized(&latents.z, labels, scratch.bytes(), &mut |v, values| {
        let (quant, name) = match v {
            0 => (int8.header().input_quant, "input".to_string()),
            _ => (layers[v - 1].out_quant, operation(&layers[v - 1].op)),
        };
        let expected = reference.get(v).map_or(&[][..], Vec::as_slice);
        let covered = dequantize(i8::MIN, quant)..=dequantize(i8::MAX, quant);
        let (mut max_abs, mut max_abs_in_range, mut sum) = (0.0f32, 0.0f32, 0.0f64);
        for (&q, &x) in values.iter().zip(expected) {
            let diff = (dequantize(q, quant) - x).abs();
            max_abs = max_abs.max(diff);
            if covered.contains(&x) {
                max_abs_in_range = max_abs_in_range.max(diff);
            }
            sum += f64::from(diff);
        }
        if expected.len() != values.len() {
            max_abs = f32::INFINITY;
        }
        errors.push(ValueError {
            value: v,
            operation: name,
            step: quant.scale,
            max_abs,
            mean_abs: (sum / values.len().max(1) as f64) as f32,
            max_abs_in_range,
        });
    })?;
    Ok(errors)
}
