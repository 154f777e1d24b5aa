//! Zero-copy parsing and validation of a weight file.
//!
//! The checks run in the order the spec lists them: size, magic, version, declared length,
//! CRC-32, header fields, tensor records, then each layer against the chain of shapes.

use super::layer::{checked_elements, ShapeError, Signature};
use super::{
    crc32, read_f32, read_i32, read_u16, read_u32, Compute, ConvParams, DType, FormatError, Op,
    OpKind, QuantParams, Tensor, ValueRange, HEADER_LEN, LAYER_RECORD_LEN, MAGIC, MAX_LAYERS,
    MAX_TENSORS, NO_TENSOR, TENSORS_PER_LAYER, TENSOR_ALIGN, TENSOR_RECORD_LEN, VERSION_MAJOR,
};
use super::{infer_output_shape, tensor_signature};
use crate::Shape;

/// The fields of a weight file's header.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Header {
    /// Major format version.
    pub major: u16,
    /// Minor format version.
    pub minor: u16,
    /// Float or int8 compute.
    pub compute: Compute,
    /// Range of the output values.
    pub range: ValueRange,
    /// Latent size: values of `z` per image.
    pub latent: usize,
    /// Number of classes; 0 for an unconditional generator.
    pub classes: usize,
    /// Shape of one output image.
    pub output: Shape,
    /// Quantisation of the latent input (int8 models; [`QuantParams::NONE`] otherwise).
    pub input_quant: QuantParams,
    /// Bits of the quantised latent input: 8 or 16 for int8 models (16 has zero point 0
    /// and is read only by dense layers), 0 for float models.
    pub latent_bits: u8,
}

/// One validated layer of a parsed model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer<'a> {
    /// The operation and its parameters.
    pub op: Op,
    /// The value the layer reads (0 is the latent input, `k + 1` the output of layer `k`).
    pub input: usize,
    /// Shape of the input value.
    pub in_shape: Shape,
    /// Shape of the output.
    pub out_shape: Shape,
    /// Quantisation of the output (int8 models).
    pub out_quant: QuantParams,
    /// For an int8 class concatenation: the quantised value of a one-hot 1; else 0.
    pub one_q: i32,
    /// The tensors of the layer's slots (weight, bias, ...; see the format spec).
    pub tensors: [Option<Tensor<'a>>; TENSORS_PER_LAYER],
}

impl Layer<'_> {
    pub(crate) const EMPTY: Layer<'static> = Layer {
        op: Op::Relu,
        input: 0,
        in_shape: Shape::new(0, 0, 0),
        out_shape: Shape::new(0, 0, 0),
        out_quant: QuantParams::NONE,
        one_q: 0,
        tensors: [None; TENSORS_PER_LAYER],
    };
}

/// Parses and validates `bytes` as a weight file, writing its layers into `layers` in
/// place, and returns the header and the number of layers. Nothing of the size of the
/// layer or tensor table lives on the stack: each tensor record is validated in one pass
/// and read again where a layer refers to it. On error, `layers` contains whatever was parsed
/// before the error.
pub(crate) fn parse_into<'a>(
    bytes: &'a [u8],
    layers: &mut [Layer<'a>; MAX_LAYERS],
) -> Result<(Header, usize), FormatError> {
    let len = bytes.len();
    check_envelope(bytes)?;
    let header = parse_header(bytes)?;
    let layer_count = read_u16(bytes, 14) as usize;
    let tensor_count = read_u16(bytes, 16) as usize;

    let layer_table = HEADER_LEN;
    let tensor_table = LAYER_RECORD_LEN
        .checked_mul(layer_count)
        .and_then(|n| n.checked_add(layer_table))
        .ok_or(FormatError::SizeOverflow { layer: 0 })?;
    let tables_end = TENSOR_RECORD_LEN
        .checked_mul(tensor_count)
        .and_then(|n| n.checked_add(tensor_table))
        .ok_or(FormatError::SizeOverflow { layer: 0 })?;
    let data_end = len - 4;
    if tables_end > data_end {
        return Err(FormatError::Truncated {
            needed: tables_end + 4,
            actual: len,
        });
    }

    let mut prev_end = tables_end;
    for t in 0..tensor_count {
        let record = &bytes[tensor_table + t * TENSOR_RECORD_LEN..][..TENSOR_RECORD_LEN];
        let tensor = parse_tensor(bytes, record, t, prev_end, data_end)?;
        prev_end = tensor.bytes.as_ptr() as usize - bytes.as_ptr() as usize + tensor.bytes.len();
    }
    let tensors = TensorTable {
        bytes,
        start: tensor_table,
        count: tensor_count,
        tables_end,
        data_end,
    };

    for k in 0..layer_count {
        let record = &bytes[layer_table + k * LAYER_RECORD_LEN..][..LAYER_RECORD_LEN];
        let (before, rest) = layers.split_at_mut(k);
        rest[0] = parse_layer(record, k, &header, before, &tensors)?;
    }

    let last = layers[layer_count - 1].out_shape;
    if last != header.output {
        return Err(FormatError::ShapeMismatch {
            layer: layer_count,
            expected: last,
            found: header.output,
        });
    }
    Ok((header, layer_count))
}

/// The tensor records of a file whose records have all been validated.
struct TensorTable<'a> {
    bytes: &'a [u8],
    start: usize,
    count: usize,
    tables_end: usize,
    data_end: usize,
}

impl<'a> TensorTable<'a> {
    /// Returns tensor `t`, or `None` when the file has no such tensor.
    fn get(&self, t: usize) -> Option<Tensor<'a>> {
        if t >= self.count {
            return None;
        }
        let record = &self.bytes[self.start + t * TENSOR_RECORD_LEN..][..TENSOR_RECORD_LEN];
        // The order and overlap of the data were checked in the validating pass.
        parse_tensor(self.bytes, record, t, self.tables_end, self.data_end).ok()
    }
}

/// Checks the size, magic, version, declared length and CRC-32.
fn check_envelope(bytes: &[u8]) -> Result<(), FormatError> {
    let len = bytes.len();
    if len < 8 {
        return Err(FormatError::Truncated {
            needed: HEADER_LEN + 4,
            actual: len,
        });
    }
    if bytes[..4] != MAGIC {
        return Err(FormatError::BadMagic);
    }
    let major = read_u16(bytes, 4);
    let minor = read_u16(bytes, 6);
    if major != VERSION_MAJOR {
        return Err(FormatError::UnsupportedVersion { major, minor });
    }
    if len < HEADER_LEN + 4 {
        return Err(FormatError::Truncated {
            needed: HEADER_LEN + 4,
            actual: len,
        });
    }
    let declared = read_u32(bytes, 8) as usize;
    if declared != len {
        return Err(FormatError::LengthMismatch {
            declared,
            actual: len,
        });
    }
    let stored = read_u32(bytes, len - 4);
    let computed = crc32(&bytes[..len - 4]);
    if stored != computed {
        return Err(FormatError::CrcMismatch { stored, computed });
    }
    Ok(())
}

fn parse_header(bytes: &[u8]) -> Result<Header, FormatError> {
    let compute =
        Compute::from_code(bytes[12]).ok_or(FormatError::InvalidHeader { field: "compute" })?;
    let range =
        ValueRange::from_code(bytes[13]).ok_or(FormatError::InvalidHeader { field: "range" })?;
    let layer_count = read_u16(bytes, 14) as usize;
    if layer_count == 0 || layer_count > MAX_LAYERS {
        return Err(FormatError::LayerCount { count: layer_count });
    }
    let tensor_count = read_u16(bytes, 16) as usize;
    if tensor_count > MAX_TENSORS {
        return Err(FormatError::TensorCount {
            count: tensor_count,
        });
    }
    let latent = read_u32(bytes, 20) as usize;
    let classes = read_u32(bytes, 24) as usize;
    let output = read_shape(bytes, 28);
    if latent == 0 || latent > super::layer::MAX_ELEMENTS {
        return Err(FormatError::InvalidHeader { field: "latent" });
    }
    if classes > u16::MAX as usize {
        return Err(FormatError::InvalidHeader { field: "classes" });
    }
    let latent_bits = match (compute, bytes[18]) {
        (Compute::Float, _) => 0,
        (Compute::Int8, 0 | 8) => 8,
        (Compute::Int8, 16) => 16,
        _ => {
            return Err(FormatError::InvalidHeader {
                field: "latent bits",
            })
        }
    };
    let input_quant = match compute {
        Compute::Int8 => {
            let q = match latent_bits {
                16 => QuantParams {
                    scale: read_f32(bytes, 48),
                    zero_point: 0,
                },
                _ => read_quant(bytes, 40),
            };
            if !q.is_valid() {
                return Err(FormatError::InvalidQuantisation {
                    layer: layer_count,
                    reason: "input scale or zero point",
                });
            }
            q
        }
        Compute::Float => QuantParams::NONE,
    };
    Ok(Header {
        major: read_u16(bytes, 4),
        minor: read_u16(bytes, 6),
        compute,
        range,
        latent,
        classes,
        output,
        input_quant,
        latent_bits,
    })
}

fn read_shape(bytes: &[u8], at: usize) -> Shape {
    Shape::new(
        read_u32(bytes, at) as usize,
        read_u32(bytes, at + 4) as usize,
        read_u32(bytes, at + 8) as usize,
    )
}

fn read_quant(bytes: &[u8], at: usize) -> QuantParams {
    QuantParams {
        scale: read_f32(bytes, at),
        zero_point: read_i32(bytes, at + 4),
    }
}

fn parse_tensor<'a>(
    bytes: &'a [u8],
    record: &[u8],
    t: usize,
    prev_end: usize,
    data_end: usize,
) -> Result<Tensor<'a>, FormatError> {
    let invalid = |reason| FormatError::InvalidTensor { tensor: t, reason };
    let dtype = DType::from_code(record[0]).ok_or(invalid("unknown dtype"))?;
    let rank = record[1] as usize;
    if !(1..=4).contains(&rank) {
        return Err(invalid("rank not in 1 to 4"));
    }
    let mut dims = [1usize; 4];
    let mut count = 1usize;
    for (i, d) in dims.iter_mut().enumerate() {
        *d = read_u32(record, 4 + 4 * i) as usize;
        if i >= rank && *d != 1 {
            return Err(invalid("dimension beyond the rank is not 1"));
        }
        if *d == 0 {
            return Err(invalid("zero dimension"));
        }
        count = count
            .checked_mul(*d)
            .filter(|&n| n <= super::layer::MAX_ELEMENTS)
            .ok_or(invalid("element count overflows"))?;
    }
    let offset = read_u32(record, 20) as usize;
    let byte_len = read_u32(record, 24) as usize;
    if count.checked_mul(dtype.size()) != Some(byte_len) {
        return Err(invalid("byte length is not elements times dtype size"));
    }
    if offset % TENSOR_ALIGN != 0 {
        return Err(invalid("data offset not 16-byte aligned"));
    }
    if offset < prev_end {
        return Err(invalid("data overlaps the tables or the previous tensor"));
    }
    let end = offset
        .checked_add(byte_len)
        .ok_or(invalid("data end overflows"))?;
    if end > data_end {
        return Err(invalid("data runs past the end of the file"));
    }
    Ok(Tensor {
        dtype,
        rank,
        dims,
        bytes: &bytes[offset..end],
    })
}

fn parse_op(record: &[u8], layer: usize, out: Shape) -> Result<Op, FormatError> {
    let code = record[0];
    let kind = OpKind::from_code(code).ok_or(FormatError::UnknownOp { layer, code })?;
    let pair = |at: usize| {
        (
            read_u16(record, at) as usize,
            read_u16(record, at + 2) as usize,
        )
    };
    let conv = || ConvParams {
        out_channels: out.channels,
        kernel: pair(32),
        stride: pair(36),
        padding: pair(40),
        output_padding: pair(44),
    };
    Ok(match kind {
        OpKind::Dense => Op::Dense {
            out_features: out.channels,
        },
        OpKind::Conv2d => Op::Conv2d(conv()),
        OpKind::ConvTranspose2d => Op::ConvTranspose2d(conv()),
        OpKind::BatchNorm => Op::BatchNorm,
        OpKind::CondBatchNorm => Op::CondBatchNorm,
        OpKind::Relu => Op::Relu,
        OpKind::LeakyRelu => Op::LeakyRelu {
            slope: read_f32(record, 48),
        },
        OpKind::Tanh => Op::Tanh,
        OpKind::Sigmoid => Op::Sigmoid,
        OpKind::Reshape => Op::Reshape { shape: out },
        OpKind::Crop => Op::Crop {
            top: read_u32(record, 32) as usize,
            bottom: read_u32(record, 36) as usize,
            left: read_u32(record, 40) as usize,
            right: read_u32(record, 44) as usize,
        },
        OpKind::Upsample2x => Op::Upsample2x,
        OpKind::Add => Op::Add {
            other: read_u16(record, 4) as usize,
        },
        OpKind::ConcatClass => Op::ConcatClass,
    })
}

/// Returns the shape and quantisation of value `v` given the layers before it.
fn value_of(v: usize, header: &Header, before: &[Layer<'_>]) -> (Shape, QuantParams) {
    match v {
        0 => (Shape::new(header.latent, 1, 1), header.input_quant),
        _ => (before[v - 1].out_shape, before[v - 1].out_quant),
    }
}

fn parse_layer<'a>(
    record: &[u8],
    k: usize,
    header: &Header,
    before: &[Layer<'a>],
    tensors: &TensorTable<'a>,
) -> Result<Layer<'a>, FormatError> {
    let input = read_u16(record, 2) as usize;
    if input > k {
        return Err(FormatError::InvalidSource {
            layer: k,
            value: input,
        });
    }
    let (expected_in, in_quant) = value_of(input, header, before);
    let in_shape = read_shape(record, 8);
    if in_shape != expected_in {
        return Err(FormatError::ShapeMismatch {
            layer: k,
            expected: expected_in,
            found: in_shape,
        });
    }
    let stored_out = read_shape(record, 20);
    let op = parse_op(record, k, stored_out)?;
    let out_shape = infer_output_shape(&op, in_shape, header.classes).map_err(|e| match e {
        ShapeError::Overflow => FormatError::SizeOverflow { layer: k },
        ShapeError::Invalid(reason) => FormatError::InvalidLayer { layer: k, reason },
    })?;
    if out_shape != stored_out {
        return Err(FormatError::ShapeMismatch {
            layer: k,
            expected: out_shape,
            found: stored_out,
        });
    }
    if let Op::Add { other } = op {
        check_add_operand(other, k, in_shape, header, before)?;
    }
    check_wide_latent_reader(&op, input, k, in_shape, header)?;

    let signature = tensor_signature(&op, in_shape, out_shape, header.classes, header.compute);
    let mut slots = [None; TENSORS_PER_LAYER];
    for (s, (slot, sig)) in slots.iter_mut().zip(signature).enumerate() {
        let index = read_u16(record, 56 + 2 * s);
        *slot = resolve_tensor(index, sig, k, tensors)?;
    }

    let mut layer = Layer {
        op,
        input,
        in_shape,
        out_shape,
        out_quant: QuantParams::NONE,
        one_q: 0,
        tensors: slots,
    };
    if header.compute == Compute::Int8 {
        layer.out_quant = read_quant(record, 64);
        layer.one_q = read_i32(record, 52);
        check_int8_layer(&layer, k, in_quant)?;
    }
    Ok(layer)
}

/// Checks that a layer reading a 16-bit latent is a dense layer short enough for its i32
/// accumulator.
fn check_wide_latent_reader(
    op: &Op,
    input: usize,
    k: usize,
    in_shape: Shape,
    header: &Header,
) -> Result<(), FormatError> {
    if header.latent_bits != 16 {
        return Ok(());
    }
    let invalid = |reason| FormatError::InvalidQuantisation { layer: k, reason };
    let reads_latent = input == 0 || matches!(op, Op::Add { other: 0 });
    if !reads_latent {
        return Ok(());
    }
    if !matches!(op, Op::Dense { .. }) || input != 0 {
        return Err(invalid("a 16-bit latent can only be read by dense layers"));
    }
    if elements(in_shape) > crate::nn::int8::MAX_WIDE_DEPTH {
        return Err(invalid(
            "a dense layer over a 16-bit latent of more than 512 values can overflow i32",
        ));
    }
    Ok(())
}

fn check_add_operand(
    other: usize,
    k: usize,
    in_shape: Shape,
    header: &Header,
    before: &[Layer<'_>],
) -> Result<(), FormatError> {
    if other > k {
        return Err(FormatError::InvalidSource {
            layer: k,
            value: other,
        });
    }
    let (other_shape, _) = value_of(other, header, before);
    if other_shape != in_shape {
        return Err(FormatError::ShapeMismatch {
            layer: k,
            expected: in_shape,
            found: other_shape,
        });
    }
    Ok(())
}

/// Looks up a layer's tensor slot and checks it against the slot's signature.
fn resolve_tensor<'a>(
    index: u16,
    sig: Option<Signature>,
    layer: usize,
    tensors: &TensorTable<'a>,
) -> Result<Option<Tensor<'a>>, FormatError> {
    let Some(sig) = sig else {
        if index == NO_TENSOR {
            return Ok(None);
        }
        return Err(FormatError::TensorMismatch {
            layer,
            role: "surplus",
        });
    };
    let mismatch = FormatError::TensorMismatch {
        layer,
        role: sig.role.name(),
    };
    let tensor = tensors.get(index as usize).ok_or(mismatch)?;
    if !sig.dtypes.contains(&tensor.dtype) || !sig.accepts_shape(tensor.rank, tensor.dims) {
        return Err(mismatch);
    }
    Ok(Some(tensor))
}

/// Checks an int8 layer's output quantisation and requantisation tensors.
fn check_int8_layer(layer: &Layer<'_>, k: usize, in_quant: QuantParams) -> Result<(), FormatError> {
    let invalid = |reason| FormatError::InvalidQuantisation { layer: k, reason };
    if !layer.out_quant.is_valid() {
        return Err(invalid("output scale or zero point"));
    }
    let keeps_values = matches!(
        layer.op,
        Op::Reshape { .. } | Op::Crop { .. } | Op::Upsample2x
    );
    if keeps_values && layer.out_quant != in_quant {
        return Err(invalid(
            "a reshape, crop or upsampling must keep its input's quantisation",
        ));
    }
    let depth = match layer.op {
        Op::Dense { .. } => elements(layer.in_shape),
        Op::Conv2d(p) | Op::ConvTranspose2d(p) => layer.in_shape.channels * p.kernel.0 * p.kernel.1,
        _ => 0,
    };
    if depth > crate::nn::int8::MAX_DEPTH {
        return Err(invalid(
            "int8 dot product longer than 65793 terms can overflow i32",
        ));
    }
    if layer.op == Op::ConcatClass && !(-128..=127).contains(&layer.one_q) {
        return Err(invalid("quantised one-hot value outside [-128, 127]"));
    }
    let requant = match layer.op {
        Op::Add { .. } => layer.tensors[0],
        Op::Dense { .. }
        | Op::Conv2d(_)
        | Op::ConvTranspose2d(_)
        | Op::BatchNorm
        | Op::CondBatchNorm => layer.tensors[3],
        _ => None,
    };
    if let Some(t) = requant {
        for pair in 0..t.len() / 2 {
            if !crate::nn::quant::is_valid_multiplier(t.i32_at(2 * pair), t.i32_at(2 * pair + 1)) {
                return Err(invalid("requantisation multiplier or shift out of range"));
            }
        }
    }
    Ok(())
}

/// Returns the number of elements of `s` for code that has already validated it.
pub(crate) fn elements(s: Shape) -> usize {
    checked_elements(s).unwrap_or(0)
}
