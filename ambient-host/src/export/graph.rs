//! A generator as a graph of inference layers with tch tensors: what the exporter lowers to
//! the core's layer list, and what [`super::reference`] runs in tch.
//!
//! The graph uses the core's value numbering: value 0 is the latent input `z`, value
//! `k + 1` the output of layer `k`, and the last layer's output is the generated image.
//! Unlike the core's layers, batch normalisation here keeps its trained statistics
//! (γ, β, running mean and variance, ε), so that lowering can fold it into the layer
//! before it.

use ambient_core::format::ValueRange;
use ambient_core::Shape;
use tch::Tensor;

/// Batch-normalisation parameters at inference:
/// `y = γ · (x − mean) / sqrt(var + ε) + β`, per channel.
#[derive(Debug)]
pub struct BatchNormStats {
    /// γ, `[channels]`.
    pub gamma: Tensor,
    /// β, `[channels]`.
    pub beta: Tensor,
    /// Running mean, `[channels]`.
    pub mean: Tensor,
    /// Running variance, `[channels]`.
    pub var: Tensor,
    /// ε added to the variance.
    pub eps: f64,
}

/// Conditional batch normalisation: shared running statistics, and γ and β per class,
/// `y = γ[label] · (x − mean) / sqrt(var + ε) + β[label]`.
#[derive(Debug)]
pub struct CondBatchNormStats {
    /// γ per class, `[classes, channels]`.
    pub gamma: Tensor,
    /// β per class, `[classes, channels]`.
    pub beta: Tensor,
    /// Running mean, `[channels]`.
    pub mean: Tensor,
    /// Running variance, `[channels]`.
    pub var: Tensor,
    /// ε added to the variance.
    pub eps: f64,
}

/// One layer's operation and tensors. Weights use PyTorch's layouts, which are the core's.
#[derive(Debug)]
#[non_exhaustive]
pub enum Node {
    /// `y = W x + b` over the flattened input; weight `[out, in]`.
    Dense {
        /// Weight `[out, in]`.
        weight: Tensor,
        /// Bias `[out]`; `None` is zero.
        bias: Option<Tensor>,
    },
    /// 2-D convolution; weight `[out, in, kh, kw]`.
    Conv2d {
        /// Weight `[out, in, kh, kw]`.
        weight: Tensor,
        /// Bias `[out]`; `None` is zero.
        bias: Option<Tensor>,
        /// Stride `(rows, columns)`.
        stride: (usize, usize),
        /// Zero padding on each side, `(rows, columns)`.
        padding: (usize, usize),
    },
    /// 2-D transposed convolution as PyTorch's `ConvTranspose2d`; weight `[in, out, kh, kw]`.
    ConvTranspose2d {
        /// Weight `[in, out, kh, kw]`.
        weight: Tensor,
        /// Bias `[out]`; `None` is zero.
        bias: Option<Tensor>,
        /// Stride `(rows, columns)`.
        stride: (usize, usize),
        /// Padding removed from each side of the output, `(rows, columns)`.
        padding: (usize, usize),
        /// Extra rows and columns at the bottom and right, below the stride.
        output_padding: (usize, usize),
    },
    /// Batch normalisation with running statistics.
    BatchNorm(BatchNormStats),
    /// Conditional batch normalisation.
    CondBatchNorm(CondBatchNormStats),
    /// `max(x, 0)`.
    Relu,
    /// `max(x, slope · x)`.
    LeakyRelu {
        /// The slope for negative inputs.
        slope: f32,
    },
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
    /// The same values in a new shape.
    Reshape(Shape),
    /// Removes rows and columns at the borders.
    Crop {
        /// Rows removed at the top.
        top: usize,
        /// Rows removed at the bottom.
        bottom: usize,
        /// Columns removed at the left.
        left: usize,
        /// Columns removed at the right.
        right: usize,
    },
    /// Nearest-neighbour 2× upsampling.
    Upsample2x,
    /// The input plus value `other`, of the same shape.
    Add {
        /// The value index of the second operand.
        other: usize,
    },
    /// Appends the one-hot class as extra channels, constant over the image.
    ConcatClass,
}

impl Node {
    /// Returns the operation's name, as `inspect` and error messages print it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Dense { .. } => "dense",
            Self::Conv2d { .. } => "conv2d",
            Self::ConvTranspose2d { .. } => "conv-transpose2d",
            Self::BatchNorm(_) => "batch-norm",
            Self::CondBatchNorm(_) => "cond-batch-norm",
            Self::Relu => "relu",
            Self::LeakyRelu { .. } => "leaky-relu",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Reshape(_) => "reshape",
            Self::Crop { .. } => "crop",
            Self::Upsample2x => "upsample2x",
            Self::Add { .. } => "add",
            Self::ConcatClass => "concat-class",
        }
    }
}

/// One layer: its node and the value it reads.
#[derive(Debug)]
pub struct Layer {
    /// The operation and its tensors.
    pub node: Node,
    /// The value the layer reads; `None` is the previous layer's output.
    pub input: Option<usize>,
}

/// A generator: latent vectors (and class labels) to images.
#[derive(Debug)]
pub struct Graph {
    /// Values of `z` per image.
    pub latent: usize,
    /// Number of classes; 0 for an unconditional generator.
    pub classes: usize,
    /// Range of the output values.
    pub range: ValueRange,
    /// The layers in execution order.
    pub layers: Vec<Layer>,
}

impl Graph {
    /// Creates an empty graph.
    pub fn new(latent: usize, classes: usize, range: ValueRange) -> Self {
        Self {
            latent,
            classes,
            range,
            layers: Vec::new(),
        }
    }

    /// Appends a layer that reads the previous layer's output and returns its output
    /// value.
    pub fn push(&mut self, node: Node) -> usize {
        self.layers.push(Layer { node, input: None });
        self.layers.len()
    }

    /// Appends a layer that reads value `input` and returns its output value.
    pub fn push_reading(&mut self, input: usize, node: Node) -> usize {
        self.layers.push(Layer {
            node,
            input: Some(input),
        });
        self.layers.len()
    }

    /// Returns the value layer `k` reads.
    pub fn input_of(&self, k: usize) -> usize {
        self.layers[k].input.unwrap_or(k)
    }

    /// Returns how many times each value is read: as a layer's input, as an add's second
    /// operand, and (for the last value) as the generator's output.
    pub fn uses(&self) -> Vec<usize> {
        let mut uses = vec![0; self.layers.len() + 1];
        for (k, layer) in self.layers.iter().enumerate() {
            if let Some(u) = uses.get_mut(self.input_of(k)) {
                *u += 1;
            }
            if let Node::Add { other } = layer.node {
                if let Some(u) = uses.get_mut(other) {
                    *u += 1;
                }
            }
        }
        if let Some(last) = uses.last_mut() {
            *last += 1;
        }
        uses
    }
}
