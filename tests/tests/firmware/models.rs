//! The int8 generators the firmware runs, made deterministically through the core's writer
//! and quantiser: random weights of a fixed architecture, calibrated on a fixed batch.
//!
//! Both are the DCGAN generator of the CPU preset (dense, reshape, batch norm, ReLU, two
//! stride-2 transposed 4x4 convolutions, sigmoid), which maps a latent vector to a 28x28
//! image in [0, 1]. [`Generator::CpuPreset`] has the preset's sizes (latent 64, 128 and 64
//! channels); [`Generator::Small`] a quarter of its widths and latent. The weights are
//! random, so the images are noise-like: the firmware test checks arithmetic and figures,
//! not image quality.

use ambient_core::format::quantize::quantize_model;
use ambient_core::format::writer::{encoded_len, write, LayerSpec, ModelSpec, TensorData};
use ambient_core::format::{Compute, ConvParams, Op, QuantParams, ValueRange};
use ambient_core::nn::{GemmRoute, Model};
use ambient_core::sampler::Sampler;
use ambient_core::Shape;

/// The generators the firmware test builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    /// Latent 16, dense to 32x7x7, transposed convolutions to 16x14x14 and 1x28x28. Its
    /// int8 file is committed as `examples/firmware-cortex-m4/model/small-int8.amb`.
    Small,
    /// The CPU preset's sizes: latent 64, dense to 128x7x7, then 64x14x14 and 1x28x28.
    CpuPreset,
}

impl Generator {
    /// Returns the short name used in file names and in the printed figures.
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::CpuPreset => "cpu-preset",
        }
    }

    /// Returns the latent size and the channels of the 7x7 and 14x14 feature maps.
    fn sizes(self) -> (usize, usize, usize) {
        match self {
            Self::Small => (16, 32, 16),
            Self::CpuPreset => (64, 128, 64),
        }
    }

    /// Returns the seed of the random weights.
    fn seed(self) -> u64 {
        match self {
            Self::Small => 0x5A11_0001,
            Self::CpuPreset => 0xC0DE_0064,
        }
    }
}

/// Images in the calibration batch that fixes the int8 activation ranges.
const CALIBRATION_BATCH: usize = 32;

/// The grid calibration ranges are widened to, so that a change in the last bits of the
/// float forward pass (a GEMM that sums in another order) leaves the int8 file unchanged.
const RANGE_STEP: f32 = 1.0 / 16.0;

/// SplitMix64: a fixed, portable source for the weights and the calibration latents.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns `n` values uniform in `[offset - scale, offset + scale)`.
    fn values(&mut self, n: usize, scale: f32, offset: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let unit = (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
                offset + scale * unit
            })
            .collect()
    }
}

fn transposed_4x4(out_channels: usize) -> Op {
    Op::ConvTranspose2d(ConvParams {
        out_channels,
        kernel: (4, 4),
        stride: (2, 2),
        padding: (1, 1),
        output_padding: (0, 0),
    })
}

/// One layer of the float model with its tensors (weight and bias, or batch-norm scale and
/// shift).
struct FloatLayer {
    op: Op,
    tensors: Vec<Vec<f32>>,
}

/// Draws the float layers: uniform weights scaled by 1.5 / sqrt(fan-in), as a trained
/// generator's are of that order, and batch norms with scales near 1.
fn float_layers(generator: Generator) -> Vec<FloatLayer> {
    let (latent, wide, narrow) = generator.sizes();
    let mut rng = SplitMix(generator.seed());
    let mut weights = |fan_in: usize, count: usize, outputs: usize| {
        let scale = 1.5 / (fan_in as f32).sqrt();
        vec![rng.values(count, scale, 0.0), rng.values(outputs, 0.1, 0.0)]
    };
    let dense = weights(latent, latent * wide * 49, wide * 49);
    let up = weights(wide * 16, wide * narrow * 16, narrow);
    let out = weights(narrow * 16, narrow * 16, 1);
    let mut rng = SplitMix(generator.seed() ^ 0xBA7C_4E02);
    let mut norm = |channels: usize| {
        vec![
            rng.values(channels, 0.25, 1.0),
            rng.values(channels, 0.2, 0.0),
        ]
    };
    let (norm_wide, norm_narrow) = (norm(wide), norm(narrow));

    let plain = |op| FloatLayer {
        op,
        tensors: Vec::new(),
    };
    vec![
        FloatLayer {
            op: Op::Dense {
                out_features: wide * 49,
            },
            tensors: dense,
        },
        plain(Op::Reshape {
            shape: Shape::new(wide, 7, 7),
        }),
        FloatLayer {
            op: Op::BatchNorm,
            tensors: norm_wide,
        },
        plain(Op::Relu),
        FloatLayer {
            op: transposed_4x4(narrow),
            tensors: up,
        },
        FloatLayer {
            op: Op::BatchNorm,
            tensors: norm_narrow,
        },
        plain(Op::Relu),
        FloatLayer {
            op: transposed_4x4(1),
            tensors: out,
        },
        plain(Op::Sigmoid),
    ]
}

/// Writes the f32 weight file of `generator`.
fn float_file(generator: Generator) -> Vec<u8> {
    let layers = float_layers(generator);
    let specs: Vec<LayerSpec<'_>> = layers
        .iter()
        .map(|layer| {
            let mut tensors = [None; 4];
            for (slot, data) in tensors.iter_mut().zip(&layer.tensors) {
                *slot = Some(TensorData::F32(data));
            }
            LayerSpec::new(layer.op, tensors)
        })
        .collect();
    let spec = ModelSpec {
        compute: Compute::Float,
        range: ValueRange::ZeroOne,
        latent: generator.sizes().0,
        classes: 0,
        input_quant: QuantParams::NONE,
        layers: &specs,
    };
    let mut bytes = vec![0u8; encoded_len(&spec).expect("valid float generator")];
    write(&spec, &mut bytes).expect("write the float generator");
    bytes
}

/// Returns a 16-byte-aligned scratch buffer of `len` bytes for the host runs.
pub fn scratch(len: usize) -> Vec<u128> {
    vec![0u128; len.div_ceil(16)]
}

/// Views an aligned scratch buffer as bytes.
pub fn scratch_bytes(buffer: &mut [u128]) -> &mut [u8] {
    let len = std::mem::size_of_val(buffer);
    // SAFETY: u128 storage viewed as bytes: u8 has no alignment or validity requirement and
    // the length is that of the borrowed slice.
    unsafe { std::slice::from_raw_parts_mut(buffer.as_mut_ptr().cast::<u8>(), len) }
}

/// Returns the int8 weight file of `generator`: the float model calibrated on a fixed
/// batch of standard normal latents (the distribution of the firmware's latent), then
/// quantised by the core's quantiser. Calibration uses the core's own blocked GEMM, whose
/// f32 rounding is the same on every machine, and its ranges are widened to multiples of
/// [`RANGE_STEP`], so the file is the same on every machine and across GEMM changes.
pub fn int8_file(generator: Generator) -> Vec<u8> {
    let float = float_file(generator);
    let mut model = Model::parse(&float).expect("parse the float generator");
    model.set_gemm_route(GemmRoute::Blocked);
    let mut sampler = Sampler::new(generator.seed() ^ 0x1A7E_0715);
    let latents: Vec<f32> = (0..CALIBRATION_BATCH * model.latent())
        .map(|_| sampler.gaussian())
        .collect();

    let scratch_len = model
        .scratch_len(CALIBRATION_BATCH)
        .expect("calibration scratch");
    let mut buffer = scratch(scratch_len);
    let mut ranges = vec![(0.0, 0.0); model.layers().len() + 1];
    model
        .calibrate(&latents, None, scratch_bytes(&mut buffer), &mut ranges)
        .expect("calibrate the float generator");
    for (lo, hi) in &mut ranges {
        *lo = (*lo / RANGE_STEP).floor() * RANGE_STEP;
        *hi = (*hi / RANGE_STEP).ceil() * RANGE_STEP;
    }

    quantize_model(&model, &ranges)
        .expect("quantise the generator")
        .to_bytes()
        .expect("write the int8 generator")
}
