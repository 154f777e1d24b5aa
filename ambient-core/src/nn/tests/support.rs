//! Test support: a deterministic random source, a builder for small networks, naive
//! reference layers and aligned scratch.

use std::vec;
use std::vec::Vec;

use crate::format::writer::{encoded_len, write, LayerSpec, ModelSpec, TensorData};
use crate::format::{infer_output_shape, Compute, ConvParams, Op, QuantParams, ValueRange};
use crate::nn::Model;
use crate::Shape;

/// SplitMix64, for test data only.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a value uniform in `[-1, 1)`.
    pub(crate) fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub(crate) fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform() * scale).collect()
    }
}

/// A layer of a [`Net`]: its op, input value and the indices of its tensors in the arena.
struct NetLayer {
    op: Op,
    input: usize,
    tensors: [Option<usize>; 4],
}

/// A builder of float networks with random weights, tracking the shape of every value.
pub(crate) struct Net {
    pub(crate) latent: usize,
    pub(crate) classes: usize,
    pub(crate) range: ValueRange,
    rng: Rng,
    arena: Vec<Vec<f32>>,
    layers: Vec<NetLayer>,
    shapes: Vec<Shape>,
    next_input: Option<usize>,
}

pub(crate) fn conv(out: usize, k: usize, s: usize, p: usize, op: usize) -> ConvParams {
    ConvParams {
        out_channels: out,
        kernel: (k, k),
        stride: (s, s),
        padding: (p, p),
        output_padding: (op, op),
    }
}

impl Net {
    pub(crate) fn new(latent: usize, classes: usize, range: ValueRange, seed: u64) -> Self {
        Self {
            latent,
            classes,
            range,
            rng: Rng(seed),
            arena: Vec::new(),
            layers: Vec::new(),
            shapes: vec![Shape::new(latent, 1, 1)],
            next_input: None,
        }
    }

    /// Returns the index of the newest value.
    pub(crate) fn value(&self) -> usize {
        self.shapes.len() - 1
    }

    /// Makes the next layer read value `v`.
    pub(crate) fn reading(&mut self, v: usize) -> &mut Self {
        self.next_input = Some(v);
        self
    }

    fn tensor(&mut self, data: Vec<f32>) -> Option<usize> {
        self.arena.push(data);
        Some(self.arena.len() - 1)
    }

    /// Adds a layer with explicit tensors.
    pub(crate) fn push_with(&mut self, op: Op, tensors: [Option<Vec<f32>>; 4]) -> &mut Self {
        let input = self.next_input.take().unwrap_or(self.value());
        let out = infer_output_shape(&op, self.shapes[input], self.classes).expect("valid layer");
        let mut idx = [None; 4];
        for (slot, t) in idx.iter_mut().zip(tensors) {
            if let Some(t) = t {
                *slot = self.tensor(t);
            }
        }
        self.layers.push(NetLayer {
            op,
            input,
            tensors: idx,
        });
        self.shapes.push(out);
        self
    }

    /// Adds a layer with random tensors of the sizes it needs.
    pub(crate) fn push(&mut self, op: Op) -> &mut Self {
        let input = self.next_input.unwrap_or(self.value());
        let in_shape = self.shapes[input];
        let in_len = in_shape.checked_len().expect("small");
        let out = infer_output_shape(&op, in_shape, self.classes).expect("valid layer");
        let tensors = match op {
            Op::Dense { out_features } => {
                let s = 1.5 / (in_len as f32).sqrt();
                [
                    Some(self.rng.vec(out_features * in_len, s)),
                    Some(self.rng.vec(out_features, 0.1)),
                    None,
                    None,
                ]
            }
            Op::Conv2d(p) | Op::ConvTranspose2d(p) => {
                let fan_in = in_shape.channels * p.kernel.0 * p.kernel.1;
                let n = fan_in * p.out_channels;
                let s = 1.5 / (fan_in as f32).sqrt();
                [
                    Some(self.rng.vec(n, s)),
                    Some(self.rng.vec(p.out_channels, 0.1)),
                    None,
                    None,
                ]
            }
            Op::BatchNorm | Op::CondBatchNorm => {
                let rows = if op == Op::CondBatchNorm {
                    self.classes
                } else {
                    1
                };
                let n = rows * out.channels;
                let scale = self.rng.vec(n, 0.5).into_iter().map(|v| v + 1.0).collect();
                [Some(scale), Some(self.rng.vec(n, 0.2)), None, None]
            }
            _ => [None, None, None, None],
        };
        self.push_with(op, tensors)
    }

    pub(crate) fn dense(&mut self, out: usize) -> &mut Self {
        self.push(Op::Dense { out_features: out })
    }

    pub(crate) fn conv(&mut self, out: usize, k: usize, s: usize, p: usize) -> &mut Self {
        self.push(Op::Conv2d(conv(out, k, s, p, 0)))
    }

    pub(crate) fn conv_t(
        &mut self,
        out: usize,
        k: usize,
        s: usize,
        p: usize,
        op: usize,
    ) -> &mut Self {
        self.push(Op::ConvTranspose2d(conv(out, k, s, p, op)))
    }

    pub(crate) fn reshape(&mut self, c: usize, h: usize, w: usize) -> &mut Self {
        self.push(Op::Reshape {
            shape: Shape::new(c, h, w),
        })
    }

    pub(crate) fn crop(
        &mut self,
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    ) -> &mut Self {
        self.push(Op::Crop {
            top,
            bottom,
            left,
            right,
        })
    }

    /// Returns the float weight file, with heavy-layer weights stored as f16 when `f16`.
    pub(crate) fn bytes(&self, f16: bool) -> Vec<u8> {
        let specs: Vec<LayerSpec<'_>> = self
            .layers
            .iter()
            .map(|l| {
                let mut tensors = [None; 4];
                for (s, (slot, t)) in tensors.iter_mut().zip(&l.tensors).enumerate() {
                    *slot = t.map(|i| {
                        let heavy = matches!(
                            l.op,
                            Op::Dense { .. } | Op::Conv2d(_) | Op::ConvTranspose2d(_)
                        );
                        if f16 && heavy && s == 0 {
                            TensorData::F16(&self.arena[i])
                        } else {
                            TensorData::F32(&self.arena[i])
                        }
                    });
                }
                LayerSpec {
                    op: l.op,
                    input: Some(l.input),
                    out_quant: QuantParams::NONE,
                    one_q: 0,
                    tensors,
                }
            })
            .collect();
        let spec = ModelSpec {
            compute: Compute::Float,
            range: self.range,
            latent: self.latent,
            classes: self.classes,
            input_quant: QuantParams::NONE,
            layers: &specs,
        };
        to_vec(&spec)
    }
}

/// Writes `spec` into a fresh buffer.
pub(crate) fn to_vec(spec: &ModelSpec<'_>) -> Vec<u8> {
    let len = encoded_len(spec).expect("valid spec");
    let mut out = vec![0u8; len];
    assert_eq!(write(spec, &mut out), Ok(len));
    out
}

/// A 16-byte-aligned byte buffer.
pub(crate) struct Scratch(Vec<u128>, usize);

impl Scratch {
    pub(crate) fn new(len: usize) -> Self {
        Self(vec![0u128; len.div_ceil(16)], len)
    }

    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: u128 storage viewed as bytes; u8 has no alignment or validity needs, and
        // the length stays inside the allocation.
        unsafe { core::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<u8>(), self.1) }
    }
}

/// Runs a model and returns its output.
pub(crate) fn run(model: &Model<'_>, z: &[f32], labels: Option<&[u32]>) -> Vec<f32> {
    let batch = z.len() / model.latent();
    let mut scratch = Scratch::new(model.scratch_len(batch).expect("scratch"));
    let mut out = vec![0f32; batch * model.output_len()];
    model
        .generate(z, labels, &mut out, scratch.bytes())
        .expect("generate");
    out
}

/// Runs a weight file and returns its output.
pub(crate) fn run_bytes(bytes: &[u8], z: &[f32], labels: Option<&[u32]>) -> Vec<f32> {
    run(&Model::parse(bytes).expect("parse"), z, labels)
}

/// Direct convolution: `w` is `[out, in, kh, kw]`.
pub(crate) fn conv_naive(
    x: &[f32],
    s: Shape,
    w: &[f32],
    b: &[f32],
    p: ConvParams,
) -> (Vec<f32>, Shape) {
    let (kh, kw) = p.kernel;
    let oh = (s.height + 2 * p.padding.0 - kh) / p.stride.0 + 1;
    let ow = (s.width + 2 * p.padding.1 - kw) / p.stride.1 + 1;
    let mut y = vec![0f32; p.out_channels * oh * ow];
    for o in 0..p.out_channels {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = b[o] as f64;
                for i in 0..s.channels {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * p.stride.0 + ky) as isize - p.padding.0 as isize;
                            let ix = (ox * p.stride.1 + kx) as isize - p.padding.1 as isize;
                            if iy < 0 || ix < 0 || iy >= s.height as isize || ix >= s.width as isize
                            {
                                continue;
                            }
                            let xv = x[(i * s.height + iy as usize) * s.width + ix as usize];
                            acc += xv as f64 * w[((o * s.channels + i) * kh + ky) * kw + kx] as f64;
                        }
                    }
                }
                y[(o * oh + oy) * ow + ox] = acc as f32;
            }
        }
    }
    (y, Shape::new(p.out_channels, oh, ow))
}

/// Direct transposed convolution (scatter form): `w` is `[in, out, kh, kw]`.
pub(crate) fn conv_t_naive(
    x: &[f32],
    s: Shape,
    w: &[f32],
    b: &[f32],
    p: ConvParams,
) -> (Vec<f32>, Shape) {
    let (kh, kw) = p.kernel;
    let oh = (s.height - 1) * p.stride.0 + kh + p.output_padding.0 - 2 * p.padding.0;
    let ow = (s.width - 1) * p.stride.1 + kw + p.output_padding.1 - 2 * p.padding.1;
    let oc = p.out_channels;
    let mut acc = vec![0f64; oc * oh * ow];
    for i in 0..s.channels {
        for iy in 0..s.height {
            for ix in 0..s.width {
                let xv = x[(i * s.height + iy) * s.width + ix] as f64;
                for o in 0..oc {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let oy = (iy * p.stride.0 + ky) as isize - p.padding.0 as isize;
                            let ox = (ix * p.stride.1 + kx) as isize - p.padding.1 as isize;
                            if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                                continue;
                            }
                            let wv = w[((i * oc + o) * kh + ky) * kw + kx] as f64;
                            acc[(o * oh + oy as usize) * ow + ox as usize] += xv * wv;
                        }
                    }
                }
            }
        }
    }
    let y = acc
        .iter()
        .enumerate()
        .map(|(j, &v)| (v + b[j / (oh * ow)] as f64) as f32)
        .collect();
    (y, Shape::new(oc, oh, ow))
}

/// Asserts two float slices agree within `tol` absolute plus `tol` relative.
pub(crate) fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "index {i}: {g} vs {w}"
        );
    }
}
