//! The int8 forms of format 1.1: output-major transposed convolution weights (with 1.0
//! files still read) and the 16-bit latent.

use std::vec;
use std::vec::Vec;

use super::generators::cpu_preset;
use super::support::{Net, Rng, Scratch};
use crate::format::quantize::quantize_model;
use crate::format::writer::{write_with_latent, LatentBits, LayerSpec, ModelSpec, TensorData};
use crate::format::{
    crc32, Compute, FormatError, Op, QuantParams, ValueRange, HEADER_LEN, LAYER_RECORD_LEN,
    TENSOR_RECORD_LEN,
};
use crate::nn::quant::{choose_wide_params, quantize_wide};
use crate::nn::{GemmRoute, Model};

/// Calibrates `net` on `batch` latents and returns its int8 file.
fn int8_file(net: &Net, batch: usize) -> Vec<u8> {
    let bytes = net.bytes(false);
    let mut model = Model::parse(&bytes).unwrap();
    model.set_gemm_route(GemmRoute::Blocked);
    let z = Rng(5).vec(batch * model.latent(), 1.0);
    let mut scratch = Scratch::new(model.scratch_len(batch).unwrap());
    let mut ranges = vec![(0.0, 0.0); model.layers().len() + 1];
    model
        .calibrate(&z, None, scratch.bytes(), &mut ranges)
        .unwrap();
    quantize_model(&model, &ranges).unwrap().to_bytes().unwrap()
}

/// Rewrites every int8 transposed convolution weight of `file` from the output-major
/// `[out, kh * kw, in]` to PyTorch's `[in, out, kh, kw]` of format 1.0, as a 1.0 writer
/// stored it, and marks the file 1.0.
fn to_input_major(file: &[u8]) -> Vec<u8> {
    let mut out = file.to_vec();
    let model = Model::parse(file).unwrap();
    let layers = model.layers().len();
    for (k, layer) in model.layers().iter().enumerate() {
        let Op::ConvTranspose2d(p) = layer.op else {
            continue;
        };
        let record = HEADER_LEN + LAYER_RECORD_LEN * k;
        let t = u16::from_le_bytes([file[record + 56], file[record + 57]]) as usize;
        let at = HEADER_LEN + LAYER_RECORD_LEN * layers + TENSOR_RECORD_LEN * t;
        let offset = u32::from_le_bytes(file[at + 20..at + 24].try_into().unwrap()) as usize;
        let (o_n, taps, i_n) = (
            p.out_channels,
            p.kernel.0 * p.kernel.1,
            layer.in_shape.channels,
        );
        for o in 0..o_n {
            for tap in 0..taps {
                for c in 0..i_n {
                    out[offset + (c * o_n + o) * taps + tap] =
                        file[offset + (o * taps + tap) * i_n + c];
                }
            }
        }
        out[at + 1] = 4;
        let dims = [i_n, o_n, p.kernel.0, p.kernel.1];
        for (i, d) in dims.iter().enumerate() {
            out[at + 4 + 4 * i..at + 8 + 4 * i].copy_from_slice(&(*d as u32).to_le_bytes());
        }
    }
    out[6..8].copy_from_slice(&0u16.to_le_bytes());
    let end = out.len() - 4;
    let crc = crc32(&out[..end]);
    out[end..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn quantized_output(file: &[u8], z: &[f32]) -> Vec<i8> {
    let model = Model::parse(file).unwrap();
    let batch = z.len() / model.latent();
    let mut scratch = Scratch::new(model.scratch_len(batch).unwrap());
    let mut out = vec![0i8; batch * model.output_len()];
    model
        .generate_quantized(z, None, &mut out, scratch.bytes())
        .unwrap();
    out
}

#[test]
fn transposed_weights_are_output_major() {
    let file = int8_file(&cpu_preset(3), 8);
    let model = Model::parse(&file).unwrap();
    assert_eq!(model.header().minor, 1);
    let deconv = model
        .layers()
        .iter()
        .find(|l| matches!(l.op, Op::ConvTranspose2d(_)));
    let weight = deconv.unwrap().tensors[0].unwrap();
    assert_eq!(weight.rank, 3);
    assert_eq!(weight.dims, [64, 16, 128, 1]);
}

#[test]
fn input_major_file_gives_same_output() {
    let file = int8_file(&cpu_preset(4), 8);
    let legacy = to_input_major(&file);
    let legacy_model = Model::parse(&legacy).unwrap();
    assert_eq!(legacy_model.header().minor, 0);
    let deconv = legacy_model
        .layers()
        .iter()
        .find(|l| matches!(l.op, Op::ConvTranspose2d(_)));
    assert_eq!(deconv.unwrap().tensors[0].unwrap().rank, 4);

    let z = Rng(6).vec(3 * 64, 1.0);
    let new = quantized_output(&file, &z);
    assert_eq!(quantized_output(&legacy, &z), new);
    assert!(
        new.iter().any(|&v| v != new[0]),
        "output must not be constant"
    );
}

#[test]
fn cpu_preset_scratch_is_small() {
    // Two slots: the latent, then the 12544 values of the first transposed convolution; the
    // 6272 dense values, then the 784-value output. The largest layer temporary is the
    // second transposed convolution's: one 28x28 plane of i32, one i16 row of 64 input
    // channels and the 14x14x64 input in i16.
    let file = int8_file(&cpu_preset(5), 4);
    let model = Model::parse(&file).unwrap();
    let temp = 28 * 28 * 4 + 2 * 64 + 2 * 196 * 64;
    assert_eq!(model.scratch_len(1).unwrap(), 12544 + 6272 + temp);
}

#[test]
fn dense_latent_is_sixteen_bits() {
    let file = int8_file(&cpu_preset(7), 8);
    let model = Model::parse(&file).unwrap();
    let header = model.header();
    assert_eq!(header.latent_bits, 16);
    assert_eq!(header.input_quant.zero_point, 0);
    // The calibration latents of `int8_file`; the range covers twice their extremes.
    let z = Rng(5).vec(8 * 64, 1.0);
    let max = z.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert_eq!(header.input_quant.scale, 2.0 * max / 32767.0);
    assert_eq!(file[18], 16);
    assert_eq!(
        &file[40..48],
        &[0; 8],
        "a 1.0 reader must find no 8-bit latent scale"
    );

    // A reader that ignores byte 18, as a 1.0 reader does, rejects the file.
    let mut ignored = file.clone();
    ignored[18] = 0;
    let end = ignored.len() - 4;
    let crc = crc32(&ignored[..end]);
    ignored[end..].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(
        Model::parse(&ignored),
        Err(FormatError::InvalidQuantisation { .. })
    ));
}

#[test]
fn latent_read_by_concat_stays_eight_bits() {
    let mut net = Net::new(4, 2, ValueRange::Unbounded, 9);
    net.push(Op::ConcatClass).dense(3);
    let bytes = net.bytes(false);
    let mut model = Model::parse(&bytes).unwrap();
    model.set_gemm_route(GemmRoute::Blocked);
    let z = Rng(10).vec(8, 1.0);
    let mut scratch = Scratch::new(model.scratch_len(2).unwrap());
    let mut ranges = vec![(0.0, 0.0); 3];
    model
        .calibrate(&z, Some(&[0, 1]), scratch.bytes(), &mut ranges)
        .unwrap();
    let q = quantize_model(&model, &ranges).unwrap();
    assert_eq!(q.latent_bits(), LatentBits::Eight);
    let file = q.to_bytes().unwrap();
    assert_eq!(Model::parse(&file).unwrap().header().latent_bits, 8);
}

#[test]
fn sixteen_bit_latent_needs_dense_reader() {
    let lut: Vec<i8> = (0..=255u8).map(|v| v as i8).collect();
    let q = QuantParams {
        scale: 0.01,
        zero_point: 0,
    };
    let mut relu = LayerSpec::new(Op::Relu, [Some(TensorData::I8(&lut)), None, None, None]);
    relu.out_quant = q;
    let layers = [relu];
    let spec = ModelSpec {
        compute: Compute::Int8,
        range: ValueRange::Unbounded,
        latent: 4,
        classes: 0,
        input_quant: q,
        layers: &layers,
    };
    let mut out = vec![0u8; 4096];
    assert!(matches!(
        write_with_latent(&spec, LatentBits::Sixteen, &mut out),
        Err(FormatError::InvalidQuantisation { layer: 0, .. })
    ));
}

#[test]
fn wide_quantisation_hand_values() {
    let p = choose_wide_params(-2.0, 3.2767).unwrap();
    assert_eq!(p.zero_point, 0);
    assert_eq!(p.scale, 3.2767 / 32767.0);
    assert_eq!(quantize_wide(1.0, 1e-4), 10_000);
    assert_eq!(
        quantize_wide(-0.000_05, 1e-4),
        -1,
        "half a step rounds away from zero"
    );
    assert_eq!(quantize_wide(10.0, 1e-4), 32_767);
    assert_eq!(quantize_wide(-10.0, 1e-4), -32_767);
    assert!(choose_wide_params(f32::NAN, 1.0).is_none());
    assert_eq!(choose_wide_params(0.0, 0.0).unwrap().scale, 1.0);
}
