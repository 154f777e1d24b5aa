//! The generators of the AmbientGAN paper (Bora, Price and Dimakis, ICLR 2018) and its
//! reference code, in float: shapes, scratch and GEMM-route agreement.

use std::vec::Vec;

#[cfg(feature = "alloc")]
use super::support::assert_close;
use super::support::{run, Net, Rng};
use crate::format::{Op, ValueRange};
use crate::nn::{GemmRoute, Model};

/// The CPU preset: dense 64 -> 128x7x7, BN, ReLU, ConvT(4, 2, 1) -> 64x14x14, BN, ReLU,
/// ConvT(4, 2, 1) -> 1x28x28, sigmoid.
pub(crate) fn cpu_preset(seed: u64) -> Net {
    let mut net = Net::new(64, 0, ValueRange::ZeroOne, seed);
    net.dense(128 * 7 * 7)
        .reshape(128, 7, 7)
        .push(Op::BatchNorm)
        .push(Op::Relu);
    net.conv_t(64, 4, 2, 1, 0)
        .push(Op::BatchNorm)
        .push(Op::Relu);
    net.conv_t(1, 4, 2, 1, 0).push(Op::Sigmoid);
    net
}

/// The MNIST WGAN-GP generator. TF `SAME` 5x5 stride-2 transposed convolutions are a
/// padding-1 transposed convolution with the last row and column cropped.
pub(crate) fn wgan_mnist(seed: u64) -> Net {
    let mut net = Net::new(128, 0, ValueRange::ZeroOne, seed);
    net.dense(4096).push(Op::Relu).reshape(256, 4, 4);
    net.conv_t(128, 5, 2, 1, 0)
        .crop(0, 1, 0, 1)
        .push(Op::Relu)
        .crop(0, 1, 0, 1);
    net.conv_t(64, 5, 2, 1, 0).crop(0, 1, 0, 1).push(Op::Relu);
    net.conv_t(1, 5, 2, 1, 0).crop(0, 1, 0, 1).push(Op::Sigmoid);
    net
}

/// The conditional DCGAN of the 1-D experiments: the one-hot class joins every layer's input.
pub(crate) fn cond_dcgan(seed: u64) -> Net {
    let mut net = Net::new(100, 10, ValueRange::ZeroOne, seed);
    net.push(Op::ConcatClass)
        .dense(1024)
        .push(Op::BatchNorm)
        .push(Op::Relu);
    net.push(Op::ConcatClass)
        .dense(6272)
        .push(Op::BatchNorm)
        .push(Op::Relu);
    net.reshape(128, 7, 7).push(Op::ConcatClass);
    net.conv_t(128, 5, 2, 2, 1)
        .push(Op::BatchNorm)
        .push(Op::Relu)
        .push(Op::ConcatClass);
    net.conv_t(1, 5, 2, 2, 1).push(Op::Sigmoid);
    net
}

/// The CelebA DCGAN structure at a quarter of its widths (128, 64, 32, 16 instead of 512,
/// 256, 128, 64) to keep the test fast: 4x4 -> 64x64x3, tanh.
pub(crate) fn celeba_dcgan(seed: u64) -> Net {
    let mut net = Net::new(100, 0, ValueRange::MinusOneOne, seed);
    net.dense(4 * 4 * 128)
        .reshape(128, 4, 4)
        .push(Op::BatchNorm)
        .push(Op::Relu);
    for c in [64, 32, 16] {
        net.conv_t(c, 5, 2, 2, 1).push(Op::BatchNorm).push(Op::Relu);
    }
    net.conv_t(3, 5, 2, 2, 1).push(Op::Tanh);
    net
}

/// The CIFAR-10 ResNet generator at width 32 (the reference code uses 128): three up-blocks of
/// conditional BN, ReLU, upsample + 3x3 conv, conditional BN, ReLU, 3x3 conv, with an
/// upsample + 1x1 conv shortcut added back; then BN, ReLU, 3x3 conv to 3 channels, tanh.
pub(crate) fn cifar_resnet(seed: u64) -> Net {
    let dim = 32;
    let mut net = Net::new(128, 10, ValueRange::MinusOneOne, seed);
    net.dense(dim * 16).reshape(dim, 4, 4);
    for _ in 0..3 {
        let block_in = net.value();
        net.push(Op::Upsample2x).conv(dim, 1, 1, 0);
        let shortcut = net.value();
        net.reading(block_in).push(Op::CondBatchNorm).push(Op::Relu);
        net.push(Op::Upsample2x).conv(dim, 3, 1, 1);
        net.push(Op::CondBatchNorm)
            .push(Op::Relu)
            .conv(dim, 3, 1, 1);
        net.push(Op::Add { other: shortcut });
    }
    net.push(Op::BatchNorm)
        .push(Op::Relu)
        .conv(3, 3, 1, 1)
        .push(Op::Tanh);
    net
}

fn labels(batch: usize, classes: usize) -> Option<Vec<u32>> {
    (classes > 0).then(|| (0..batch).map(|i| (i % classes) as u32).collect())
}

fn check_generator(net: &Net, shape: (usize, usize, usize), lo: f32, hi: f32) {
    let bytes = net.bytes(false);
    let mut model = Model::parse(&bytes).unwrap();
    assert_eq!(
        model.output_shape(),
        crate::Shape::new(shape.0, shape.1, shape.2)
    );
    let batch = 3;
    let z = Rng(11).vec(batch * net.latent, 1.0);
    let labels = labels(batch, net.classes);
    model.set_gemm_route(GemmRoute::Blocked);
    let y = run(&model, &z, labels.as_deref());
    assert!(
        y.iter().all(|v| (lo..=hi).contains(v)),
        "output outside [{lo}, {hi}]"
    );
    let spread = y.iter().fold(f32::INFINITY, |a, &b| a.min(b))
        < y.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    assert!(spread);
    // Image i of a batch is the image generated alone.
    let one = run(&model, &z[..net.latent], labels.as_ref().map(|l| &l[..1]));
    assert_eq!(&y[..one.len()], &one[..]);
    #[cfg(feature = "alloc")]
    {
        model.set_gemm_route(GemmRoute::MatrixMultiply);
        assert_close(&run(&model, &z, labels.as_deref()), &y, 1e-4);
    }
}

#[test]
fn cpu_preset_runs() {
    check_generator(&cpu_preset(1), (1, 28, 28), 0.0, 1.0);
}

#[test]
fn wgan_mnist_runs() {
    check_generator(&wgan_mnist(2), (1, 28, 28), 0.0, 1.0);
}

#[test]
fn cond_dcgan_runs() {
    check_generator(&cond_dcgan(3), (1, 28, 28), 0.0, 1.0);
}

#[test]
fn celeba_dcgan_runs() {
    check_generator(&celeba_dcgan(4), (3, 64, 64), -1.0, 1.0);
}

#[test]
fn cifar_resnet_runs() {
    check_generator(&cifar_resnet(5), (3, 32, 32), -1.0, 1.0);
}

#[test]
fn cpu_preset_scratch_is_small() {
    // Planned slots: the widest values are 128x7x7 and 64x14x14 (12,544 floats each), the
    // 1x28x28 output, and the latent, each padded to 16 elements; BN and ReLU run in place.
    let bytes = cpu_preset(1).bytes(false);
    let model = Model::parse(&bytes).unwrap();
    let per_image = model.scratch_len(1).unwrap();
    assert!(per_image < 400_000, "scratch for one image {per_image}");
    let sixty_four = model.scratch_len(64).unwrap();
    assert!(sixty_four < 64 * per_image);
}

#[test]
fn model_table_fits_documented_size() {
    // The layer table is a plain value; the Model docs promise a few tens of kilobytes.
    let size = core::mem::size_of::<Model<'_>>();
    std::eprintln!("size_of::<Model>() = {size}");
    assert!(size < 48 * 1024, "Model is {size} bytes");
}
