//! Each layer against hand-computed cases and against the naive references over random
//! shapes.

use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

use super::support::{
    assert_close, conv, conv_naive, conv_t_naive, run, run_bytes, Net, Rng, Scratch,
};
use crate::format::{ConvParams, Op, ValueRange};
use crate::nn::{GemmRoute, InferError, Model};
use crate::Shape;

/// A one-layer float model on an input of shape `s` (the latent is reshaped to it).
fn single(s: Shape, op: Op, tensors: [Option<Vec<f32>>; 4], classes: usize) -> Vec<u8> {
    let mut net = Net::new(
        s.channels * s.height * s.width,
        classes,
        ValueRange::Unbounded,
        1,
    );
    net.reshape(s.channels, s.height, s.width);
    net.push_with(op, tensors);
    net.bytes(false)
}

#[test]
fn conv_transpose_2x2_stride_2() {
    // Each input pixel stamps x * w into its own 2x2 block; bias 0.5 everywhere.
    let op = Op::ConvTranspose2d(conv(1, 2, 2, 0, 0));
    let w = vec![1.0, 2.0, 3.0, 4.0];
    let bytes = single(
        Shape::new(1, 2, 2),
        op,
        [Some(w), Some(vec![0.5]), None, None],
        0,
    );
    let y = run_bytes(&bytes, &[1.0, 2.0, 3.0, 4.0], None);
    let want: Vec<f32> = [
        1.0, 2.0, 2.0, 4.0, //
        3.0, 4.0, 6.0, 8.0, //
        3.0, 6.0, 4.0, 8.0, //
        9.0, 12.0, 12.0, 16.0,
    ]
    .iter()
    .map(|v| v + 0.5)
    .collect();
    assert_eq!(y, want);
}

#[test]
fn conv_3x3_padding_1() {
    // An all-ones 3x3 kernel sums each zero-padded neighbourhood of 1..9.
    let op = Op::Conv2d(conv(1, 3, 1, 1, 0));
    let bytes = single(
        Shape::new(1, 3, 3),
        op,
        [Some(vec![1.0; 9]), Some(vec![0.0]), None, None],
        0,
    );
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let y = run_bytes(&bytes, &x, None);
    assert_eq!(y, [12.0, 21.0, 16.0, 27.0, 45.0, 33.0, 24.0, 39.0, 28.0]);
}

#[test]
fn leaky_relu_negative_slope() {
    let bytes = single(
        Shape::new(4, 1, 1),
        Op::LeakyRelu { slope: 0.2 },
        [None, None, None, None],
        0,
    );
    let y = run_bytes(&bytes, &[-1.0, 0.0, 2.0, -0.5], None);
    assert_eq!(y, [-0.2, 0.0, 2.0, -0.1]);
}

#[test]
fn relu_tanh_sigmoid_values() {
    let x = [-2.0, 0.0, 0.5];
    let s = Shape::new(3, 1, 1);
    let y = run_bytes(&single(s, Op::Relu, [None, None, None, None], 0), &x, None);
    assert_eq!(y, [0.0, 0.0, 0.5]);
    let y = run_bytes(&single(s, Op::Tanh, [None, None, None, None], 0), &x, None);
    assert_close(&y, &[-0.964_027_6, 0.0, 0.462_117_16], 1e-6);
    let y = run_bytes(
        &single(s, Op::Sigmoid, [None, None, None, None], 0),
        &x,
        None,
    );
    assert_close(&y, &[0.119_202_92, 0.5, 0.622_459_3], 1e-6);
}

#[test]
fn cond_batch_norm_two_classes() {
    // scale [[1, 2], [3, 4]], shift [[0.5, -1], [0, 1]] per (class, channel).
    let scale = vec![1.0, 2.0, 3.0, 4.0];
    let shift = vec![0.5, -1.0, 0.0, 1.0];
    let bytes = single(
        Shape::new(2, 1, 2),
        Op::CondBatchNorm,
        [Some(scale), Some(shift), None, None],
        2,
    );
    let x = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0];
    let y = run_bytes(&bytes, &x, Some(&[0, 1]));
    assert_eq!(y, [1.5, 2.5, 5.0, 7.0, 3.0, 6.0, 13.0, 17.0]);
}

#[test]
fn batch_norm_per_channel() {
    let bytes = single(
        Shape::new(2, 1, 2),
        Op::BatchNorm,
        [Some(vec![2.0, -1.0]), Some(vec![1.0, 0.5]), None, None],
        0,
    );
    let y = run_bytes(&bytes, &[1.0, 2.0, 3.0, 4.0], None);
    assert_eq!(y, [3.0, 5.0, -2.5, -3.5]);
}

#[test]
fn dense_hand() {
    // W = [[1, 2, 3], [-1, 0, 1]], b = [0.5, -0.5], x = [1, 1, 2].
    let op = Op::Dense { out_features: 2 };
    let w = vec![1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
    let bytes = single(
        Shape::new(3, 1, 1),
        op,
        [Some(w), Some(vec![0.5, -0.5]), None, None],
        0,
    );
    assert_eq!(
        run_bytes(&bytes, &[1.0, 1.0, 2.0, 0.0, 0.0, 0.0], None),
        [9.5, 0.5, 0.5, -0.5]
    );
}

#[test]
fn crop_asymmetric_and_upsample() {
    let x: Vec<f32> = (0..9).map(|v| v as f32).collect();
    let crop = Op::Crop {
        top: 0,
        bottom: 1,
        left: 1,
        right: 0,
    };
    let y = run_bytes(
        &single(Shape::new(1, 3, 3), crop, [None, None, None, None], 0),
        &x,
        None,
    );
    assert_eq!(y, [1.0, 2.0, 4.0, 5.0]);
    let y = run_bytes(
        &single(
            Shape::new(1, 1, 2),
            Op::Upsample2x,
            [None, None, None, None],
            0,
        ),
        &[1.0, 2.0],
        None,
    );
    assert_eq!(y, [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
}

#[test]
fn concat_class_vector_and_planes() {
    let y = run_bytes(
        &single(
            Shape::new(2, 1, 1),
            Op::ConcatClass,
            [None, None, None, None],
            3,
        ),
        &[5.0, 6.0],
        Some(&[2]),
    );
    assert_eq!(y, [5.0, 6.0, 0.0, 0.0, 1.0]);
    let y = run_bytes(
        &single(
            Shape::new(1, 1, 2),
            Op::ConcatClass,
            [None, None, None, None],
            2,
        ),
        &[5.0, 6.0],
        Some(&[0]),
    );
    assert_eq!(y, [5.0, 6.0, 1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn residual_add_reads_skip_value() {
    // value 1 = reshape(z); value 2 = relu(value 1); value 3 = value 2 + value 1.
    let mut net = Net::new(3, 0, ValueRange::Unbounded, 1);
    net.reshape(3, 1, 1)
        .push(Op::Relu)
        .push(Op::Add { other: 1 });
    let y = run_bytes(&net.bytes(false), &[-1.0, 2.0, 0.5], None);
    assert_eq!(y, [-1.0, 4.0, 1.0]);
}

#[test]
fn generate_rejects_bad_arguments() {
    let bytes = single(
        Shape::new(2, 1, 1),
        Op::ConcatClass,
        [None, None, None, None],
        3,
    );
    let model = Model::parse(&bytes).unwrap();
    let need = model.scratch_len(1).unwrap();
    let mut scratch = Scratch::new(need + 16);
    let mut out = [0f32; 5];
    let s = scratch.bytes();
    assert_eq!(
        model.generate(&[1.0, 2.0], None, &mut out, s),
        Err(InferError::MissingLabels)
    );
    assert_eq!(
        model.generate(&[1.0, 2.0], Some(&[3]), &mut out, s),
        Err(InferError::LabelOutOfRange {
            index: 0,
            label: 3,
            classes: 3
        })
    );
    assert_eq!(
        model.generate(&[1.0, 2.0, 3.0], Some(&[0]), &mut out, s),
        Err(InferError::InvalidLatentLength { len: 3, latent: 2 })
    );
    assert!(matches!(
        model.generate(&[1.0, 2.0], Some(&[0]), &mut out[..4], s),
        Err(InferError::LengthMismatch { what: "out", .. })
    ));
    assert_eq!(
        model.generate(&[1.0, 2.0], Some(&[0]), &mut out, &mut s[..need - 1]),
        Err(InferError::ScratchTooSmall {
            needed: need,
            actual: need - 1
        })
    );
    assert_eq!(
        model.generate(&[1.0, 2.0], Some(&[0]), &mut out, &mut s[1..]),
        Err(InferError::ScratchMisaligned { align: 16 })
    );
    assert_eq!(
        model.generate(&[1.0, 2.0], Some(&[0]), &mut out, &mut s[..need]),
        Ok(())
    );
}

#[test]
fn unconditional_rejects_labels() {
    let bytes = single(Shape::new(2, 1, 1), Op::Relu, [None, None, None, None], 0);
    let model = Model::parse(&bytes).unwrap();
    let mut scratch = Scratch::new(model.scratch_len(1).unwrap());
    let mut out = [0f32; 2];
    assert_eq!(
        model.generate(&[1.0, 2.0], Some(&[0]), &mut out, scratch.bytes()),
        Err(InferError::UnexpectedLabels)
    );
}

fn routes() -> Vec<GemmRoute> {
    #[cfg(feature = "alloc")]
    return vec![GemmRoute::Blocked, GemmRoute::MatrixMultiply];
    #[cfg(not(feature = "alloc"))]
    return vec![GemmRoute::Blocked];
}

fn check_conv(s: Shape, p: ConvParams, transposed: bool, batch: usize, seed: u64) {
    let mut rng = Rng(seed);
    let fan = s.channels * p.kernel.0 * p.kernel.1;
    let w = rng.vec(fan * p.out_channels, 1.0);
    let b = rng.vec(p.out_channels, 1.0);
    let op = if transposed {
        Op::ConvTranspose2d(p)
    } else {
        Op::Conv2d(p)
    };
    let bytes = single(s, op, [Some(w.clone()), Some(b.clone()), None, None], 0);
    let mut model = Model::parse(&bytes).unwrap();
    let n = s.checked_len().unwrap();
    let x = rng.vec(n * batch, 1.0);
    let mut want = Vec::new();
    for xi in x.chunks(n) {
        let (y, _) = if transposed {
            conv_t_naive(xi, s, &w, &b, p)
        } else {
            conv_naive(xi, s, &w, &b, p)
        };
        want.extend(y);
    }
    for route in routes() {
        model.set_gemm_route(route);
        assert_close(&run(&model, &x, None), &want, 1e-5 * (fan as f32).sqrt());
    }
}

fn conv_params() -> impl Strategy<Value = (Shape, ConvParams)> {
    (
        1usize..5,
        1usize..8,
        1usize..8,
        1usize..5,
        1usize..5,
        1usize..4,
        1usize..4,
        0usize..3,
    )
        .prop_map(|(c, h, w, o, kh, kw, s, p)| {
            let p = ConvParams {
                out_channels: o,
                kernel: (kh, kw),
                stride: (s, s.max(2) - 1),
                padding: (p.min(kh - 1), p.min(kw - 1)),
                output_padding: (0, 0),
            };
            (Shape::new(c, h + kh, w + kw), p)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn conv_matches_naive((s, p) in conv_params(), batch in 1usize..3, seed: u64) {
        check_conv(s, p, false, batch, seed);
    }

    #[test]
    fn conv_transpose_matches_naive((s, mut p) in conv_params(), op in 0usize..3,
                                    batch in 1usize..3, seed: u64) {
        p.output_padding = (op % p.stride.0, op % p.stride.1);
        p.padding = (p.padding.0.min((p.kernel.0 - 1) / 2), p.padding.1.min((p.kernel.1 - 1) / 2));
        check_conv(Shape::new(s.channels, s.height - p.kernel.0, s.width - p.kernel.1), p, true, batch, seed);
    }

    #[test]
    fn dense_matches_naive(n_in in 1usize..70, n_out in 1usize..70, batch in 1usize..12, seed: u64) {
        let mut rng = Rng(seed);
        let w = rng.vec(n_in * n_out, 1.0);
        let b = rng.vec(n_out, 1.0);
        let bytes = single(Shape::new(n_in, 1, 1), Op::Dense { out_features: n_out },
                           [Some(w.clone()), Some(b.clone()), None, None], 0);
        let x = rng.vec(n_in * batch, 1.0);
        let want: Vec<f32> = x.chunks(n_in).flat_map(|xi| {
            (0..n_out).map(|o| {
                let s: f64 = (0..n_in).map(|i| w[o * n_in + i] as f64 * xi[i] as f64).sum();
                (s + b[o] as f64) as f32
            }).collect::<Vec<_>>()
        }).collect();
        let mut model = Model::parse(&bytes).unwrap();
        for route in routes() {
            model.set_gemm_route(route);
            assert_close(&run(&model, &x, None), &want, 1e-5 * (n_in as f32).sqrt());
        }
    }

    #[test]
    fn crop_and_upsample_match_naive(c in 1usize..4, h in 2usize..9, w in 2usize..9,
                                     t in 0usize..2, l in 0usize..2, seed: u64) {
        let s = Shape::new(c, h, w);
        let x = Rng(seed).vec(c * h * w, 1.0);
        let crop = Op::Crop { top: t, bottom: 1 - t, left: l, right: 1 - l };
        let y = run_bytes(&single(s, crop, [None, None, None, None], 0), &x, None);
        let mut want = Vec::new();
        for ch in 0..c { for r in t..h - 1 + t { for col in l..w - 1 + l {
            want.push(x[(ch * h + r) * w + col]);
        }}}
        prop_assert_eq!(y, want);
        let y = run_bytes(&single(s, Op::Upsample2x, [None, None, None, None], 0), &x, None);
        for ch in 0..c { for r in 0..2 * h { for col in 0..2 * w {
            prop_assert_eq!(y[(ch * 2 * h + r) * 2 * w + col], x[(ch * h + r / 2) * w + col / 2]);
        }}}
    }
}

#[test]
fn f16_weights_compute_in_f32() {
    let mut net = Net::new(16, 0, ValueRange::Unbounded, 5);
    net.dense(32)
        .reshape(2, 4, 4)
        .conv_t(3, 3, 2, 1, 1)
        .conv(2, 3, 1, 1);
    let z = Rng(9).vec(32, 1.0);
    let full = run_bytes(&net.bytes(false), &z, None);
    let half_bytes = net.bytes(true);
    let half = run_bytes(&half_bytes, &z, None);
    assert!(half_bytes.len() < net.bytes(false).len());
    // binary16 keeps 11 significant bits: relative weight error at most 2^-11.
    let worst = full
        .iter()
        .zip(&half)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst < 0.02, "worst f16 deviation {worst}");
    assert!(worst > 0.0, "f16 weights must round some values");
}

#[test]
fn unaligned_weights_give_same_bits() {
    // A latent of 11 runs the dense layer's 8-lane body and its 3-value tail.
    let mut net = Net::new(11, 0, ValueRange::Unbounded, 3);
    net.dense(18)
        .reshape(2, 3, 3)
        .conv(2, 3, 1, 1)
        .conv_t(1, 2, 2, 0, 0);
    let bytes = net.bytes(false);
    let z = Rng(4).vec(22, 1.0);
    let aligned = run_bytes(&bytes, &z, None);
    for shift in 1..4 {
        let mut buf = vec![0u8; bytes.len() + shift];
        buf[shift..].copy_from_slice(&bytes);
        let model = Model::parse(&buf[shift..]).unwrap();
        let y = run(&model, &z, None);
        assert_eq!(y, aligned, "shift {shift}");
    }
}
