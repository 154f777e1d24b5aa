//! Calibration ranges for int8: what the core's calibration measured, narrowed where the
//! activation that reads a value makes part of its range irrelevant.
//!
//! A sigmoid's input below −8 or above 8 gives an output within `σ(−8) ≈ 3.4e-4` of 0 or 1,
//! under a tenth of the output's quantisation step (1/255). A trained generator's last
//! layer often spans far more (−38 to 0.06 on a 500-step CPU preset run), so quantising it
//! spends most of the 256 levels on values the sigmoid flattens. Clamping the range to
//! `[−8, 8]` makes each step of the sigmoid's input finer, which is what sets the output's
//! error where the sigmoid is steep. The same holds for tanh at ±4, because
//! `tanh(x) = 2σ(2x) − 1`. Inputs beyond the clamp saturate at its edge, so the output is off
//! by at most the activation's distance from its limit there.

use ambient_core::format::Op;
use ambient_core::nn::Layer;

/// The sigmoid input beyond which the output is within `3.4e-4` of 0 or 1.
pub const SIGMOID_SATURATION: f32 = 8.0;
/// The tanh input beyond which the output is within `6.7e-4` of −1 or 1.
pub const TANH_SATURATION: f32 = 4.0;

/// Narrows `ranges` (one per value, as [`ambient_core::nn::Model::calibrate`] writes them)
/// for each value that only a sigmoid, tanh or ReLU reads: to `[−L, L]` before a sigmoid
/// or tanh, with `L` its saturation input, and to its non-negative part before a ReLU. A
/// value reached through reshapes, crops or upsampling (which keep their input's
/// quantisation) is narrowed at the layer that computes it. A range that lies wholly
/// beyond the clamp is left as measured.
///
/// The ReLU case loses nothing: the narrowed value's zero point is its lowest level, so the
/// requantisation of the layer that computes it clamps every negative value to 0, which is
/// what the ReLU outputs. Its step is that of the ReLU's output, so the ReLU's table maps
/// every level to itself instead of rounding a second time.
pub fn narrow_ranges(layers: &[Layer<'_>], ranges: &mut [(f32, f32)]) {
    let readers = count_readers(layers);
    for layer in layers {
        let narrow: fn((f32, f32)) -> (f32, f32) = match layer.op {
            Op::Sigmoid => |(lo, hi)| (lo.max(-SIGMOID_SATURATION), hi.min(SIGMOID_SATURATION)),
            Op::Tanh => |(lo, hi)| (lo.max(-TANH_SATURATION), hi.min(TANH_SATURATION)),
            Op::Relu => |(lo, hi)| (lo.max(0.0), hi),
            _ => continue,
        };
        let mut value = layer.input;
        while value > 0 && readers[value] == 1 && is_pass_through(&layers[value - 1].op) {
            value = layers[value - 1].input;
        }
        if value == 0 || readers[value] != 1 {
            continue;
        }
        let Some(range) = ranges.get_mut(value) else {
            continue;
        };
        let narrowed = narrow(*range);
        if narrowed.0 < narrowed.1 {
            *range = narrowed;
        }
    }
}

/// Returns whether the op keeps its input's quantisation in the int8 path.
fn is_pass_through(op: &Op) -> bool {
    matches!(op, Op::Reshape { .. } | Op::Crop { .. } | Op::Upsample2x)
}

/// Returns how many layers read each value (as input or as an add's operand); the last
/// value also counts the generator's output as a reader.
fn count_readers(layers: &[Layer<'_>]) -> Vec<usize> {
    let mut readers = vec![0usize; layers.len() + 1];
    for layer in layers {
        readers[layer.input] += 1;
        if let Op::Add { other } = layer.op {
            readers[other] += 1;
        }
    }
    readers[layers.len()] += 1;
    readers
}
