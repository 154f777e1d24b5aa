//! Post-training int8 quantisation of a float model (features `writer` and `alloc`): the
//! exporter's path from an f32 weight file and calibration ranges to an int8 weight file,
//! built only from the shared arithmetic of [`crate::nn::quant`].
//!
//! Activation parameters come from [`crate::nn::Model::calibrate`] ranges through
//! [`choose_quant_params`], except where the value range is known: a sigmoid's output uses
//! `[0, 1]` and a tanh's `[-1, 1]`, and a reshape, crop or upsampling keeps its input's
//! parameters (the format requires it).
//!
//! The latent input is quantised to 16 bits ([`choose_wide_params`], over
//! [`WIDE_LATENT_MARGIN`] times the calibrated range) when only dense layers of at most
//! [`MAX_WIDE_DEPTH`] inputs read it, and to 8 bits otherwise. Every output
//! value of a generator depends on every latent value, so the rounding of an 8-bit latent
//! reaches every output. For Gaussian latents its step is about 1/30 of the standard
//! deviation, and on a trained CPU-preset generator it was the largest part of the int8
//! error.

use alloc::vec;
use alloc::vec::Vec;

use super::writer::{write_with_latent, LatentBits, LayerSpec, ModelSpec, TensorData};
use super::{Compute, FormatError, Op, QuantParams, Tensor, TENSORS_PER_LAYER};
use crate::nn::int8::MAX_WIDE_DEPTH;
use crate::nn::quant::{
    add_multipliers, build_lut, channel_multiplier, choose_quant_params, choose_wide_params,
    quantize, quantize_bias, quantize_per_channel,
};
use crate::nn::{Layer, Model};

/// How many times the calibrated latent range a 16-bit latent covers. A device draws
/// latents the calibration batch never saw, and a latent beyond the batch's extremes would
/// saturate. Gaussian latents of a 512-image batch of 64 values reach about ±4.2, and
/// fresh latents beyond that saturated 0.2 % of the images of a trained CPU-preset
/// generator by up to 130 output steps; twice the range (±8.4) is exceeded with
/// probability below 1e-15 and costs one of the 16 bits.
pub const WIDE_LATENT_MARGIN: f32 = 2.0;

/// An owned tensor of a quantised layer.
#[derive(Clone, Debug, PartialEq)]
enum Owned {
    F32(Vec<f32>),
    I8(Vec<i8>),
    I32(Vec<i32>),
}

impl Owned {
    fn data(&self) -> TensorData<'_> {
        match self {
            Self::F32(v) => TensorData::F32(v),
            Self::I8(v) => TensorData::I8(v),
            Self::I32(v) => TensorData::I32(v),
        }
    }
}

/// One quantised layer with its own tensors.
#[derive(Clone, Debug, PartialEq)]
struct OwnedLayer {
    op: Op,
    input: usize,
    out_quant: QuantParams,
    one_q: i32,
    tensors: [Option<Owned>; TENSORS_PER_LAYER],
}

/// An int8 model made by [`quantize_model`], ready to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Model {
    base: (super::ValueRange, usize, usize),
    input_quant: QuantParams,
    latent_bits: LatentBits,
    layers: Vec<OwnedLayer>,
}

impl Int8Model {
    /// Returns the quantisation of the latent input.
    pub fn input_quant(&self) -> QuantParams {
        self.input_quant
    }

    /// Returns the width of the quantised latent input.
    pub fn latent_bits(&self) -> LatentBits {
        self.latent_bits
    }

    /// Writes the int8 weight file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let specs: Vec<LayerSpec<'_>> = self
            .layers
            .iter()
            .map(|l| LayerSpec {
                op: l.op,
                input: Some(l.input),
                out_quant: l.out_quant,
                one_q: l.one_q,
                tensors: [0, 1, 2, 3].map(|s| l.tensors[s].as_ref().map(Owned::data)),
            })
            .collect();
        let spec = ModelSpec {
            compute: Compute::Int8,
            range: self.base.0,
            latent: self.base.1,
            classes: self.base.2,
            input_quant: self.input_quant,
            layers: &specs,
        };
        let len = super::writer::encoded_len(&spec)?;
        let mut out = vec![0u8; len];
        write_with_latent(&spec, self.latent_bits, &mut out)?;
        Ok(out)
    }
}

/// Quantises a float model to int8. `ranges` are the calibration ranges of every value as
/// [`Model::calibrate`] writes them (`layers().len() + 1` pairs).
pub fn quantize_model(model: &Model<'_>, ranges: &[(f32, f32)]) -> Result<Int8Model, FormatError> {
    let layers = model.layers();
    let n = layers.len();
    if model.header().compute != Compute::Float || ranges.len() != n + 1 {
        return Err(FormatError::InvalidQuantisation {
            layer: n,
            reason: "quantisation needs a float model and one range per value",
        });
    }
    let invalid_range = |layer| FormatError::InvalidQuantisation {
        layer,
        reason: "calibration range is not finite",
    };
    let mut quant = vec![QuantParams::NONE; n + 1];
    let latent_bits = latent_bits_for(layers, model.latent());
    quant[0] = match latent_bits {
        LatentBits::Sixteen => {
            let (lo, hi) = ranges[0];
            choose_wide_params(WIDE_LATENT_MARGIN * lo, WIDE_LATENT_MARGIN * hi)
        }
        _ => choose_quant_params(ranges[0].0, ranges[0].1),
    }
    .ok_or(invalid_range(n))?;
    let mut out = Vec::with_capacity(n);
    for (k, layer) in layers.iter().enumerate() {
        let (lo, hi) = ranges[k + 1];
        quant[k + 1] = match layer.op {
            Op::Reshape { .. } | Op::Crop { .. } | Op::Upsample2x => quant[layer.input],
            Op::Sigmoid => choose_quant_params(0.0, 1.0).ok_or(invalid_range(k))?,
            Op::Tanh => choose_quant_params(-1.0, 1.0).ok_or(invalid_range(k))?,
            _ => choose_quant_params(lo, hi).ok_or(invalid_range(k))?,
        };
        out.push(quantize_layer(layer, quant[layer.input], &quant, k)?);
    }
    let h = model.header();
    Ok(Int8Model {
        base: (h.range, h.latent, h.classes),
        input_quant: quant[0],
        latent_bits,
        layers: out,
    })
}

/// Returns 16 bits when every layer reading the latent is a dense layer short enough for
/// a 16-bit input, and 8 bits otherwise.
fn latent_bits_for(layers: &[Layer<'_>], latent: usize) -> LatentBits {
    let reads_latent = |l: &&Layer<'_>| l.input == 0 || matches!(l.op, Op::Add { other: 0 });
    let only_dense = layers
        .iter()
        .filter(reads_latent)
        .all(|l| matches!(l.op, Op::Dense { .. }) && l.input == 0);
    if only_dense && latent <= MAX_WIDE_DEPTH {
        LatentBits::Sixteen
    } else {
        LatentBits::Eight
    }
}

fn floats(t: &Option<Tensor<'_>>) -> Vec<f32> {
    t.map(|t| (0..t.len()).map(|i| t.f32_at(i)).collect())
        .unwrap_or_default()
}

/// Quantises one layer whose input has parameters `in_q`; `quant[k + 1]` is its output's.
fn quantize_layer(
    layer: &Layer<'_>,
    in_q: QuantParams,
    quant: &[QuantParams],
    k: usize,
) -> Result<OwnedLayer, FormatError> {
    let out_q = quant[k + 1];
    let mut tensors: [Option<Owned>; TENSORS_PER_LAYER] = [None, None, None, None];
    let mut one_q = 0;
    let weight_channels = match layer.op {
        Op::Dense { out_features } => Some(out_features),
        Op::Conv2d(p) | Op::ConvTranspose2d(p) => Some(p.out_channels),
        _ => None,
    };
    let lut_of = |f: &dyn Fn(f32) -> f32| {
        let mut lut = [0i8; 256];
        build_lut(in_q, out_q, f, &mut lut);
        Some(Owned::I8(lut.to_vec()))
    };
    match layer.op {
        _ if weight_channels.is_some() => {
            let channels = weight_channels.unwrap_or(1);
            let mut w = floats(&layer.tensors[0]);
            if let Op::ConvTranspose2d(_) = layer.op {
                w = output_major(&w, layer.in_shape.channels, channels);
            }
            let bias = floats(&layer.tensors[1]);
            let inner = w.len() / channels;
            tensors = quantized_channels(&w, &bias, 1, channels, inner, in_q, out_q, k)?;
        }
        Op::BatchNorm | Op::CondBatchNorm => {
            let scale = floats(&layer.tensors[0]);
            let shift = floats(&layer.tensors[1]);
            tensors = quantized_channels(&scale, &shift, 1, scale.len(), 1, in_q, out_q, k)?;
        }
        Op::Relu => tensors[0] = lut_of(&|x| x.max(0.0)),
        Op::LeakyRelu { slope } => tensors[0] = lut_of(&|x| if x < 0.0 { slope * x } else { x }),
        Op::Tanh => tensors[0] = lut_of(&libm::tanhf),
        Op::Sigmoid => tensors[0] = lut_of(&|x| 1.0 / (1.0 + libm::expf(-x))),
        Op::ConcatClass => {
            tensors[0] = lut_of(&|x| x);
            one_q = quantize(1.0, out_q) as i32;
        }
        Op::Add { other } => {
            let pairs = add_multipliers(in_q, quant[other], out_q);
            tensors[0] = Some(Owned::I32(
                pairs.iter().flat_map(|&(m, s)| [m, s]).collect(),
            ));
        }
        _ => {}
    }
    Ok(OwnedLayer {
        op: layer.op,
        input: layer.input,
        out_quant: out_q,
        one_q,
        tensors,
    })
}

/// Reorders a transposed convolution's weight from PyTorch's `[in, out, taps]` to the
/// int8 layout `[out, taps, in]`.
fn output_major(w: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
    let taps = w.len() / (inputs * outputs).max(1);
    let mut out = vec![0.0; w.len()];
    for (i, &v) in w.iter().enumerate() {
        let (c, rest) = (i / (outputs * taps), i % (outputs * taps));
        let (o, t) = (rest / taps, rest % taps);
        out[(o * taps + t) * inputs + c] = v;
    }
    out
}

/// Quantises per-channel weights and biases and derives each channel's requantisation.
#[allow(clippy::too_many_arguments)]
fn quantized_channels(
    w: &[f32],
    bias: &[f32],
    outer: usize,
    channels: usize,
    inner: usize,
    in_q: QuantParams,
    out_q: QuantParams,
    k: usize,
) -> Result<[Option<Owned>; TENSORS_PER_LAYER], FormatError> {
    let mut q = vec![0i8; w.len()];
    let mut scales = vec![0f32; channels];
    if !quantize_per_channel(w, outer, channels, inner, &mut q, &mut scales) {
        return Err(FormatError::InvalidQuantisation {
            layer: k,
            reason: "weights are not finite",
        });
    }
    let b: Vec<i32> = (0..channels)
        .map(|c| quantize_bias(bias[c], in_q.scale, scales[c]))
        .collect();
    let pairs: Vec<i32> = scales
        .iter()
        .flat_map(|&s| {
            let (m, sh) = channel_multiplier(in_q.scale, s, out_q.scale);
            [m, sh]
        })
        .collect();
    Ok([
        Some(Owned::I8(q)),
        Some(Owned::F32(scales)),
        Some(Owned::I32(b)),
        Some(Owned::I32(pairs)),
    ])
}
