//! The host's generators as graphs of inference layers, read from their variables by name.
//!
//! Each function mirrors one generator's `forward` in eval mode, layer by layer; the
//! export check (the core's output against the tch module's) confirms the two agree.

use std::collections::HashMap;

use ambient_core::format::ValueRange;
use ambient_core::Shape;
use tch::{Device, Tensor};

use super::graph::{BatchNormStats, CondBatchNormStats, Graph, Node};
use super::ExportError;
use crate::model::GeneratorArch;

/// The generator's variables by path (`gen.fc.weight`, `gen.bn0.running_mean`...).
pub type Variables = HashMap<String, Tensor>;

/// Builds the graph of generator `arch` from its variables `vars` (named under `gen.`).
pub fn graph_of(arch: GeneratorArch, vars: &Variables) -> Result<Graph, ExportError> {
    match arch {
        GeneratorArch::Wgan28 => wgan28(vars),
        GeneratorArch::CondDcgan28 => cond_dcgan28(vars),
        GeneratorArch::Dcgan64 | GeneratorArch::Dcgan64Small => dcgan64(vars),
        GeneratorArch::Acwgan32 => acwgan32(vars),
        _ => dcgan28(vars),
    }
}

/// Returns variable `name` on the CPU, detached from the graph.
fn var(vars: &Variables, name: &str) -> Result<Tensor, ExportError> {
    let t = vars.get(name).ok_or_else(|| ExportError::MissingVariable {
        name: name.to_string(),
    })?;
    Ok(t.f_detach()?.f_to_device(Device::Cpu)?)
}

/// Returns extent `dim` of variable `name`.
fn extent(vars: &Variables, name: &str, dim: usize) -> Result<usize, ExportError> {
    let size = var(vars, name)?.size();
    size.get(dim)
        .and_then(|&d| usize::try_from(d).ok())
        .ok_or_else(|| ExportError::layer(0, format!("variable {name} has shape {size:?}")))
}

fn dense(vars: &Variables, path: &str) -> Result<Node, ExportError> {
    Ok(Node::Dense {
        weight: var(vars, &format!("{path}.weight"))?,
        bias: Some(var(vars, &format!("{path}.bias"))?),
    })
}

fn conv_transpose(vars: &Variables, path: &str, padding: usize) -> Result<Node, ExportError> {
    conv_transpose_out(vars, path, padding, 0)
}

/// Reads a stride-2 transposed convolution with `output_padding` extra rows and columns.
fn conv_transpose_out(
    vars: &Variables,
    path: &str,
    padding: usize,
    output_padding: usize,
) -> Result<Node, ExportError> {
    Ok(Node::ConvTranspose2d {
        weight: var(vars, &format!("{path}.weight"))?,
        bias: Some(var(vars, &format!("{path}.bias"))?),
        stride: (2, 2),
        padding: (padding, padding),
        output_padding: (output_padding, output_padding),
    })
}

/// Reads a `tch::nn::batch_norm2d` with the default configuration, as the generators build
/// it.
fn batch_norm(vars: &Variables, path: &str) -> Result<Node, ExportError> {
    Ok(Node::BatchNorm(BatchNormStats {
        gamma: var(vars, &format!("{path}.weight"))?,
        beta: var(vars, &format!("{path}.bias"))?,
        mean: var(vars, &format!("{path}.running_mean"))?,
        var: var(vars, &format!("{path}.running_var"))?,
        eps: tch::nn::BatchNormConfig::default().eps,
    }))
}

/// Returns the shape that splits a dense layer's `features` outputs into `channels` square
/// planes.
fn square_planes(features: usize, channels: usize) -> Result<Shape, ExportError> {
    let plane = features.checked_div(channels).unwrap_or(0);
    let side = (plane as f64).sqrt().round() as usize;
    if side == 0 || side * side * channels != features {
        let reason = format!("{features} dense outputs are not {channels} square planes");
        return Err(ExportError::layer(0, reason));
    }
    Ok(Shape::new(channels, side, side))
}

/// A crop of the last row and column. The paper preset uses it to turn a padding-1
/// transposed convolution (`2n + 1` outputs) into TensorFlow's `SAME` one (`2n`), and to
/// cut 8 rows and columns to 7.
const CROP_LAST: Node = Node::Crop {
    top: 0,
    bottom: 1,
    left: 0,
    right: 1,
};

/// Builds the CPU preset's graph ([`crate::model::dcgan28`], at either width): dense →
/// reshape → batch norm → ReLU → transposed conv → batch norm → ReLU → transposed conv →
/// sigmoid.
fn dcgan28(vars: &Variables) -> Result<Graph, ExportError> {
    let latent = extent(vars, "gen.fc.weight", 1)?;
    let features = extent(vars, "gen.fc.weight", 0)?;
    let channels = extent(vars, "gen.bn0.weight", 0)?;
    let mut g = Graph::new(latent, 0, ValueRange::ZeroOne);
    g.push(dense(vars, "gen.fc")?);
    g.push(Node::Reshape(square_planes(features, channels)?));
    g.push(batch_norm(vars, "gen.bn0")?);
    g.push(Node::Relu);
    g.push(conv_transpose(vars, "gen.up1", 1)?);
    g.push(batch_norm(vars, "gen.bn1")?);
    g.push(Node::Relu);
    g.push(conv_transpose(vars, "gen.up2", 1)?);
    g.push(Node::Sigmoid);
    Ok(g)
}

/// Builds the paper preset's graph ([`crate::model::wgan28`]): dense → ReLU → reshape → three
/// transposed convolutions, each cropped by its last row and column, with ReLU between
/// and a crop from 8 to 7 after the first → sigmoid.
fn wgan28(vars: &Variables) -> Result<Graph, ExportError> {
    let latent = extent(vars, "gen.fc.weight", 1)?;
    let features = extent(vars, "gen.fc.weight", 0)?;
    let channels = extent(vars, "gen.up1.weight", 0)?;
    let mut g = Graph::new(latent, 0, ValueRange::ZeroOne);
    g.push(dense(vars, "gen.fc")?);
    g.push(Node::Relu);
    g.push(Node::Reshape(square_planes(features, channels)?));
    g.push(conv_transpose(vars, "gen.up1", 1)?);
    g.push(CROP_LAST);
    g.push(Node::Relu);
    g.push(CROP_LAST);
    g.push(conv_transpose(vars, "gen.up2", 1)?);
    g.push(CROP_LAST);
    g.push(Node::Relu);
    g.push(conv_transpose(vars, "gen.up3", 1)?);
    g.push(CROP_LAST);
    g.push(Node::Sigmoid);
    Ok(g)
}

/// Builds the conditional DCGAN's graph ([`crate::model::cond_dcgan28`]). The core's class
/// concatenation joins the one-hot class to z, to both dense layers' outputs and to the
/// first transposed convolution's output. Each batch norm folds into the layer before it.
fn cond_dcgan28(vars: &Variables) -> Result<Graph, ExportError> {
    let classes = usize::try_from(crate::model::cond_dcgan28::CLASSES).unwrap_or(0);
    let inputs = extent(vars, "gen.fc1.weight", 1)?;
    let latent = inputs.checked_sub(classes).ok_or_else(|| {
        ExportError::layer(
            0,
            format!("gen.fc1 takes {inputs} inputs, fewer than the classes"),
        )
    })?;
    let features = extent(vars, "gen.fc2.weight", 0)?;
    let channels = extent(vars, "gen.bn3.weight", 0)?;
    let mut g = Graph::new(latent, classes, ValueRange::ZeroOne);
    g.push(Node::ConcatClass);
    g.push(dense(vars, "gen.fc1")?);
    g.push(batch_norm(vars, "gen.bn1")?);
    g.push(Node::Relu);
    g.push(Node::ConcatClass);
    g.push(dense(vars, "gen.fc2")?);
    g.push(batch_norm(vars, "gen.bn2")?);
    g.push(Node::Relu);
    g.push(Node::Reshape(square_planes(features, channels)?));
    g.push(Node::ConcatClass);
    g.push(conv_transpose_out(vars, "gen.up1", 2, 1)?);
    g.push(batch_norm(vars, "gen.bn3")?);
    g.push(Node::Relu);
    g.push(Node::ConcatClass);
    g.push(conv_transpose_out(vars, "gen.up2", 2, 1)?);
    g.push(Node::Sigmoid);
    Ok(g)
}

/// Builds the 64×64 DCGAN's graph ([`crate::model::dcgan64`]): dense → reshape → batch
/// norm → ReLU → three transposed convolutions with batch norm and ReLU → transposed
/// convolution → tanh.
fn dcgan64(vars: &Variables) -> Result<Graph, ExportError> {
    let latent = extent(vars, "gen.fc.weight", 1)?;
    let features = extent(vars, "gen.fc.weight", 0)?;
    let channels = extent(vars, "gen.bn0.weight", 0)?;
    let mut g = Graph::new(latent, 0, ValueRange::MinusOneOne);
    g.push(dense(vars, "gen.fc")?);
    g.push(Node::Reshape(square_planes(features, channels)?));
    g.push(batch_norm(vars, "gen.bn0")?);
    g.push(Node::Relu);
    for i in 1..4 {
        g.push(conv_transpose_out(vars, &format!("gen.up{i}"), 2, 1)?);
        g.push(batch_norm(vars, &format!("gen.bn{i}"))?);
        g.push(Node::Relu);
    }
    g.push(conv_transpose_out(vars, "gen.up4", 2, 1)?);
    g.push(Node::Tanh);
    Ok(g)
}

/// Reads a stride-1 convolution whose zero padding keeps the size (`kernel / 2`).
fn conv_same(vars: &Variables, path: &str) -> Result<Node, ExportError> {
    let kernel = extent(vars, &format!("{path}.weight"), 2)?;
    Ok(Node::Conv2d {
        weight: var(vars, &format!("{path}.weight"))?,
        bias: Some(var(vars, &format!("{path}.bias"))?),
        stride: (1, 1),
        padding: (kernel / 2, kernel / 2),
    })
}

/// Reads a conditional batch norm of [`crate::model::acwgan32`]: γ and β per class, shared
/// running statistics.
fn cond_batch_norm(vars: &Variables, path: &str) -> Result<Node, ExportError> {
    Ok(Node::CondBatchNorm(CondBatchNormStats {
        gamma: var(vars, &format!("{path}.gamma"))?,
        beta: var(vars, &format!("{path}.beta"))?,
        mean: var(vars, &format!("{path}.running_mean"))?,
        var: var(vars, &format!("{path}.running_var"))?,
        eps: tch::nn::BatchNormConfig::default().eps,
    }))
}

/// Builds the ACWGAN-GP generator's graph ([`crate::model::acwgan32`]): dense → reshape →
/// three up-blocks, each a residual branch and an upsampling shortcut joined by an add →
/// batch norm → ReLU → conv → tanh.
fn acwgan32(vars: &Variables) -> Result<Graph, ExportError> {
    let latent = extent(vars, "gen.fc.weight", 1)?;
    let features = extent(vars, "gen.fc.weight", 0)?;
    let channels = extent(vars, "gen.block1.conv1.weight", 1)?;
    let classes = extent(vars, "gen.block1.bn1.gamma", 0)?;
    let mut g = Graph::new(latent, classes, ValueRange::MinusOneOne);
    g.push(dense(vars, "gen.fc")?);
    let mut x = g.push(Node::Reshape(square_planes(features, channels)?));
    for i in 1..=3 {
        let block = format!("gen.block{i}");
        g.push_reading(x, cond_batch_norm(vars, &format!("{block}.bn1"))?);
        g.push(Node::Relu);
        g.push(Node::Upsample2x);
        g.push(conv_same(vars, &format!("{block}.conv1"))?);
        g.push(cond_batch_norm(vars, &format!("{block}.bn2"))?);
        g.push(Node::Relu);
        let residual = g.push(conv_same(vars, &format!("{block}.conv2"))?);
        g.push_reading(x, Node::Upsample2x);
        g.push(conv_same(vars, &format!("{block}.shortcut"))?);
        x = g.push(Node::Add { other: residual });
    }
    g.push(batch_norm(vars, "gen.bn")?);
    g.push(Node::Relu);
    g.push(conv_same(vars, "gen.out")?);
    g.push(Node::Tanh);
    Ok(g)
}
