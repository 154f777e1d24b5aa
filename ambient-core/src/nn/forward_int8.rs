//! The int8 forward pass: quantises `z`, runs the layer table in integer arithmetic and
//! hands the quantised output to the caller.

use super::conv::ConvGeometry;
use super::forward::tensor;
use super::int8::{self, AddParams, DenseInput, Requant, TransposedLayout};
use super::model::{Batch, Model};
use super::quant::{dequantize, quantize};
use super::scratch::{cast_mut, Split};
use super::shape_ops;
use crate::format::reader::{elements, Layer};
use crate::format::{Op, QuantParams};

/// Runs an int8 model over the batch and passes the quantised output to `finish`.
/// `observe(v, values)` sees value `v` of the whole batch as soon as it is computed (value
/// 0, the quantised latent input, only when it is 8-bit).
pub(crate) fn run(
    model: &Model<'_>,
    z: &[f32],
    batch: &Batch<'_>,
    scratch: &mut [u8],
    observe: &mut dyn FnMut(usize, &[i8]),
    finish: impl FnOnce(&[i8]),
) {
    let plan = model.plan();
    let n = batch.size;
    let (slot_bytes, temp) = scratch.split_at_mut(plan.slots_len * n);
    let values = cast_mut::<i8>(slot_bytes);
    let input_quant = model.header().input_quant;
    let wide = model.header().latent_bits == 16;

    // A 16-bit latent is quantised by the dense layers that read it, from `z`.
    if !wide {
        for (q, &x) in values[plan.range(0, n)].iter_mut().zip(z) {
            *q = quantize(x, input_quant);
        }
        observe(0, &values[plan.range(0, n)]);
    }
    let layers = model.layers();
    for (k, layer) in layers.iter().enumerate() {
        let in_quant = value_quant(layers, input_quant, layer.input);
        let out_range = plan.range(k + 1, n);
        if plan.in_place(k, layer.input) {
            elementwise(
                layer,
                in_quant,
                &mut values[out_range.clone()],
                batch.labels,
            );
            observe(k + 1, &values[out_range]);
            continue;
        }
        let split = Split::new(values, out_range.clone());
        let x = split.get(plan.range(layer.input, n));
        match layer.op {
            Op::Add { other } => {
                let b = split.get(plan.range(other, n));
                let params = add_params(layer, in_quant, value_quant(layers, input_quant, other));
                int8::add(x, b, &params, split.out);
            }
            Op::Dense { .. } if wide && layer.input == 0 => {
                let w = tensor(layer, 0).as_i8_slice();
                let x16 = &mut cast_mut::<i16>(temp)[..model.latent()];
                let input = DenseInput::Wide {
                    z,
                    scale: input_quant.scale,
                };
                int8::dense(w, &requant(layer), input, split.out, x16);
            }
            _ => run_layer(layer, in_quant, x, split.out, temp, batch.labels),
        }
        observe(k + 1, &values[out_range]);
    }
    finish(&values[plan.range(layers.len(), n)]);
}

/// Writes `scale * (q - zero_point)` for every quantised output value.
pub(crate) fn dequantize_into(q: &[i8], params: QuantParams, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(q) {
        *o = dequantize(v, params);
    }
}

fn value_quant(layers: &[Layer<'_>], input: QuantParams, v: usize) -> QuantParams {
    match v {
        0 => input,
        _ => layers[v - 1].out_quant,
    }
}

fn requant<'a>(layer: &Layer<'a>) -> Requant<'a> {
    Requant {
        bias: tensor(layer, 2),
        pairs: tensor(layer, 3),
        out_zp: layer.out_quant.zero_point,
    }
}

fn add_params(layer: &Layer<'_>, a: QuantParams, b: QuantParams) -> AddParams {
    let t = tensor(layer, 0);
    let pair = |i: usize| (t.i32_at(2 * i), t.i32_at(2 * i + 1));
    AddParams {
        a_zp: a.zero_point,
        b_zp: b.zero_point,
        out_zp: layer.out_quant.zero_point,
        pairs: [pair(0), pair(1), pair(2)],
    }
}

/// Runs a layer whose output slot differs from its input's.
fn run_layer(
    layer: &Layer<'_>,
    in_quant: QuantParams,
    x: &[i8],
    y: &mut [i8],
    temp: &mut [u8],
    labels: &[u32],
) {
    let in_len = elements(layer.in_shape);
    let out_len = elements(layer.out_shape);
    let images = x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len));
    let geometry = |p| ConvGeometry {
        input: layer.in_shape,
        output: layer.out_shape,
        p,
    };
    let w = tensor(layer, 0).as_i8_slice();
    let zp = in_quant.zero_point;
    match layer.op {
        Op::Dense { .. } => {
            let x16 = &mut cast_mut::<i16>(temp)[..in_len];
            let input = DenseInput::Int8 { x, zero_point: zp };
            int8::dense(w, &requant(layer), input, y, x16);
        }
        Op::Conv2d(p) => {
            let g = geometry(p);
            let col = &mut cast_mut::<i16>(temp)[..g.out_plane() * g.patch_len()];
            for (xi, yi) in images {
                int8::conv2d(&g, w, &requant(layer), zp, xi, yi, col);
            }
        }
        Op::ConvTranspose2d(p) => {
            let g = geometry(p);
            // The reader accepts the two layouts, told apart by the weight's rank.
            let layout = match tensor(layer, 0).rank {
                3 => TransposedLayout::OutputMajor,
                _ => TransposedLayout::InputMajor,
            };
            for (xi, yi) in images {
                int8::conv_transpose2d(&g, w, layout, &requant(layer), zp, xi, yi, temp);
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
        Op::ConcatClass => {
            let lut = tensor(layer, 0).bytes;
            let plane = layer.in_shape.height * layer.in_shape.width;
            let zero = layer.out_quant.zero_point as i8;
            let one = layer.one_q as i8;
            for ((xi, yi), &label) in images.zip(labels) {
                int8::lookup_into(xi, lut, &mut yi[..in_len]);
                shape_ops::one_hot_planes(yi, in_len, plane, label as usize, zero, one);
            }
        }
        _ => {
            y.copy_from_slice(x);
            elementwise(layer, in_quant, y, labels);
        }
    }
}

/// Runs an elementwise layer in place on the whole batch.
fn elementwise(layer: &Layer<'_>, in_quant: QuantParams, y: &mut [i8], labels: &[u32]) {
    let len = elements(layer.out_shape);
    let plane = layer.out_shape.height * layer.out_shape.width;
    let channels = layer.out_shape.channels;
    let zp = in_quant.zero_point;
    match layer.op {
        Op::BatchNorm => {
            let w = tensor(layer, 0).as_i8_slice();
            for img in y.chunks_exact_mut(len) {
                int8::affine(img, w, &requant(layer), zp, 0, plane);
            }
        }
        Op::CondBatchNorm => {
            let w = tensor(layer, 0).as_i8_slice();
            for (img, &label) in y.chunks_exact_mut(len).zip(labels) {
                int8::affine(
                    img,
                    w,
                    &requant(layer),
                    zp,
                    label as usize * channels,
                    plane,
                );
            }
        }
        Op::Relu | Op::LeakyRelu { .. } | Op::Tanh | Op::Sigmoid => {
            int8::lookup(y, tensor(layer, 0).bytes);
        }
        _ => {}
    }
}
