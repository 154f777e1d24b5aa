//! The CPU preset: a small DCGAN for 28×28 images.
//!
//! Generator: z (64, N(0, I)) → dense 128·7·7 → reshape (128, 7, 7) → batch norm → ReLU →
//! transposed conv 4×4 stride 2 padding 1 → (64, 14, 14) → batch norm → ReLU → transposed
//! conv 4×4 stride 2 padding 1 → (C, 28, 28) → sigmoid.
//!
//! Discriminator: conv 4×4 stride 2 padding 1 → 64 channels → leaky ReLU 0.2 → conv 4×4
//! stride 2 padding 1 → 128 channels → leaky ReLU 0.2 → flatten → dense 1 (a logit). It
//! has no batch normalisation, so real and simulated measurements never share batch
//! statistics. Weights start from N(0, 0.02) and biases from 0, as in DCGAN.
//!
//! The small generators are for microcontrollers: `dcgan28-small` has 64 and 32 channels
//! instead of 128 and 64, `dcgan28-tiny` 32 and 16. They train against the same
//! discriminator.

use tch::nn::{self, Init, Module, ModuleT};
use tch::Tensor;

use super::layers::{conv_out, leaky_relu};
use super::ModelError;

/// The latent size.
pub const LATENT: i64 = 64;

/// The channels of the dense layer's output planes; the transposed convolution after it has
/// half as many.
pub const WIDTH: i64 = 128;

/// [`WIDTH`] of the small model (`dcgan28-small`), half the full one.
pub const SMALL_WIDTH: i64 = 64;

/// [`WIDTH`] of the tiny model (`dcgan28-tiny`), a quarter of the full one.
pub const TINY_WIDTH: i64 = 32;

const WEIGHT_INIT: Init = Init::Randn {
    mean: 0.0,
    stdev: 0.02,
};

/// The generator; variables `fc`, `bn0`, `up1`, `bn1`, `up2` under its path.
#[derive(Debug)]
pub struct Generator {
    fc: nn::Linear,
    bn0: nn::BatchNorm,
    up1: nn::ConvTranspose2D,
    bn1: nn::BatchNorm,
    up2: nn::ConvTranspose2D,
    width: i64,
}

impl Generator {
    /// Creates the generator's variables under `path` for images with `channels` channels.
    pub fn new(path: nn::Path, channels: i64) -> Self {
        Self::with_width(path, channels, WIDTH)
    }

    /// Creates the generator with `width` channels after the dense layer (and `width / 2`
    /// after the first transposed convolution) instead of [`WIDTH`].
    pub fn with_width(path: nn::Path, channels: i64, width: i64) -> Self {
        let linear = nn::LinearConfig {
            ws_init: WEIGHT_INIT,
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let up = nn::ConvTransposeConfig {
            stride: 2,
            padding: 1,
            ws_init: WEIGHT_INIT,
            ..Default::default()
        };
        let norm = nn::BatchNormConfig {
            ws_init: Init::Const(1.0),
            ..Default::default()
        };
        Self {
            fc: nn::linear(&path / "fc", LATENT, width * 7 * 7, linear),
            bn0: nn::batch_norm2d(&path / "bn0", width, norm),
            up1: nn::conv_transpose2d(&path / "up1", width, width / 2, 4, up),
            bn1: nn::batch_norm2d(&path / "bn1", width / 2, norm),
            up2: nn::conv_transpose2d(&path / "up2", width / 2, channels, 4, up),
            width,
        }
    }
}

impl super::Generator for Generator {
    fn forward(&self, z: &Tensor, train: bool) -> Tensor {
        let x = self.fc.forward(z).view([-1, self.width, 7, 7]);
        let x = self.bn0.forward_t(&x, train).relu();
        let x = self.up1.forward(&x);
        let x = self.bn1.forward_t(&x, train).relu();
        self.up2.forward(&x).sigmoid()
    }
}

/// The discriminator; variables `conv1`, `conv2`, `fc` under its path.
#[derive(Debug)]
pub struct Discriminator {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc: nn::Linear,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[C, H, W]`; each of
    /// H and W must be at least 4.
    pub fn new(path: nn::Path, input: &[i64]) -> Result<Self, ModelError> {
        let &[channels, height, width] = input else {
            return Err(shape_error(input));
        };
        let down = |n| conv_out(n, 4, 2, 1).and_then(|m| conv_out(m, 4, 2, 1));
        let (Some(h), Some(w)) = (down(height), down(width)) else {
            return Err(shape_error(input));
        };

        let conv = nn::ConvConfig {
            stride: 2,
            padding: 1,
            ws_init: WEIGHT_INIT,
            ..Default::default()
        };
        let linear = nn::LinearConfig {
            ws_init: WEIGHT_INIT,
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        Ok(Self {
            conv1: nn::conv2d(&path / "conv1", channels, 64, 4, conv),
            conv2: nn::conv2d(&path / "conv2", 64, 128, 4, conv),
            fc: nn::linear(&path / "fc", 128 * h * w, 1, linear),
        })
    }
}

fn shape_error(input: &[i64]) -> ModelError {
    ModelError::InputShape {
        shape: input.to_vec(),
        reason: "the convolutional discriminator takes [C, H, W] with H, W ≥ 4",
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        let x = leaky_relu(&self.conv1.forward(y), 0.2);
        let x = leaky_relu(&self.conv2.forward(&x), 0.2);
        self.fc.forward(&x.flatten(1, -1))
    }
}
