//! The f32 forward pass: runs the layer table over a batch in planned scratch.

use super::conv::{conv2d, ConvGeometry};
use super::conv_transpose::conv_transpose2d;
use super::dense::dense;
use super::model::{Batch, Model};
use super::scratch::{cast_mut, Split};
use super::{activation, norm, shape_ops};
use crate::format::reader::{elements, Layer};
use crate::format::{Op, Tensor};
use crate::gemm::GemmRoute;

/// Runs a float model. `observe(v, values)` sees value `v` of the whole batch as soon as it
/// is computed (value 0 is the latent input); the last value is copied into `out` unless
/// `out` is empty.
pub(crate) fn run(
    model: &Model<'_>,
    z: &[f32],
    batch: &Batch<'_>,
    scratch: &mut [u8],
    out: &mut [f32],
    observe: &mut dyn FnMut(usize, &[f32]),
) {
    let plan = model.plan();
    let n = batch.size;
    let (slot_bytes, temp_bytes) = scratch.split_at_mut(plan.slots_len * n * 4);
    let values = cast_mut::<f32>(slot_bytes);
    let temp = cast_mut::<f32>(temp_bytes);

    values[plan.range(0, n)].copy_from_slice(z);
    observe(0, &values[plan.range(0, n)]);
    for (k, layer) in model.layers().iter().enumerate() {
        let out_range = plan.range(k + 1, n);
        if plan.in_place(k, layer.input) {
            elementwise(layer, &mut values[out_range.clone()], batch.labels);
        } else {
            let split = Split::new(values, out_range.clone());
            let x = split.get(plan.range(layer.input, n));
            let other = match layer.op {
                Op::Add { other } => split.get(plan.range(other, n)),
                _ => &[],
            };
            let step = Step {
                route: model.gemm_route(),
                labels: batch.labels,
            };
            step.layer(layer, x, other, split.out, temp);
        }
        observe(k + 1, &values[out_range]);
    }
    if !out.is_empty() {
        out.copy_from_slice(&values[plan.range(model.layers().len(), n)]);
    }
}

/// What every layer of one forward pass shares.
struct Step<'l> {
    route: GemmRoute,
    labels: &'l [u32],
}

/// Returns the tensor in slot `slot`; the parser guarantees that every slot the layer's
/// signature names is present, so the empty fallback is never read.
pub(crate) fn tensor<'a>(layer: &Layer<'a>, slot: usize) -> Tensor<'a> {
    layer.tensors[slot].unwrap_or(Tensor {
        dtype: crate::format::DType::I8,
        rank: 1,
        dims: [0, 1, 1, 1],
        bytes: &[],
    })
}

impl Step<'_> {
    /// Runs a layer whose output slot differs from its input's.
    fn layer(&self, layer: &Layer<'_>, x: &[f32], other: &[f32], y: &mut [f32], temp: &mut [f32]) {
        let in_len = elements(layer.in_shape);
        let out_len = elements(layer.out_shape);
        let images = x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len));
        let geometry = |p| ConvGeometry {
            input: layer.in_shape,
            output: layer.out_shape,
            p,
        };
        let (w, b) = (tensor(layer, 0), tensor(layer, 1));
        match layer.op {
            Op::Dense { .. } => dense(self.route, &w, &b, in_len, out_len, x, y, temp),
            Op::Conv2d(p) => {
                for (xi, yi) in images {
                    conv2d(self.route, &geometry(p), &w, &b, xi, yi, temp);
                }
            }
            Op::ConvTranspose2d(p) => {
                for (xi, yi) in images {
                    conv_transpose2d(self.route, &geometry(p), &w, &b, xi, yi, temp);
                }
            }
            Op::Crop { top, left, .. } => {
                for (xi, yi) in images {
                    shape_ops::crop(xi, layer.in_shape, layer.out_shape, top, left, yi);
                }
            }
            Op::Upsample2x => {
                for (xi, yi) in images {
                    shape_ops::upsample2x(xi, layer.in_shape, yi);
                }
            }
            Op::Add { .. } => {
                for ((o, &a), &b) in y.iter_mut().zip(x).zip(other) {
                    *o = a + b;
                }
            }
            Op::ConcatClass => {
                let plane = layer.in_shape.height * layer.in_shape.width;
                for ((xi, yi), &label) in images.zip(self.labels) {
                    yi[..in_len].copy_from_slice(xi);
                    shape_ops::one_hot_planes(yi, in_len, plane, label as usize, 0.0, 1.0);
                }
            }
            _ => {
                y.copy_from_slice(x);
                elementwise(layer, y, self.labels);
            }
        }
    }
}

/// Runs an elementwise layer in place on the whole batch.
fn elementwise(layer: &Layer<'_>, y: &mut [f32], labels: &[u32]) {
    let len = elements(layer.out_shape);
    let plane = layer.out_shape.height * layer.out_shape.width;
    let channels = layer.out_shape.channels;
    let (t0, t1) = (tensor(layer, 0), tensor(layer, 1));
    match layer.op {
        Op::BatchNorm => {
            for img in y.chunks_exact_mut(len) {
                norm::affine(img, &t0, &t1, 0, plane);
            }
        }
        Op::CondBatchNorm => {
            for (img, &label) in y.chunks_exact_mut(len).zip(labels) {
                norm::affine(img, &t0, &t1, label as usize * channels, plane);
            }
        }
        Op::Relu => activation::relu(y),
        Op::LeakyRelu { slope } => activation::leaky_relu(y, slope),
        Op::Tanh => activation::tanh(y),
        Op::Sigmoid => activation::sigmoid(y),
        _ => {}
    }
}
