//! The MNIST classifier network: a small convolutional network in the shape of
//! TensorFlow's `mnist_deep`, with a narrower hidden layer.
//!
//! Layers: input `[N, 1, 28, 28]` in `[0, 1]` → conv 5×5 (padding 2) → ReLU →
//! max-pool 2 → conv 5×5 (padding 2) → ReLU → max-pool 2 → flatten → dense `hidden` →
//! ReLU (the features) → dropout 0.5 while training → dense 10 (the logits). Variables `conv1`,
//! `conv2`, `fc1`, `fc2` at the root of the variable store, with tch's default
//! initialisation (Kaiming-uniform weights).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

/// The number of classes.
pub const CLASSES: usize = 10;

/// The image side the network takes.
pub const IMAGE_SIDE: i64 = 28;

const DROPOUT: f64 = 0.5;

/// The widths of the network's layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CnnShape {
    /// Channels of the first convolution.
    pub conv1: i64,
    /// Channels of the second convolution.
    pub conv2: i64,
    /// Units of the hidden dense layer: the width of the features.
    pub hidden: i64,
}

impl CnnShape {
    /// The shape this build trains: half of `mnist_deep`'s 32 and 64 channels, and 128
    /// hidden units in place of its 1,024. That is about a quarter of the compute (the
    /// second convolution dominates), keeps the weights under 1 MB, and keeps the features'
    /// covariance (128 × 128) well estimated from 1,000 images.
    pub const DEFAULT: Self = Self {
        conv1: 16,
        conv2: 32,
        hidden: 128,
    };
}

/// The network.
#[derive(Debug)]
pub struct Cnn {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

/// The network's outputs for a batch.
#[derive(Debug)]
pub struct CnnOutput {
    /// Class logits, `[N, 10]`.
    pub logits: Tensor,
    /// The hidden layer's activations after ReLU, `[N, hidden]`.
    pub features: Tensor,
}

impl Cnn {
    /// Creates the network's variables under `path`.
    pub fn new(path: &nn::Path, shape: CnnShape) -> Self {
        let conv = nn::ConvConfig {
            padding: 2,
            ..Default::default()
        };
        let flat = shape.conv2 * (IMAGE_SIDE / 4) * (IMAGE_SIDE / 4);
        Self {
            conv1: nn::conv2d(path / "conv1", 1, shape.conv1, 5, conv),
            conv2: nn::conv2d(path / "conv2", shape.conv1, shape.conv2, 5, conv),
            fc1: nn::linear(path / "fc1", flat, shape.hidden, Default::default()),
            fc2: nn::linear(
                path / "fc2",
                shape.hidden,
                CLASSES as i64,
                Default::default(),
            ),
        }
    }

    /// Runs the network on images `[N, 1, 28, 28]`; `train` turns dropout on.
    pub fn forward(&self, images: &Tensor, train: bool) -> CnnOutput {
        let x = self.conv1.forward(images).relu().max_pool2d_default(2);
        let x = self.conv2.forward(&x).relu().max_pool2d_default(2);
        let features = self.fc1.forward(&x.flatten(1, -1)).relu();
        let logits = self.fc2.forward(&features.dropout(DROPOUT, train));
        CnnOutput { logits, features }
    }
}
