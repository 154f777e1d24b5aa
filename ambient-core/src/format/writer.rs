//! The weight-file writer (feature `writer`): validates a model description and writes the
//! file into a caller buffer, without allocating.
//!
//! The caller describes each layer by its [`Op`], the value it reads, and its tensors as
//! flat slices in the layouts the format specifies; the writer infers every shape, checks
//! every tensor length against it, and computes the offsets and the CRC-32. A written file
//! is parsed back before [`write`] returns, so the writer cannot produce a file the reader
//! rejects.

use super::layer::{ShapeError, Signature};
use super::{
    crc32, f32_to_f16, infer_output_shape, tensor_signature, Compute, DType, FormatError, Op,
    QuantParams, ValueRange, HEADER_LEN, LAYER_RECORD_LEN, MAGIC, MAX_LAYERS, NO_TENSOR,
    TENSORS_PER_LAYER, TENSOR_ALIGN, TENSOR_RECORD_LEN, VERSION_MAJOR, VERSION_MINOR,
};
use crate::Shape;

/// The data of one tensor, flat, in the layout the format specifies for its slot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TensorData<'s> {
    /// Stored as f32.
    F32(&'s [f32]),
    /// Given as f32, stored as f16 (rounded to nearest, ties to even).
    F16(&'s [f32]),
    /// Stored as i8.
    I8(&'s [i8]),
    /// Stored as i32.
    I32(&'s [i32]),
}

impl TensorData<'_> {
    fn dtype(&self) -> DType {
        match self {
            Self::F32(_) => DType::F32,
            Self::F16(_) => DType::F16,
            Self::I8(_) => DType::I8,
            Self::I32(_) => DType::I32,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::F32(v) | Self::F16(v) => v.len(),
            Self::I8(v) => v.len(),
            Self::I32(v) => v.len(),
        }
    }
}

/// One layer to write.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerSpec<'s> {
    /// The operation.
    pub op: Op,
    /// The value the layer reads (0 is the latent input, `k + 1` the output of layer `k`);
    /// `None` reads the previous layer's output.
    pub input: Option<usize>,
    /// Output quantisation (int8 models; ignored for float models).
    pub out_quant: QuantParams,
    /// For an int8 class concatenation: the quantised value of a one-hot 1.
    pub one_q: i32,
    /// The tensors of the layer's slots, in the order the format lists for its operation.
    pub tensors: [Option<TensorData<'s>>; TENSORS_PER_LAYER],
}

impl<'s> LayerSpec<'s> {
    /// A layer reading the previous layer's output, with the given tensors (unused slots
    /// `None`) and no quantisation.
    pub fn new(op: Op, tensors: [Option<TensorData<'s>>; TENSORS_PER_LAYER]) -> Self {
        Self {
            op,
            input: None,
            out_quant: QuantParams::NONE,
            one_q: 0,
            tensors,
        }
    }

    /// A layer without tensors (activations, reshape, crop, upsampling, ...).
    pub fn plain(op: Op) -> Self {
        Self::new(op, [None; TENSORS_PER_LAYER])
    }

    /// Returns the layer reading value `value` instead of the previous output.
    pub fn reading(mut self, value: usize) -> Self {
        self.input = Some(value);
        self
    }
}

/// The width of an int8 model's quantised latent input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LatentBits {
    /// i8 with the scale and zero point of `ModelSpec::input_quant` (every format version).
    Eight,
    /// i16, symmetric (zero point 0), read only by dense layers (format 1.1).
    Sixteen,
}

/// A whole model to write.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelSpec<'s> {
    /// Float or int8 compute.
    pub compute: Compute,
    /// Range of the output values.
    pub range: ValueRange,
    /// Latent size.
    pub latent: usize,
    /// Number of classes (0 for an unconditional generator).
    pub classes: usize,
    /// Quantisation of the latent input (int8 models).
    pub input_quant: QuantParams,
    /// The layers in execution order.
    pub layers: &'s [LayerSpec<'s>],
}

/// The shapes the writer derived for one layer.
#[derive(Clone, Copy)]
struct Resolved {
    input: usize,
    in_shape: Shape,
    out_shape: Shape,
    signature: [Option<Signature>; TENSORS_PER_LAYER],
}

fn layer_error(k: usize) -> impl Fn(ShapeError) -> FormatError {
    move |e| match e {
        ShapeError::Overflow => FormatError::SizeOverflow { layer: k },
        ShapeError::Invalid(reason) => FormatError::InvalidLayer { layer: k, reason },
    }
}

/// Infers the shapes of every layer and checks each tensor against its slot.
fn resolve(spec: &ModelSpec<'_>, out: &mut [Resolved; MAX_LAYERS]) -> Result<(), FormatError> {
    let n = spec.layers.len();
    if n == 0 || n > MAX_LAYERS {
        return Err(FormatError::LayerCount { count: n });
    }
    let shape_of = |v: usize, done: &[Resolved]| match v {
        0 => Shape::new(spec.latent, 1, 1),
        _ => done[v - 1].out_shape,
    };
    for (k, layer) in spec.layers.iter().enumerate() {
        let input = layer.input.unwrap_or(k);
        if input > k {
            return Err(FormatError::InvalidSource {
                layer: k,
                value: input,
            });
        }
        let in_shape = shape_of(input, &out[..k]);
        let out_shape =
            infer_output_shape(&layer.op, in_shape, spec.classes).map_err(layer_error(k))?;
        if let Op::Add { other } = layer.op {
            if other > k {
                return Err(FormatError::InvalidSource {
                    layer: k,
                    value: other,
                });
            }
            let other_shape = shape_of(other, &out[..k]);
            if other_shape != in_shape {
                return Err(FormatError::ShapeMismatch {
                    layer: k,
                    expected: in_shape,
                    found: other_shape,
                });
            }
        }
        let signature =
            tensor_signature(&layer.op, in_shape, out_shape, spec.classes, spec.compute);
        for (sig, data) in signature.iter().zip(&layer.tensors) {
            check_tensor(sig, data, k)?;
        }
        out[k] = Resolved {
            input,
            in_shape,
            out_shape,
            signature,
        };
    }
    Ok(())
}

fn check_tensor(
    sig: &Option<Signature>,
    data: &Option<TensorData<'_>>,
    k: usize,
) -> Result<(), FormatError> {
    match (sig, data) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(FormatError::TensorMismatch {
            layer: k,
            role: "surplus",
        }),
        (Some(sig), data) => {
            let mismatch = FormatError::TensorMismatch {
                layer: k,
                role: sig.role.name(),
            };
            let data = data.ok_or(mismatch)?;
            let count = sig.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if !sig.dtypes.contains(&data.dtype()) || count != Some(data.len()) {
                return Err(mismatch);
            }
            Ok(())
        }
    }
}

/// Returns the byte layout of a file: where the tables end, and the total length.
fn layout(spec: &ModelSpec<'_>) -> Result<(usize, usize), FormatError> {
    let overflow = FormatError::SizeOverflow {
        layer: spec.layers.len(),
    };
    let tensors = count_tensors(spec);
    let tables_end =
        HEADER_LEN + LAYER_RECORD_LEN * spec.layers.len() + TENSOR_RECORD_LEN * tensors;
    let mut end = tables_end;
    for data in spec.layers.iter().flat_map(|l| l.tensors.iter().flatten()) {
        let bytes = data
            .len()
            .checked_mul(data.dtype().size())
            .ok_or(overflow)?;
        end = align(end).checked_add(bytes).ok_or(overflow)?;
    }
    let total = end.checked_add(4).ok_or(overflow)?;
    if total > u32::MAX as usize {
        return Err(overflow);
    }
    Ok((tables_end, total))
}

fn align(v: usize) -> usize {
    v.div_ceil(TENSOR_ALIGN) * TENSOR_ALIGN
}

fn count_tensors(spec: &ModelSpec<'_>) -> usize {
    spec.layers
        .iter()
        .map(|l| l.tensors.iter().flatten().count())
        .sum()
}

/// Returns the length in bytes of the file [`write`] makes from `spec`, after validating it.
pub fn encoded_len(spec: &ModelSpec<'_>) -> Result<usize, FormatError> {
    let mut resolved = [EMPTY; MAX_LAYERS];
    resolve(spec, &mut resolved)?;
    check_header(spec)?;
    Ok(layout(spec)?.1)
}

const EMPTY: Resolved = Resolved {
    input: 0,
    in_shape: Shape::new(0, 0, 0),
    out_shape: Shape::new(0, 0, 0),
    signature: [None; TENSORS_PER_LAYER],
};

fn check_header(spec: &ModelSpec<'_>) -> Result<(), FormatError> {
    if spec.latent == 0 || spec.latent > super::layer::MAX_ELEMENTS {
        return Err(FormatError::InvalidHeader { field: "latent" });
    }
    if spec.classes > u16::MAX as usize {
        return Err(FormatError::InvalidHeader { field: "classes" });
    }
    Ok(())
}

/// Writes the weight file of `spec` into the start of `out` and returns its length. Fails
/// with [`FormatError::BufferTooSmall`] when `out` is shorter than [`encoded_len`], and with
/// the reader's error when the description is invalid (for example a tensor of the wrong
/// length, or int8 quantisation parameters the reader rejects).
pub fn write(spec: &ModelSpec<'_>, out: &mut [u8]) -> Result<usize, FormatError> {
    write_with_latent(spec, LatentBits::Eight, out)
}

/// Writes `spec` as [`write`] does, with an int8 model's latent input quantised to `bits`.
/// A 16-bit latent has zero point 0 and the scale of `spec.input_quant`; every layer that
/// reads it must be a dense layer of at most [`crate::nn::int8::MAX_WIDE_DEPTH`] inputs.
pub fn write_with_latent(
    spec: &ModelSpec<'_>,
    bits: LatentBits,
    out: &mut [u8],
) -> Result<usize, FormatError> {
    let mut resolved = [EMPTY; MAX_LAYERS];
    resolve(spec, &mut resolved)?;
    check_header(spec)?;
    let (tables_end, total) = layout(spec)?;
    if out.len() < total {
        return Err(FormatError::BufferTooSmall {
            needed: total,
            actual: out.len(),
        });
    }
    let file = &mut out[..total];
    file.fill(0);
    let n = spec.layers.len();
    let last = resolved[n - 1].out_shape;
    write_header(spec, file, total, count_tensors(spec), last)?;
    if spec.compute == Compute::Int8 && bits == LatentBits::Sixteen {
        // A 1.0 reader needs a positive scale at offset 40, so it rejects the file instead
        // of reading the 16-bit latent as an 8-bit one.
        file[18] = 16;
        put_u32(file, 40, 0);
        put_u32(file, 44, 0);
        put_u32(file, 48, spec.input_quant.scale.to_bits());
    }

    let mut tensor_index = 0usize;
    let mut data_at = tables_end;
    let tensor_table = HEADER_LEN + LAYER_RECORD_LEN * n;
    for (k, (layer, res)) in spec.layers.iter().zip(&resolved).enumerate() {
        let mut slots = [NO_TENSOR; TENSORS_PER_LAYER];
        for (s, (data, sig)) in layer.tensors.iter().zip(&res.signature).enumerate() {
            let (Some(data), Some(sig)) = (data, sig) else {
                continue;
            };
            data_at = align(data_at);
            let record = tensor_table + TENSOR_RECORD_LEN * tensor_index;
            let len = write_tensor_data(data, &mut file[data_at..]);
            write_tensor_record(
                &mut file[record..record + TENSOR_RECORD_LEN],
                data,
                sig,
                data_at,
                len,
            );
            slots[s] = tensor_index as u16;
            tensor_index += 1;
            data_at += len;
        }
        let record = HEADER_LEN + LAYER_RECORD_LEN * k;
        write_layer_record(
            &mut file[record..record + LAYER_RECORD_LEN],
            layer,
            res,
            &slots,
            k,
        )?;
    }

    let crc = crc32(&file[..total - 4]);
    file[total - 4..].copy_from_slice(&crc.to_le_bytes());
    crate::nn::Model::parse(file)?;
    Ok(total)
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_shape(b: &mut [u8], at: usize, s: Shape, k: usize) -> Result<(), FormatError> {
    for (i, d) in [s.channels, s.height, s.width].into_iter().enumerate() {
        let d = u32::try_from(d).map_err(|_| FormatError::SizeOverflow { layer: k })?;
        put_u32(b, at + 4 * i, d);
    }
    Ok(())
}

fn write_header(
    spec: &ModelSpec<'_>,
    b: &mut [u8],
    total: usize,
    tensors: usize,
    output: Shape,
) -> Result<(), FormatError> {
    let n = spec.layers.len();
    if tensors > super::MAX_TENSORS {
        return Err(FormatError::TensorCount { count: tensors });
    }
    b[..4].copy_from_slice(&MAGIC);
    put_u16(b, 4, VERSION_MAJOR);
    put_u16(b, 6, VERSION_MINOR);
    put_u32(b, 8, total as u32);
    b[12] = spec.compute.code();
    b[13] = spec.range.code();
    put_u16(b, 14, n as u16);
    put_u16(b, 16, tensors as u16);
    put_u32(b, 20, spec.latent as u32);
    put_u32(b, 24, spec.classes as u32);
    put_shape(b, 28, output, n)?;
    if spec.compute == Compute::Int8 {
        put_u32(b, 40, spec.input_quant.scale.to_bits());
        put_u32(b, 44, spec.input_quant.zero_point as u32);
    }
    Ok(())
}

/// Writes the little-endian elements and returns their byte length.
fn write_tensor_data(data: &TensorData<'_>, out: &mut [u8]) -> usize {
    match data {
        TensorData::F32(v) => {
            for (o, x) in out.chunks_exact_mut(4).zip(v.iter()) {
                o.copy_from_slice(&x.to_le_bytes());
            }
            4 * v.len()
        }
        TensorData::F16(v) => {
            for (o, x) in out.chunks_exact_mut(2).zip(v.iter()) {
                o.copy_from_slice(&f32_to_f16(*x).to_le_bytes());
            }
            2 * v.len()
        }
        TensorData::I8(v) => {
            for (o, x) in out.iter_mut().zip(v.iter()) {
                *o = *x as u8;
            }
            v.len()
        }
        TensorData::I32(v) => {
            for (o, x) in out.chunks_exact_mut(4).zip(v.iter()) {
                o.copy_from_slice(&x.to_le_bytes());
            }
            4 * v.len()
        }
    }
}

fn write_tensor_record(
    b: &mut [u8],
    data: &TensorData<'_>,
    sig: &Signature,
    at: usize,
    len: usize,
) {
    b[0] = data.dtype().code();
    b[1] = sig.rank as u8;
    for (i, &d) in sig.dims.iter().enumerate() {
        put_u32(b, 4 + 4 * i, d as u32);
    }
    put_u32(b, 20, at as u32);
    put_u32(b, 24, len as u32);
}

fn write_layer_record(
    b: &mut [u8],
    layer: &LayerSpec<'_>,
    res: &Resolved,
    slots: &[u16; TENSORS_PER_LAYER],
    k: usize,
) -> Result<(), FormatError> {
    b[0] = layer.op.kind() as u8;
    put_u16(b, 2, res.input as u16);
    put_shape(b, 8, res.in_shape, k)?;
    put_shape(b, 20, res.out_shape, k)?;
    let small = |v: usize, what| {
        u16::try_from(v).map_err(|_| FormatError::InvalidLayer {
            layer: k,
            reason: what,
        })
    };
    match layer.op {
        Op::Conv2d(p) | Op::ConvTranspose2d(p) => {
            let fields = [
                (p.kernel, "kernel"),
                (p.stride, "stride"),
                (p.padding, "padding"),
                (p.output_padding, "output_padding"),
            ];
            for (i, ((a, c), what)) in fields.into_iter().enumerate() {
                put_u16(b, 32 + 4 * i, small(a, what)?);
                put_u16(b, 34 + 4 * i, small(c, what)?);
            }
        }
        Op::Crop {
            top,
            bottom,
            left,
            right,
        } => {
            for (i, v) in [top, bottom, left, right].into_iter().enumerate() {
                let v = u32::try_from(v).map_err(|_| FormatError::SizeOverflow { layer: k })?;
                put_u32(b, 32 + 4 * i, v);
            }
        }
        Op::LeakyRelu { slope } => put_u32(b, 48, slope.to_bits()),
        Op::Add { other } => put_u16(b, 4, other as u16),
        _ => {}
    }
    put_u32(b, 52, layer.one_q as u32);
    for (i, &s) in slots.iter().enumerate() {
        put_u16(b, 56 + 2 * i, s);
    }
    put_u32(b, 64, layer.out_quant.scale.to_bits());
    put_u32(b, 68, layer.out_quant.zero_point as u32);
    Ok(())
}
