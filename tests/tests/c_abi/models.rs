//! Weight files for the C model tests, written by the core's writer, the corrupt copies of
//! one of them, and the outputs `ambient-core` gives for each.

use ambient_core::format::quantize::quantize_model;
use ambient_core::format::writer::{self, LayerSpec, ModelSpec, TensorData};
use ambient_core::format::{crc32, Compute, ConvParams, Op, QuantParams, ValueRange};
use ambient_core::nn::{GemmRoute, Model};
use ambient_core::sampler::Sampler;
use ambient_core::Shape;

/// Returns `len` deterministic weights in about [-0.5, 0.5].
fn weights(len: usize, salt: usize) -> Vec<f32> {
    (0..len)
        .map(|i| (((i * 7 + salt * 13) % 23) as f32 - 11.0) / 22.0)
        .collect()
}

fn conv(out_channels: usize, kernel: usize, stride: usize, padding: usize) -> ConvParams {
    ConvParams {
        out_channels,
        kernel: (kernel, kernel),
        stride: (stride, stride),
        padding: (padding, padding),
        output_padding: (0, 0),
    }
}

fn write(spec: &ModelSpec<'_>) -> Vec<u8> {
    let mut bytes = vec![0; writer::encoded_len(spec).unwrap()];
    writer::write(spec, &mut bytes).unwrap();
    bytes
}

/// An unconditional DCGAN-shaped float generator: latent 8, dense to 4×4×4, batch norm,
/// ReLU, transposed convolution to 2×8×8, ReLU, convolution to 1×8×8, sigmoid. With `f16`
/// its heavy weights are stored as f16.
pub fn dcgan(f16: bool) -> Vec<u8> {
    fn heavy(values: &[f32], f16: bool) -> TensorData<'_> {
        if f16 {
            TensorData::F16(values)
        } else {
            TensorData::F32(values)
        }
    }
    let stored = |values| heavy(values, f16);
    let (dense_w, dense_b) = (weights(64 * 8, 1), weights(64, 2));
    let (bn_scale, bn_shift) = (vec![1.5, 0.5, 1.0, 2.0], vec![0.1, -0.2, 0.0, 0.3]);
    let (up_w, up_b) = (weights(4 * 2 * 4 * 4, 3), weights(2, 4));
    let (conv_w, conv_b) = (weights(2 * 3 * 3, 5), weights(1, 6));
    let layers = [
        LayerSpec::new(
            Op::Dense { out_features: 64 },
            [
                Some(stored(&dense_w)),
                Some(TensorData::F32(&dense_b)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::Reshape {
            shape: Shape::new(4, 4, 4),
        }),
        LayerSpec::new(
            Op::BatchNorm,
            [
                Some(TensorData::F32(&bn_scale)),
                Some(TensorData::F32(&bn_shift)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::Relu),
        LayerSpec::new(
            Op::ConvTranspose2d(conv(2, 4, 2, 1)),
            [
                Some(stored(&up_w)),
                Some(TensorData::F32(&up_b)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::Relu),
        LayerSpec::new(
            Op::Conv2d(conv(1, 3, 1, 1)),
            [
                Some(stored(&conv_w)),
                Some(TensorData::F32(&conv_b)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::Sigmoid),
    ];
    write(&ModelSpec {
        compute: Compute::Float,
        range: ValueRange::ZeroOne,
        latent: 8,
        classes: 0,
        input_quant: QuantParams::NONE,
        layers: &layers,
    })
}

/// A conditional float generator with 3 classes: latent 6 concatenated with the one-hot
/// class, dense to 2×4×4, conditional batch norm, leaky ReLU, transposed convolution to
/// 3×8×8, tanh.
pub fn conditional() -> Vec<u8> {
    let (dense_w, dense_b) = (weights(32 * 9, 7), weights(32, 8));
    let (cbn_scale, cbn_shift) = (weights(3 * 2, 9), weights(3 * 2, 10));
    let (up_w, up_b) = (weights(2 * 3 * 4 * 4, 11), weights(3, 12));
    let layers = [
        LayerSpec::plain(Op::ConcatClass),
        LayerSpec::new(
            Op::Dense { out_features: 32 },
            [
                Some(TensorData::F32(&dense_w)),
                Some(TensorData::F32(&dense_b)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::Reshape {
            shape: Shape::new(2, 4, 4),
        }),
        LayerSpec::new(
            Op::CondBatchNorm,
            [
                Some(TensorData::F32(&cbn_scale)),
                Some(TensorData::F32(&cbn_shift)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::LeakyRelu { slope: 0.2 }),
        LayerSpec::new(
            Op::ConvTranspose2d(conv(3, 4, 2, 1)),
            [
                Some(TensorData::F32(&up_w)),
                Some(TensorData::F32(&up_b)),
                None,
                None,
            ],
        ),
        LayerSpec::plain(Op::Tanh),
    ];
    write(&ModelSpec {
        compute: Compute::Float,
        range: ValueRange::MinusOneOne,
        latent: 6,
        classes: 3,
        input_quant: QuantParams::NONE,
        layers: &layers,
    })
}

/// Returns the int8 quantisation of [`dcgan`] (f32), calibrated on 16 latent vectors of
/// seed 5.
pub fn dcgan_int8() -> Vec<u8> {
    let float = dcgan(false);
    let model = Model::parse(&float).unwrap();
    let z = latent(5, 16 * model.latent());
    let mut scratch = AlignedScratch::new(model.scratch_len(16).unwrap());
    let mut ranges = vec![(0.0, 0.0); model.layers().len() + 1];
    model
        .calibrate(&z, None, scratch.bytes(), &mut ranges)
        .unwrap();
    quantize_model(&model, &ranges).unwrap().to_bytes().unwrap()
}

/// Returns what `ambient_sample_latent(seed, z, len)` writes: standard normal draws of the
/// core's sampler.
pub fn latent(seed: u64, len: usize) -> Vec<f32> {
    let mut sampler = Sampler::new(seed);
    (0..len).map(|_| sampler.gaussian()).collect()
}

/// Scratch memory that starts at a multiple of 16 bytes.
pub struct AlignedScratch {
    words: Vec<u128>,
    len: usize,
}

impl AlignedScratch {
    /// Allocates `len` zeroed bytes.
    pub fn new(len: usize) -> Self {
        AlignedScratch {
            words: vec![0; len.div_ceil(16)],
            len,
        }
    }

    /// Returns the bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the words are `len` bytes or more of initialised memory, and u8 has no
        // alignment requirement.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.len) }
    }
}

/// Generates `batch` images from `bytes` as the C ABI does (blocked GEMM), with latent
/// vectors from `seed` and labels `i % classes`, and returns the output bits.
pub fn generate(bytes: &[u8], seed: u64, batch: usize) -> Vec<u32> {
    let mut model = Model::parse(bytes).unwrap();
    model.set_gemm_route(GemmRoute::Blocked);
    let z = latent(seed, batch * model.latent());
    let labels: Vec<u32> = (0..batch)
        .map(|i| (i % model.classes().max(1)) as u32)
        .collect();
    let labels = (model.classes() > 0).then_some(&labels[..]);
    let mut out = vec![0.0; batch * model.output_len()];
    let mut scratch = AlignedScratch::new(model.scratch_len(batch).unwrap());
    model
        .generate(&z, labels, &mut out, scratch.bytes())
        .unwrap();
    out.iter().map(|v| v.to_bits()).collect()
}

/// Rewrites the CRC-32 at the end of a weight file after an edit.
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len() - 4;
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// Returns named corrupt copies of `valid`, each with the `ambient_status` name it must
/// give: a wrong magic, a newer major version, a flipped data byte, a cut-off end, no
/// bytes, an unknown operation and a wrong stored shape (the last three with a valid CRC).
pub fn corrupt(valid: &[u8]) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let edit = |at: usize, value: u8| {
        let mut bytes = valid.to_vec();
        bytes[at] = value;
        bytes
    };
    let layer0 = 64;
    vec![
        ("magic", edit(0, b'X'), "NotAModel"),
        ("version", reseal(edit(4, 2)), "UnsupportedModelVersion"),
        (
            "crc",
            edit(valid.len() - 20, valid[valid.len() - 20] ^ 0x10),
            "ModelChecksumMismatch",
        ),
        (
            "truncated",
            valid[..valid.len() - 10].to_vec(),
            "ModelTruncated",
        ),
        ("empty", Vec::new(), "ModelTruncated"),
        ("operation", reseal(edit(layer0, 99)), "InvalidModel"),
        ("shape", reseal(edit(layer0 + 20, 65)), "InvalidModel"),
    ]
}
