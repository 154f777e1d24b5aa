//! Forward pass of the CPU preset's generator (dense 64 -> 128x7x7, BN, ReLU, ConvT to
//! 64x14x14, BN, ReLU, ConvT to 1x28x28, sigmoid) at batch 1 and 64: f32 through the
//! crate's blocked GEMM and through `matrixmultiply`, and int8. Weights are random; the
//! time does not depend on their values. The model and scratch sizes are printed first.
//!
//! Run: `cargo bench -p ambient-core --features alloc,writer --bench generator`.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use ambient_core::format::quantize::quantize_model;
use ambient_core::format::writer::{encoded_len, write, LayerSpec, ModelSpec, TensorData};
use ambient_core::format::{Compute, ConvParams, Op, QuantParams, ValueRange};
use ambient_core::nn::{GemmRoute, Model};
use ambient_core::Shape;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Uniform values in `[-scale, scale)` from a fixed linear congruential sequence.
fn values(n: usize, scale: f32, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * scale
        })
        .collect()
}

fn conv_t(out: usize) -> Op {
    Op::ConvTranspose2d(ConvParams {
        out_channels: out,
        kernel: (4, 4),
        stride: (2, 2),
        padding: (1, 1),
        output_padding: (0, 0),
    })
}

/// The weight and bias slots of a layer.
fn pair<'a>(a: &'a [f32], b: &'a [f32]) -> [Option<TensorData<'a>>; 4] {
    [
        Some(TensorData::F32(a)),
        Some(TensorData::F32(b)),
        None,
        None,
    ]
}

/// Writes the float CPU-preset generator.
fn cpu_preset() -> Vec<u8> {
    let dense_w = values(6272 * 64, 0.2, 1);
    let dense_b = values(6272, 0.1, 2);
    let bn1 = (values(128, 0.5, 3), values(128, 0.2, 4));
    let t1 = (values(128 * 64 * 16, 0.05, 5), values(64, 0.1, 6));
    let bn2 = (values(64, 0.5, 7), values(64, 0.2, 8));
    let t2 = (values(64 * 16, 0.1, 9), values(1, 0.1, 10));
    let bn1_scale: Vec<f32> = bn1.0.iter().map(|v| v + 1.0).collect();
    let bn2_scale: Vec<f32> = bn2.0.iter().map(|v| v + 1.0).collect();
    let (d, b1, c1, b2, c2) = (
        pair(&dense_w, &dense_b),
        pair(&bn1_scale, &bn1.1),
        pair(&t1.0, &t1.1),
        pair(&bn2_scale, &bn2.1),
        pair(&t2.0, &t2.1),
    );
    let layers = [
        LayerSpec::new(Op::Dense { out_features: 6272 }, d),
        LayerSpec::plain(Op::Reshape {
            shape: Shape::new(128, 7, 7),
        }),
        LayerSpec::new(Op::BatchNorm, b1),
        LayerSpec::plain(Op::Relu),
        LayerSpec::new(conv_t(64), c1),
        LayerSpec::new(Op::BatchNorm, b2),
        LayerSpec::plain(Op::Relu),
        LayerSpec::new(conv_t(1), c2),
        LayerSpec::plain(Op::Sigmoid),
    ];
    let spec = ModelSpec {
        compute: Compute::Float,
        range: ValueRange::ZeroOne,
        latent: 64,
        classes: 0,
        input_quant: QuantParams::NONE,
        layers: &layers,
    };
    let mut out = vec![0u8; encoded_len(&spec).expect("valid preset")];
    write(&spec, &mut out).expect("write preset");
    out
}

/// A 16-byte-aligned scratch buffer of `len` bytes.
fn scratch(len: usize) -> Vec<u128> {
    vec![0u128; len.div_ceil(16)]
}

fn bytes_of(v: &mut [u128]) -> &mut [u8] {
    // SAFETY: u128 storage viewed as bytes; u8 has no alignment or validity needs.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), v.len() * 16) }
}

fn int8_preset(float: &[u8]) -> Vec<u8> {
    let mut model = Model::parse(float).expect("parse");
    model.set_gemm_route(GemmRoute::Blocked);
    let z = values(64 * 64, 1.0, 11);
    let mut s = scratch(model.scratch_len(64).expect("scratch"));
    let mut ranges = vec![(0.0, 0.0); model.layers().len() + 1];
    model
        .calibrate(&z, None, bytes_of(&mut s), &mut ranges)
        .expect("calibrate");
    quantize_model(&model, &ranges)
        .expect("quantise")
        .to_bytes()
        .expect("write int8")
}

fn bench_generator(c: &mut Criterion) {
    let float = cpu_preset();
    let int8 = int8_preset(&float);
    let cases: [(&str, &[u8], GemmRoute); 3] = [
        ("f32_blocked", &float, GemmRoute::Blocked),
        ("f32_matrixmultiply", &float, GemmRoute::MatrixMultiply),
        ("int8", &int8, GemmRoute::Blocked),
    ];
    let mut group = c.benchmark_group("cpu_preset_generate");
    for (name, bytes, route) in cases {
        let mut model = Model::parse(bytes).expect("parse");
        model.set_gemm_route(route);
        for batch in [1usize, 64] {
            let len = model.scratch_len(batch).expect("scratch");
            eprintln!(
                "{name}: model {} bytes, scratch {len} bytes at batch {batch}",
                bytes.len()
            );
            let mut s = scratch(len);
            let z = values(batch * 64, 1.0, 12);
            let mut out = vec![0f32; batch * 784];
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(BenchmarkId::new(name, batch), &batch, |b, _| {
                b.iter(|| {
                    model
                        .generate(&z, None, &mut out, bytes_of(&mut s))
                        .expect("generate")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_generator);
criterion_main!(benches);
