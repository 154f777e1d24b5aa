//! The int8 path against the f32 reference: per-layer error bounds derived from the
//! quantisation steps, whole generators, and the golden checksum.

use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

use super::generators::{celeba_dcgan, cifar_resnet, cond_dcgan, cpu_preset, wgan_mnist};
use super::support::{conv, run, Net, Rng, Scratch};
use crate::format::quantize::quantize_model;
use crate::format::{crc32, Compute, ConvParams, Op, ValueRange};
use crate::nn::{GemmRoute, InferError, Model};
use crate::Shape;

/// Calibrates a float model on `z` (blocked GEMM, so the result is the same on every
/// target), quantises it and returns the int8 file.
fn quantized(model: &mut Model<'_>, z: &[f32], labels: Option<&[u32]>) -> Vec<u8> {
    model.set_gemm_route(GemmRoute::Blocked);
    let batch = z.len() / model.latent();
    let mut scratch = Scratch::new(model.scratch_len(batch).unwrap());
    let mut ranges = vec![(0.0, 0.0); model.layers().len() + 1];
    model
        .calibrate(z, labels, scratch.bytes(), &mut ranges)
        .unwrap();
    quantize_model(model, &ranges).unwrap().to_bytes().unwrap()
}

/// Checks one int8 layer against f32 on its calibration batch.
///
/// The bound, per output of channel `o` with `K` products: the input is off by at most one
/// input step `s_in` (half a step of rounding, and up to half a step more where the rounded
/// zero point clips the calibrated range), each weight by `s_w[o] / 2`, the bias by
/// `s_in * s_w[o] / 2`, and the output rounding adds `s_out / 2`. So
/// `|int8 - f32| <= s_in * sum|w_o| + s_w[o] / 2 * K * max|x| + s_in * s_w[o] / 2 + s_out / 2`,
/// plus 1e-5 relative for the Q31 multiplier and f32 rounding.
fn check_layer_bound(s: Shape, op: Op, seed: u64) {
    let mut net = Net::new(
        s.channels * s.height * s.width,
        0,
        ValueRange::Unbounded,
        seed,
    );
    net.reshape(s.channels, s.height, s.width).push(op);
    let bytes = net.bytes(false);
    let mut model = Model::parse(&bytes).unwrap();
    let z = Rng(seed ^ 1).vec(3 * model.latent(), 1.0);
    let q_bytes = quantized(&mut model, &z, None);
    let q_model = Model::parse(&q_bytes).unwrap();
    let want = run(&model, &z, None);
    let got = run(&q_model, &z, None);

    let layer = &model.layers()[1];
    let q_layer = &q_model.layers()[1];
    let s_in = q_model.layers()[0].out_quant.scale;
    let s_out = q_layer.out_quant.scale;
    let w = layer.tensors[0].unwrap();
    let w_scales = q_layer.tensors[1].unwrap();
    let channels = layer.out_shape.channels;
    let (outer, inner) = match op {
        Op::ConvTranspose2d(p) => (s.channels, p.kernel.0 * p.kernel.1),
        _ => (1, w.len() / channels),
    };
    let depth = match op {
        Op::ConvTranspose2d(p) | Op::Conv2d(p) => s.channels * p.kernel.0 * p.kernel.1,
        _ => inner,
    };
    let max_x = z.iter().fold(0.0f32, |a, b| a.max(b.abs())) + s_in;
    let plane = layer.out_shape.height * layer.out_shape.width;
    for (i, (&g, &f)) in got.iter().zip(&want).enumerate() {
        let o = (i / plane) % channels;
        let mut sum_w = 0.0f32;
        for a in 0..outer {
            for j in 0..inner {
                sum_w += w.f32_at((a * channels + o) * inner + j).abs();
            }
        }
        let s_w = w_scales.f32_at(o);
        let bound =
            s_in * sum_w + s_w / 2.0 * depth as f32 * max_x + s_in * s_w / 2.0 + s_out / 2.0;
        let err = (g - f).abs();
        assert!(
            err <= bound * 1.001 + 1e-5 * f.abs(),
            "output {i}: {g} vs {f}, bound {bound}"
        );
    }
}

fn small_conv() -> impl Strategy<Value = (Shape, ConvParams)> {
    (1usize..5, 2usize..7, 1usize..6, 1usize..4, 1usize..3)
        .prop_map(|(c, h, o, k, s)| (Shape::new(c, h + k, h + 1), conv(o, k, s, (k - 1) / 2, 0)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn int8_dense_within_bound(n_in in 1usize..60, n_out in 1usize..40, seed: u64) {
        check_layer_bound(Shape::new(n_in, 1, 1), Op::Dense { out_features: n_out }, seed);
    }

    #[test]
    fn int8_conv_within_bound((s, p) in small_conv(), seed: u64) {
        check_layer_bound(s, Op::Conv2d(p), seed);
    }

    #[test]
    fn int8_conv_transpose_within_bound((s, mut p) in small_conv(), op in 0usize..2, seed: u64) {
        p.output_padding = (op % p.stride.0, op % p.stride.1);
        check_layer_bound(s, Op::ConvTranspose2d(p), seed);
    }
}

/// Returns the error statistics of the int8 model against f32 on a batch: mean absolute
/// and maximum absolute error.
fn generator_error(net: &Net, batch: usize) -> (f32, f32) {
    let bytes = net.bytes(false);
    let mut model = Model::parse(&bytes).unwrap();
    let z = Rng(77).vec(batch * net.latent, 1.0);
    let labels: Option<Vec<u32>> =
        (net.classes > 0).then(|| (0..batch).map(|i| (i % net.classes) as u32).collect());
    let q_bytes = quantized(&mut model, &z, labels.as_deref());
    let q_model = Model::parse(&q_bytes).unwrap();
    assert_eq!(q_model.header().compute, Compute::Int8);
    assert!(
        q_bytes.len() * 2 < bytes.len(),
        "int8 file must be much smaller"
    );
    // A fresh batch, not the calibration one.
    let z = Rng(78).vec(batch * net.latent, 1.0);
    let want = run(&model, &z, labels.as_deref());
    let got = run(&q_model, &z, labels.as_deref());
    let mean = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / got.len() as f32;
    let max = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    std::eprintln!("int8 error: mean {mean}, max {max}");
    (mean, max)
}

// Whole generators compound the per-layer errors through every layer, so their bound is
// empirical: each threshold is about twice the error measured with these seeds on x86-64
// (mean and max absolute error; cpu 0.0010 and 0.0034, WGAN 0.0010 and 0.0022, conditional
// DCGAN 0.0010 and 0.0030, CelebA 0.0020 and 0.0058, CIFAR ResNet 0.0082 and 0.060), on
// outputs of range 1 ([0, 1]) or 2 ([-1, 1]).

#[test]
fn int8_cpu_preset_close_to_f32() {
    let (mean, max) = generator_error(&cpu_preset(1), 8);
    assert!(mean < 0.002, "mean {mean}");
    assert!(max < 0.008, "max {max}");
}

#[test]
fn int8_wgan_mnist_close_to_f32() {
    let (mean, max) = generator_error(&wgan_mnist(2), 4);
    assert!(mean < 0.002, "mean {mean}");
    assert!(max < 0.005, "max {max}");
}

#[test]
fn int8_cond_dcgan_close_to_f32() {
    let (mean, max) = generator_error(&cond_dcgan(3), 10);
    assert!(mean < 0.002, "mean {mean}");
    assert!(max < 0.006, "max {max}");
}

#[test]
fn int8_celeba_dcgan_close_to_f32() {
    let (mean, max) = generator_error(&celeba_dcgan(4), 4);
    assert!(mean < 0.004, "mean {mean}");
    assert!(max < 0.012, "max {max}");
}

#[test]
fn int8_cifar_resnet_close_to_f32() {
    let (mean, max) = generator_error(&cifar_resnet(5), 10);
    assert!(mean < 0.016, "mean {mean}");
    assert!(max < 0.12, "max {max}");
}

/// A small conditional model that runs every int8 kernel: dense, conditional and plain
/// batch norm, class concatenation, transposed convolution, crop, upsampling, convolution,
/// residual add, and the ReLU, leaky ReLU, tanh and sigmoid tables.
fn golden_net() -> Net {
    let mut net = Net::new(8, 3, ValueRange::ZeroOne, 2024);
    net.push(Op::ConcatClass)
        .dense(4 * 3 * 3)
        .reshape(4, 3, 3)
        .push(Op::CondBatchNorm);
    net.push(Op::Relu)
        .conv_t(4, 3, 2, 0, 0)
        .crop(1, 0, 0, 1)
        .push(Op::LeakyRelu { slope: 0.2 });
    let skip = net.value();
    net.conv(4, 3, 1, 1)
        .push(Op::BatchNorm)
        .push(Op::Tanh)
        .push(Op::Add { other: skip });
    net.push(Op::Upsample2x)
        .push(Op::ConcatClass)
        .conv(1, 3, 1, 1)
        .push(Op::Sigmoid);
    net
}

fn golden_latent() -> Vec<f32> {
    Rng(7).vec(4 * 8, 1.0)
}

/// The int8 golden: CRC-32 of the int8 weight file and of the raw int8 output for four
/// images (labels 0, 1, 2, 0). Produced by this test on x86-64, and a thumbv7em build must
/// give the same values as the build without `alloc`. The output's CRC is the one format
/// 1.0 files gave, because writing transposed convolution weights output-major (format
/// 1.1) changed the file but not the arithmetic. A changed file CRC means a change of the
/// exporter's quantisation, and a changed output CRC a change of the integer kernels.
#[test]
fn int8_golden_checksum() {
    let net = golden_net();
    let bytes = net.bytes(false);
    let mut model = Model::parse(&bytes).unwrap();
    let labels = [0u32, 1, 2, 0];
    let q_bytes = quantized(&mut model, &golden_latent(), Some(&labels));
    let q_model = Model::parse(&q_bytes).unwrap();
    assert_eq!(q_model.output_shape(), Shape::new(1, 12, 12));
    let mut scratch = Scratch::new(q_model.scratch_len(4).unwrap());
    let mut out = vec![0i8; 4 * 144];
    q_model
        .generate_quantized(&golden_latent(), Some(&labels), &mut out, scratch.bytes())
        .unwrap();
    let out_bytes: Vec<u8> = out.iter().map(|&v| v as u8).collect();
    let distinct = out.iter().collect::<std::collections::BTreeSet<_>>().len();
    assert!(
        distinct > 20,
        "output too flat to be a useful golden: {distinct} values"
    );
    // The file's CRC covers every byte before it; a CRC over the whole file, stored CRC
    // included, is the same constant (0x2144DF1C) for every valid file.
    let body = &q_bytes[..q_bytes.len() - 4];
    assert_eq!(
        (q_bytes.len(), crc32(body), crc32(&out_bytes)),
        (5700, GOLDEN_FILE_CRC, 0x680702FC),
        "int8 golden changed"
    );
}

/// CRC-32 of the golden int8 file. Calibration runs the f32 forward pass, and the
/// `matrixmultiply` route (feature `alloc`) rounds differently from the blocked GEMM, so a
/// few activation scales, and with them the file, differ between the two builds. Both give
/// the same int8 output.
#[cfg(feature = "alloc")]
const GOLDEN_FILE_CRC: u32 = 0xCFF2D48B;

/// CRC-32 of the golden int8 file with the blocked GEMM (no `alloc`, as on the device).
#[cfg(not(feature = "alloc"))]
const GOLDEN_FILE_CRC: u32 = 0x33A28821;

#[test]
fn generate_quantized_needs_int8() {
    let bytes = cpu_preset(1).bytes(false);
    let model = Model::parse(&bytes).unwrap();
    let mut scratch = Scratch::new(model.scratch_len(1).unwrap());
    let mut out = vec![0i8; 784];
    let z = vec![0.0; 64];
    assert_eq!(
        model.generate_quantized(&z, None, &mut out, scratch.bytes()),
        Err(InferError::WrongCompute)
    );
}
