//! The parser against every corruption class, and the writer's round trip.

use std::vec;
use std::vec::Vec;

use super::writer::{encoded_len, write, LayerSpec, ModelSpec, TensorData};
use super::{
    crc32, Compute, FormatError, Op, QuantParams, ValueRange, HEADER_LEN, LAYER_RECORD_LEN,
    TENSOR_RECORD_LEN,
};
use crate::nn::tests::support::{conv, Net};
use crate::nn::Model;
use crate::Shape;

/// A valid float file of a few KB: dense, reshape, batch norm, ReLU, transposed convolution,
/// crop, convolution, sigmoid.
fn small_file() -> Vec<u8> {
    let mut net = Net::new(8, 0, ValueRange::ZeroOne, 42);
    net.dense(32)
        .reshape(2, 4, 4)
        .push(Op::BatchNorm)
        .push(Op::Relu);
    net.conv_t(3, 3, 2, 1, 1)
        .crop(0, 1, 1, 0)
        .conv(1, 3, 1, 1)
        .push(Op::Sigmoid);
    net.bytes(false)
}

fn layer_count(b: &[u8]) -> usize {
    u16::from_le_bytes([b[14], b[15]]) as usize
}

fn layer_at(k: usize) -> usize {
    HEADER_LEN + LAYER_RECORD_LEN * k
}

fn tensor_at(b: &[u8], t: usize) -> usize {
    HEADER_LEN + LAYER_RECORD_LEN * layer_count(b) + TENSOR_RECORD_LEN * t
}

/// Applies `change` and rewrites the CRC, so only the structural checks can catch it.
fn patched(file: &[u8], change: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut b = file.to_vec();
    change(&mut b);
    let n = b.len();
    let crc = crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn parse_err(b: &[u8]) -> FormatError {
    Model::parse(b).expect_err("corrupt file must be rejected")
}

#[test]
fn small_file_is_valid_and_small() {
    let file = small_file();
    assert!((1000..8000).contains(&file.len()), "{} bytes", file.len());
    let model = Model::parse(&file).unwrap();
    assert_eq!(model.layers().len(), 8);
    assert_eq!(model.output_shape(), Shape::new(1, 7, 7));
}

#[test]
fn wrong_magic() {
    let mut file = small_file();
    file[0] = b'X';
    assert_eq!(parse_err(&file), FormatError::BadMagic);
}

#[test]
fn newer_major_version() {
    let file = patched(&small_file(), |b| b[4] = 2);
    assert_eq!(
        parse_err(&file),
        FormatError::UnsupportedVersion {
            major: 2,
            minor: super::VERSION_MINOR
        }
    );
}

#[test]
fn newer_minor_version_is_read() {
    let file = patched(&small_file(), |b| b[6] = 7);
    assert_eq!(Model::parse(&file).unwrap().header().minor, 7);
}

#[test]
fn truncated_at_every_offset() {
    let file = small_file();
    for len in 0..file.len() {
        let err = parse_err(&file[..len]);
        let expected = matches!(
            err,
            FormatError::Truncated { .. } | FormatError::LengthMismatch { .. }
        );
        assert!(expected, "length {len}: {err:?}");
    }
}

#[test]
fn every_single_bit_flip() {
    let file = small_file();
    let mut buf = file.clone();
    for byte in 0..file.len() {
        for bit in 0..8 {
            buf[byte] ^= 1 << bit;
            assert!(
                Model::parse(&buf).is_err(),
                "flip of bit {bit} of byte {byte}"
            );
            buf[byte] ^= 1 << bit;
        }
    }
}

#[test]
fn tensor_shape_product_overflows() {
    let file = patched(&small_file(), |b| {
        let t = tensor_at(b, 0);
        put_u32(b, t + 4, 0x0001_0000);
        put_u32(b, t + 8, 0x0001_0000);
    });
    assert_eq!(
        parse_err(&file),
        FormatError::InvalidTensor {
            tensor: 0,
            reason: "element count overflows"
        }
    );
}

#[test]
fn layer_shape_product_overflows() {
    // Layer 1 is the reshape: a stored output of 2^16 x 2^16 x 2^16 elements overflows.
    let file = patched(&small_file(), |b| {
        let l = layer_at(1);
        for i in 0..3 {
            put_u32(b, l + 20 + 4 * i, 0x0001_0000);
        }
    });
    assert_eq!(parse_err(&file), FormatError::SizeOverflow { layer: 1 });
}

#[test]
fn chain_shapes_do_not_connect() {
    // Layer 2 (batch norm) claims an input of [3, 4, 4] after the reshape to [2, 4, 4].
    let file = patched(&small_file(), |b| put_u32(b, layer_at(2) + 8, 3));
    assert_eq!(
        parse_err(&file),
        FormatError::ShapeMismatch {
            layer: 2,
            expected: Shape::new(2, 4, 4),
            found: Shape::new(3, 4, 4)
        }
    );
    // The reshape claims [4, 2, 4]: same element count, so it is valid, but the batch norm
    // after it still stores [2, 4, 4].
    let file = patched(&small_file(), |b| {
        put_u32(b, layer_at(1) + 20, 4);
        put_u32(b, layer_at(1) + 24, 2);
    });
    assert!(matches!(
        parse_err(&file),
        FormatError::ShapeMismatch { layer: 2, .. }
    ));
    // The header's output shape disagrees with the last layer's.
    let file = patched(&small_file(), |b| put_u32(b, 32, 9));
    assert!(matches!(
        parse_err(&file),
        FormatError::ShapeMismatch { layer: 8, .. }
    ));
}

#[test]
fn source_value_from_the_future() {
    let file = patched(&small_file(), |b| b[layer_at(3) + 2] = 5);
    assert_eq!(
        parse_err(&file),
        FormatError::InvalidSource { layer: 3, value: 5 }
    );
}

#[test]
fn invalid_records() {
    let file = small_file();
    let unknown_op = patched(&file, |b| b[layer_at(3)] = 99);
    assert_eq!(
        parse_err(&unknown_op),
        FormatError::UnknownOp { layer: 3, code: 99 }
    );
    let dtype = patched(&file, |b| b[tensor_at(b, 0)] = 9);
    assert!(matches!(
        parse_err(&dtype),
        FormatError::InvalidTensor { tensor: 0, .. }
    ));
    let misaligned = patched(&file, |b| {
        let t = tensor_at(b, 1);
        let off = u32::from_le_bytes([b[t + 20], b[t + 21], b[t + 22], b[t + 23]]);
        put_u32(b, t + 20, off + 4);
    });
    assert!(matches!(
        parse_err(&misaligned),
        FormatError::InvalidTensor { tensor: 1, .. }
    ));
    let overlap = patched(&file, |b| {
        let t0 = tensor_at(b, 0);
        let off = u32::from_le_bytes([b[t0 + 20], b[t0 + 21], b[t0 + 22], b[t0 + 23]]);
        put_u32(b, tensor_at(b, 1) + 20, off);
    });
    assert!(matches!(
        parse_err(&overlap),
        FormatError::InvalidTensor { tensor: 1, .. }
    ));
    let past_end = patched(&file, |b| put_u32(b, tensor_at(b, 0) + 20, 0x00FF_FFF0));
    assert!(matches!(
        parse_err(&past_end),
        FormatError::InvalidTensor { tensor: 0, .. }
    ));
    // The dense bias slot points at the weight tensor, whose shape is wrong for a bias.
    let wrong_slot = patched(&file, |b| b[layer_at(0) + 58] = 0);
    assert_eq!(
        parse_err(&wrong_slot),
        FormatError::TensorMismatch {
            layer: 0,
            role: "bias"
        }
    );
    let no_layers = patched(&file, |b| b[14] = 0);
    assert_eq!(parse_err(&no_layers), FormatError::LayerCount { count: 0 });
    let tensors = patched(&file, |b| {
        b[16..18].copy_from_slice(&0xFFFFu16.to_le_bytes())
    });
    assert_eq!(
        parse_err(&tensors),
        FormatError::TensorCount { count: 0xFFFF }
    );
    let stride = patched(&file, |b| b[layer_at(4) + 36] = 0);
    assert!(matches!(
        parse_err(&stride),
        FormatError::InvalidLayer { layer: 4, .. }
    ));
}

#[test]
fn writer_round_trip() {
    let w: Vec<f32> = (0..12).map(|i| i as f32 * 0.25 - 1.0).collect();
    let b = [0.5f32, -0.5, 1.5];
    let layers = [
        LayerSpec::new(
            Op::Dense { out_features: 3 },
            [
                Some(TensorData::F32(&w)),
                Some(TensorData::F32(&b)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::LeakyRelu { slope: 0.1 }),
        LayerSpec::plain(Op::Add { other: 1 }),
    ];
    let spec = ModelSpec {
        compute: Compute::Float,
        range: ValueRange::Unbounded,
        latent: 4,
        classes: 0,
        input_quant: QuantParams::NONE,
        layers: &layers,
    };
    let len = encoded_len(&spec).unwrap();
    let mut small = vec![0u8; len - 1];
    assert_eq!(
        write(&spec, &mut small),
        Err(FormatError::BufferTooSmall {
            needed: len,
            actual: len - 1
        })
    );
    let mut buf = vec![0u8; len + 10];
    assert_eq!(write(&spec, &mut buf), Ok(len));
    let model = Model::parse(&buf[..len]).unwrap();
    assert_eq!(model.latent(), 4);
    assert_eq!(model.header().range, ValueRange::Unbounded);
    let dense = model.layers()[0];
    let weight = dense.tensors[0].unwrap();
    assert_eq!(weight.dims, [3, 4, 1, 1]);
    assert_eq!((0..12).map(|i| weight.f32_at(i)).collect::<Vec<_>>(), w);
    assert_eq!(model.layers()[1].op, Op::LeakyRelu { slope: 0.1 });
    assert_eq!(model.layers()[2].op, Op::Add { other: 1 });
    // Every tensor's data starts 16-byte aligned within the file.
    for t in model
        .layers()
        .iter()
        .flat_map(|l| l.tensors.iter().flatten())
    {
        assert_eq!((t.bytes.as_ptr() as usize - buf.as_ptr() as usize) % 16, 0);
    }
}

#[test]
fn writer_rejects_invalid_specs() {
    let w = [1.0f32; 5];
    let short = [LayerSpec::new(
        Op::Dense { out_features: 3 },
        [
            Some(TensorData::F32(&w)),
            Some(TensorData::F32(&w[..3])),
            None,
            None,
        ],
    )];
    let mut spec = ModelSpec {
        compute: Compute::Float,
        range: ValueRange::Unbounded,
        latent: 4,
        classes: 0,
        input_quant: QuantParams::NONE,
        layers: &short,
    };
    assert_eq!(
        encoded_len(&spec),
        Err(FormatError::TensorMismatch {
            layer: 0,
            role: "weight"
        })
    );
    let add = [
        LayerSpec::plain(Op::Add { other: 0 }).reading(0),
        LayerSpec::plain(Op::Add { other: 3 }),
    ];
    spec.layers = &add;
    assert_eq!(
        encoded_len(&spec),
        Err(FormatError::InvalidSource { layer: 1, value: 3 })
    );
    let crop = [LayerSpec::plain(Op::Crop {
        top: 1,
        bottom: 0,
        left: 0,
        right: 0,
    })];
    spec.layers = &crop;
    assert!(matches!(
        encoded_len(&spec),
        Err(FormatError::InvalidLayer { layer: 0, .. })
    ));
    let convt = [LayerSpec::plain(Op::ConvTranspose2d(conv(1, 2, 2, 0, 0)))];
    spec.layers = &convt;
    assert!(matches!(
        encoded_len(&spec),
        Err(FormatError::TensorMismatch { layer: 0, .. })
    ));
    spec.layers = &[];
    assert_eq!(
        encoded_len(&spec),
        Err(FormatError::LayerCount { count: 0 })
    );
}
