//! Comparing an exported model's output with the tch model's, and the bound each dtype
//! must stay within.
//!
//! The error is measured on [`super::latents::CHECK_BATCH`] images from fixed latents, in
//! units of the output: `|core − tch|` per value, and its largest value is held against the
//! bound. Bounds scale with the width of the output range (1 for `[0, 1]`, 2 for
//! `[−1, 1]`, and the largest `|tch|` value, at least 1, for an unbounded output):
//!
//! - **f32**: `5e-5` of the width. Core and libtorch sum in different orders and the
//!   folded batch norm rounds once more, so values differ by float rounding of the
//!   magnitudes the network went through, which grow with training. Measured: at most
//!   `1.8e-7` on the CPU preset and `9.4e-7` on the paper preset (`2.7e-7` after 12
//!   steps, `9.4e-7` after 200), so the bound leaves a factor of about 50.
//! - **f16**: `5e-3` of the width. Rounding a weight to f16 moves it by up to `2^-11` of
//!   its value, and the pre-activations move by about that fraction of their scale.
//!   Measured: at most `2.1e-4` (CPU preset) and `2.3e-4` (paper preset), a factor of 21.
//! - **int8**: 16 quantisation steps of the output (`16/255` ≈ 0.063 for a `[0, 1]`
//!   output). Each layer rounds to its own step, and where the output activation is steep
//!   an error of one step of its input becomes several output steps. Measured: at most
//!   13.6 steps on fully trained (3,000-step) CPU-preset runs (7.2 in ambient mode, 13.6
//!   in clean mode; means at most 0.18), 3.3 on a 200-step paper-preset run, and at most
//!   8.4 over 3,000 random generators of the parity tests (mean 0.45).
//!
//!   NOTE: the ResNet ACWGAN-GP (`acwgan32`) exceeds this bound. About 20 requantised
//!   values lie between its latent and its output, and their rounding adds up: 43 steps
//!   (mean 2.7) after two training steps, and 20 steps (mean 2.5) with random weights
//!   whose batch-norm statistics match the activations. No single layer causes it, as
//!   `acwgan32_int8_error_is_accumulated_rounding` in `tests/paper_models.rs` checks, so
//!   its int8 export is rejected while f32 and f16 pass.
//!
//! `docs/export.md` lists the runs these figures come from.

use ambient_core::format::{Compute, ValueRange};
use ambient_core::nn::Model;

use super::encode::WeightDtype;

/// Values of `|tch|` below this count as this in the relative error, so that outputs
/// near 0 (the black background of a digit) do not dominate it.
pub const RELATIVE_FLOOR: f32 = 1e-3;

/// Bound of an f32 model, as a fraction of the output range's width.
pub const F32_BOUND: f32 = 5e-5;
/// Bound of an f16 model, as a fraction of the output range's width.
pub const F16_BOUND: f32 = 5e-3;
/// Bound of an int8 model, in quantisation steps of its output.
pub const INT8_BOUND_STEPS: f32 = 16.0;

/// The errors of the core's output against the reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Number of values compared.
    pub values: usize,
    /// The largest `|core − reference|`.
    pub max_abs: f32,
    /// The mean `|core − reference|`.
    pub mean_abs: f32,
    /// The largest `|core − reference| / max(|reference|, RELATIVE_FLOOR)`.
    pub max_rel: f32,
    /// The largest `|reference|`.
    pub max_reference: f32,
}

impl Comparison {
    /// Compares `core` with `reference` value by value. A NaN on either side makes the
    /// errors infinite. Slices of different lengths compare as infinitely far apart.
    pub fn of(core: &[f32], reference: &[f32]) -> Self {
        let mut c = Self {
            values: core.len(),
            max_abs: 0.0,
            mean_abs: 0.0,
            max_rel: 0.0,
            max_reference: 0.0,
        };
        let mut sum = 0.0f64;
        for (&a, &b) in core.iter().zip(reference) {
            let diff = (a - b).abs();
            let diff = if diff.is_nan() { f32::INFINITY } else { diff };
            sum += f64::from(diff);
            c.max_abs = c.max_abs.max(diff);
            c.max_rel = c.max_rel.max(diff / b.abs().max(RELATIVE_FLOOR));
            c.max_reference = c.max_reference.max(b.abs());
        }
        c.mean_abs = (sum / core.len().max(1) as f64) as f32;
        if core.len() != reference.len() {
            c.max_abs = f32::INFINITY;
        }
        if c.max_abs.is_infinite() {
            (c.mean_abs, c.max_rel) = (f32::INFINITY, f32::INFINITY);
        }
        c
    }
}

/// The largest absolute error an exported model may show, and what it is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    /// The bound, in output units.
    pub value: f32,
    /// The derivation of the bound, for messages (`16 output quantisation steps of 3.922e-3`).
    pub basis: String,
}

/// Returns the bound of `model` (the exported file, parsed), written as `dtype`, given
/// the largest `|tch|` value of the check batch.
pub fn bound(dtype: WeightDtype, model: &Model<'_>, max_reference: f32) -> Bound {
    let width = match model.header().range {
        ValueRange::ZeroOne => 1.0,
        ValueRange::MinusOneOne => 2.0,
        _ => max_reference.max(1.0),
    };
    let relative = |fraction: f32| Bound {
        value: fraction * width,
        basis: format!("{fraction:e} of the output range's width {width}"),
    };
    match dtype {
        WeightDtype::F32 => relative(F32_BOUND),
        WeightDtype::F16 => relative(F16_BOUND),
        WeightDtype::Int8 => {
            let step = output_step(model).unwrap_or(width / 255.0);
            Bound {
                value: INT8_BOUND_STEPS * step,
                basis: format!("{INT8_BOUND_STEPS} output quantisation steps of {step:.3e}"),
            }
        }
    }
}

/// Returns the quantisation step of an int8 model's output.
fn output_step(model: &Model<'_>) -> Option<f32> {
    (model.header().compute == Compute::Int8)
        .then(|| model.layers().last().map(|l| l.out_quant.scale))
        .flatten()
}
