//! A readable summary of a weight file: header, scratch, and every layer with its shapes
//! and tensors (what `ambient-host inspect MODEL.amb` prints).

use std::fmt::Write as _;

use ambient_core::format::{Compute, DType, Op, ValueRange};
use ambient_core::nn::{Layer, Model};
use ambient_core::Shape;

use super::ExportError;

/// Returns the summary of the weight file `bytes`, or the core's error when it is not a
/// valid one.
pub fn summarize(bytes: &[u8]) -> Result<String, ExportError> {
    let model = Model::parse(bytes)?;
    let header = model.header();
    let mut s = String::new();
    let compute = match header.compute {
        Compute::Int8 => "int8 (int8 weights and activations, i32 accumulation)",
        _ => "float (f32 compute)",
    };
    let range = match header.range {
        ValueRange::ZeroOne => "[0, 1]",
        ValueRange::MinusOneOne => "[-1, 1]",
        _ => "unbounded",
    };
    let _ = writeln!(
        s,
        "weight file version {}.{}, {} bytes, CRC-32 valid",
        header.major,
        header.minor,
        model.file_len()
    );
    let _ = writeln!(s, "compute: {compute}");
    let _ = writeln!(
        s,
        "latent: {} values, classes: {}",
        header.latent, header.classes
    );
    let _ = writeln!(s, "output: {} in {range}", shape(header.output));
    if header.compute == Compute::Int8 {
        let q = header.input_quant;
        let _ = writeln!(
            s,
            "input quantisation: {} bits, scale {:.4e}, zero point {}",
            header.latent_bits, q.scale, q.zero_point
        );
    }
    for batch in [1, 64] {
        if let Ok(len) = model.scratch_len(batch) {
            let _ = writeln!(
                s,
                "scratch for batch {batch}: {len} bytes, aligned to {}",
                model.scratch_align()
            );
        }
    }
    let weights: usize = model
        .layers()
        .iter()
        .flat_map(|l| l.tensors.iter().flatten())
        .map(|t| t.bytes.len())
        .sum();
    let _ = writeln!(
        s,
        "tensor data: {weights} bytes in {} layers",
        model.layers().len()
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "layers (input: z, the latent vector, or #k, the output of layer k):"
    );
    let _ = writeln!(
        s,
        "{:>3}  {:<34} {:>5}  {:<16} {:<16} tensors",
        "#", "operation", "input", "in", "out"
    );
    for (k, layer) in model.layers().iter().enumerate() {
        let input = if layer.input == 0 {
            "z".to_string()
        } else {
            format!("#{}", layer.input - 1)
        };
        let _ = writeln!(
            s,
            "{k:>3}  {:<34} {input:>5}  {:<16} {:<16} {}",
            operation(&layer.op),
            shape(layer.in_shape),
            shape(layer.out_shape),
            tensors(layer)
        );
    }
    Ok(s)
}

fn shape(s: Shape) -> String {
    format!("[{}, {}, {}]", s.channels, s.height, s.width)
}

pub(crate) fn operation(op: &Op) -> String {
    match op {
        Op::Dense { out_features } => format!("dense {out_features}"),
        Op::Conv2d(p) | Op::ConvTranspose2d(p) => {
            let name = if matches!(op, Op::Conv2d(_)) {
                "conv2d"
            } else {
                "conv-transpose2d"
            };
            let mut text = format!(
                "{name} {}x{} s{}x{} p{}x{}",
                p.kernel.0, p.kernel.1, p.stride.0, p.stride.1, p.padding.0, p.padding.1
            );
            if p.output_padding != (0, 0) {
                let _ = write!(text, " op{}x{}", p.output_padding.0, p.output_padding.1);
            }
            text
        }
        Op::BatchNorm => "batch-norm".into(),
        Op::CondBatchNorm => "cond-batch-norm".into(),
        Op::Relu => "relu".into(),
        Op::LeakyRelu { slope } => format!("leaky-relu {slope}"),
        Op::Tanh => "tanh".into(),
        Op::Sigmoid => "sigmoid".into(),
        Op::Reshape { .. } => "reshape".into(),
        Op::Crop {
            top,
            bottom,
            left,
            right,
        } => {
            format!("crop t{top} b{bottom} l{left} r{right}")
        }
        Op::Upsample2x => "upsample2x".into(),
        Op::Add { other } => match other {
            0 => "add z".into(),
            v => format!("add #{}", v - 1),
        },
        Op::ConcatClass => "concat-class".into(),
        _ => "unknown".into(),
    }
}

fn dtype(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::F16 => "f16",
        DType::I8 => "i8",
        DType::I32 => "i32",
        _ => "?",
    }
}

fn tensors(layer: &Layer<'_>) -> String {
    let parts: Vec<String> = layer
        .tensors
        .iter()
        .flatten()
        .map(|t| {
            let dims: Vec<String> = t.dims[..t.rank].iter().map(|d| d.to_string()).collect();
            format!(
                "{} [{}] {} B",
                dtype(t.dtype),
                dims.join(", "),
                t.bytes.len()
            )
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}
