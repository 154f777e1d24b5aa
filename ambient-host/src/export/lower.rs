//! Lowering a [`Graph`] to the core's layer list, folding batch normalisation.
//!
//! A batch norm at inference is a per-channel affine map `y = scale · x + shift`
//! (`scale = γ / sqrt(var + ε)`, `shift = β − mean · scale`, computed by the core's
//! [`batch_norm_affine`]). When it directly follows a dense, convolution or transposed
//! convolution whose output nothing else reads, the map is folded into that layer's weight
//! and bias (the core's [`fold_affine_into`]) and the batch norm disappears. The CPU
//! preset's `dense → reshape → batch norm` is folded the same way, channel `c` of the
//! reshaped value being dense features `c·H·W` to `(c + 1)·H·W − 1`. Any other batch norm
//! (after an activation, on the latent input, on a value a residual branch also reads)
//! stays a core batch-norm layer in its affine form. Conditional batch norm depends on the
//! label and always stays a layer.

use ambient_core::format::{ConvParams, Op, ValueRange, TENSORS_PER_LAYER};
use ambient_core::nn::{batch_norm_affine, fold_affine_into};
use tch::{Device, Kind, Tensor};

use super::graph::{BatchNormStats, CondBatchNormStats, Graph, Node};
use super::ExportError;

/// Whether lowering folds batch norms into the layers before them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchNormFolding {
    /// Fold wherever the graph allows it (what the exporter does).
    Fold,
    /// Keep every batch norm as a core layer (for tests of the unfolded path).
    Keep,
}

/// One core layer with owned f32 tensors, in the slot order the weight format lists.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatLayer {
    /// The operation.
    pub op: Op,
    /// The value the layer reads, in the core's numbering.
    pub input: usize,
    /// The tensors of the four slots.
    pub tensors: [Option<Vec<f32>>; TENSORS_PER_LAYER],
}

/// A float model in the core's terms, ready to be written as f32, f16 or quantised.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatModel {
    /// Values of `z` per image.
    pub latent: usize,
    /// Number of classes; 0 for an unconditional generator.
    pub classes: usize,
    /// Range of the output values.
    pub range: ValueRange,
    /// The layers in execution order.
    pub layers: Vec<FloatLayer>,
}

/// Returns the tensor's values as a flat f32 vector.
pub(crate) fn values(t: &Tensor) -> Result<Vec<f32>, ExportError> {
    let flat = t
        .f_detach()?
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?
        .f_flatten(0, -1)?;
    Ok(Vec::<f32>::try_from(&flat)?)
}

/// Lowers `graph` to the core's layers.
pub fn lower(graph: &Graph, folding: BatchNormFolding) -> Result<FloatModel, ExportError> {
    let uses = graph.uses();
    // `map[v]` is the core value that is the graph's value `v`.
    let mut map = vec![0usize];
    let mut layers: Vec<FloatLayer> = Vec::with_capacity(graph.layers.len());
    for (k, layer) in graph.layers.iter().enumerate() {
        let input = graph.input_of(k);
        let core_input = *map
            .get(input)
            .ok_or_else(|| ExportError::layer(k, "it reads a value not computed before it"))?;

        if let (Node::BatchNorm(bn), BatchNormFolding::Fold) = (&layer.node, folding) {
            if let Some(target) = fold_target(graph, k, &uses) {
                let core_layer = map[target.value] - 1;
                fold(&mut layers[core_layer], bn, target.plane, k)?;
                map.push(core_input);
                continue;
            }
        }

        let mut lowered = lower_node(&layer.node, k)?;
        lowered.input = core_input;
        if let Op::Add { other } = &mut lowered.op {
            *other = *map
                .get(*other)
                .ok_or_else(|| ExportError::layer(k, "the add reads a value not computed"))?;
        }
        layers.push(lowered);
        map.push(layers.len());
    }
    Ok(FloatModel {
        latent: graph.latent,
        classes: graph.classes,
        range: graph.range,
        layers,
    })
}

/// The layer a batch norm folds into: the graph value of the heavy layer's output, and how many
/// consecutive output features each batch-norm channel covers (1 unless a reshape sits
/// between a dense layer and the batch norm).
struct FoldTarget {
    value: usize,
    plane: usize,
}

/// Returns where the batch norm at layer `k` folds, or `None` when it cannot.
fn fold_target(graph: &Graph, k: usize, uses: &[usize]) -> Option<FoldTarget> {
    // The batch norm must read the previous layer's output, and be its only reader.
    let input = graph.input_of(k);
    if input != k || k == 0 || uses[input] != 1 {
        return None;
    }
    match &graph.layers[k - 1].node {
        Node::Dense { .. } | Node::Conv2d { .. } | Node::ConvTranspose2d { .. } => {
            Some(FoldTarget {
                value: input,
                plane: 1,
            })
        }
        Node::Reshape(shape) if k >= 2 => {
            let before = graph.input_of(k - 1);
            let dense = matches!(graph.layers[k - 2].node, Node::Dense { .. });
            (dense && before == k - 1 && uses[before] == 1).then(|| FoldTarget {
                value: before,
                plane: shape.height * shape.width,
            })
        }
        _ => None,
    }
}

/// Folds `bn` into the heavy core layer `target`; each batch-norm channel covers `plane`
/// consecutive output channels of the layer.
fn fold(
    target: &mut FloatLayer,
    bn: &BatchNormStats,
    plane: usize,
    k: usize,
) -> Result<(), ExportError> {
    let (scale, shift) = affine(bn, k)?;
    let scale: Vec<f32> = scale
        .iter()
        .flat_map(|&s| std::iter::repeat_n(s, plane))
        .collect();
    let shift: Vec<f32> = shift
        .iter()
        .flat_map(|&s| std::iter::repeat_n(s, plane))
        .collect();
    let channels = scale.len();
    let (outer, kernel) = match target.op {
        Op::ConvTranspose2d(p) => (None, p.kernel.0 * p.kernel.1),
        _ => (Some(1), 0),
    };
    let [Some(weight), Some(bias), ..] = &mut target.tensors else {
        return Err(ExportError::layer(
            k,
            "the layer before the batch norm has no weight",
        ));
    };
    let layer_channels = bias.len();
    let mismatch = || {
        let reason =
            format!("batch norm over {channels} values follows a layer of {layer_channels}");
        ExportError::layer(k, reason)
    };
    if layer_channels != channels || channels == 0 {
        return Err(mismatch());
    }
    // Transposed convolution weights are [in, out, kh, kw]: `outer` is `in`.
    let (outer, inner) = match outer {
        Some(o) => (o, weight.len() / channels),
        None => (weight.len() / (channels * kernel.max(1)), kernel),
    };
    if !fold_affine_into(weight, bias, outer, inner, &scale, &shift) {
        return Err(mismatch());
    }
    Ok(())
}

/// Returns a batch norm's per-channel affine form.
fn affine(bn: &BatchNormStats, k: usize) -> Result<(Vec<f32>, Vec<f32>), ExportError> {
    let (gamma, beta) = (values(&bn.gamma)?, values(&bn.beta)?);
    let (mean, var) = (values(&bn.mean)?, values(&bn.var)?);
    let mut scale = vec![0.0; gamma.len()];
    let mut shift = vec![0.0; gamma.len()];
    if !batch_norm_affine(
        &gamma,
        &beta,
        &mean,
        &var,
        bn.eps as f32,
        &mut scale,
        &mut shift,
    ) {
        return Err(ExportError::layer(
            k,
            "batch norm γ, β, mean and variance differ in length",
        ));
    }
    Ok((scale, shift))
}

/// Returns a conditional batch norm's affine form, `[classes, channels]` each.
fn cond_affine(bn: &CondBatchNormStats, k: usize) -> Result<(Vec<f32>, Vec<f32>), ExportError> {
    let (gamma, beta) = (values(&bn.gamma)?, values(&bn.beta)?);
    let (mean, var) = (values(&bn.mean)?, values(&bn.var)?);
    let channels = mean.len();
    let invalid = || ExportError::layer(k, "conditional batch norm tensors differ in shape");
    if channels == 0 || gamma.len() % channels != 0 || gamma.len() != beta.len() {
        return Err(invalid());
    }
    let mut scale = vec![0.0; gamma.len()];
    let mut shift = vec![0.0; gamma.len()];
    let rows = gamma.chunks(channels).zip(beta.chunks(channels));
    let out = scale.chunks_mut(channels).zip(shift.chunks_mut(channels));
    for ((g, b), (s, t)) in rows.zip(out) {
        if !batch_norm_affine(g, b, &mean, &var, bn.eps as f32, s, t) {
            return Err(invalid());
        }
    }
    Ok((scale, shift))
}

/// Lowers one node on its own (its input is set by the caller).
fn lower_node(node: &Node, k: usize) -> Result<FloatLayer, ExportError> {
    let (op, tensors) = match node {
        Node::Dense { weight, bias } => {
            let [out, _] = dims::<2>(weight, k)?;
            let op = Op::Dense { out_features: out };
            (op, heavy_tensors(weight, bias.as_ref(), out)?)
        }
        Node::Conv2d {
            weight,
            bias,
            stride,
            padding,
        } => {
            let [out, _, kh, kw] = dims::<4>(weight, k)?;
            let p = conv_params(out, (kh, kw), *stride, *padding, (0, 0));
            (Op::Conv2d(p), heavy_tensors(weight, bias.as_ref(), out)?)
        }
        Node::ConvTranspose2d {
            weight,
            bias,
            stride,
            padding,
            output_padding,
        } => {
            let [_, out, kh, kw] = dims::<4>(weight, k)?;
            let p = conv_params(out, (kh, kw), *stride, *padding, *output_padding);
            (
                Op::ConvTranspose2d(p),
                heavy_tensors(weight, bias.as_ref(), out)?,
            )
        }
        Node::BatchNorm(bn) => {
            let (scale, shift) = affine(bn, k)?;
            (Op::BatchNorm, [Some(scale), Some(shift), None, None])
        }
        Node::CondBatchNorm(bn) => {
            let (scale, shift) = cond_affine(bn, k)?;
            (Op::CondBatchNorm, [Some(scale), Some(shift), None, None])
        }
        plain => (plain_op(plain), [None, None, None, None]),
    };
    Ok(FloatLayer {
        op,
        input: 0,
        tensors,
    })
}

fn plain_op(node: &Node) -> Op {
    match *node {
        Node::LeakyRelu { slope } => Op::LeakyRelu { slope },
        Node::Tanh => Op::Tanh,
        Node::Sigmoid => Op::Sigmoid,
        Node::Reshape(shape) => Op::Reshape { shape },
        Node::Crop {
            top,
            bottom,
            left,
            right,
        } => Op::Crop {
            top,
            bottom,
            left,
            right,
        },
        Node::Upsample2x => Op::Upsample2x,
        Node::Add { other } => Op::Add { other },
        Node::ConcatClass => Op::ConcatClass,
        // The layers with tensors are lowered by `lower_node`; ReLU is what remains.
        _ => Op::Relu,
    }
}

fn conv_params(
    out_channels: usize,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    output_padding: (usize, usize),
) -> ConvParams {
    ConvParams {
        out_channels,
        kernel,
        stride,
        padding,
        output_padding,
    }
}

/// Returns the tensor's extents, which must number `N` and be positive.
fn dims<const N: usize>(t: &Tensor, k: usize) -> Result<[usize; N], ExportError> {
    let size = t.size();
    let invalid = || ExportError::layer(k, format!("weight has shape {size:?}, expected rank {N}"));
    let extents: Vec<usize> = size
        .iter()
        .map(|&d| usize::try_from(d).ok().filter(|&d| d > 0))
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    extents.try_into().map_err(|_| invalid())
}

fn heavy_tensors(
    weight: &Tensor,
    bias: Option<&Tensor>,
    out: usize,
) -> Result<[Option<Vec<f32>>; TENSORS_PER_LAYER], ExportError> {
    let bias = match bias {
        Some(b) => values(b)?,
        None => vec![0.0; out],
    };
    Ok([Some(values(weight)?), Some(bias), None, None])
}
