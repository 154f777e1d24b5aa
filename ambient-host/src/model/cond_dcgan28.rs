//! The conditional DCGAN for 28×28 images that the AmbientGAN reference code (Bora, Price
//! and Dimakis, ICLR 2018) trains in its MNIST 1-D experiments: the one-hot class joins
//! the input of every layer, in the generator and in the discriminator.
//!
//! Generator: [z (100, uniform in [-1, 1]) ⊕ y (10, one-hot)] → dense 1024 → batch norm →
//! ReLU → ⊕ y → dense 128·7·7 → batch norm → ReLU → reshape (128, 7, 7) → ⊕ y as 10
//! constant channels → transposed conv 5×5 stride 2 → (128, 14, 14) → batch norm → ReLU →
//! ⊕ y → transposed conv 5×5 stride 2 → (C, 28, 28) → sigmoid. Each transposed convolution
//! has padding 2 and output padding 1, which doubles the size.
//!
//! Discriminator for image-shaped measurements: [x ⊕ y planes] → conv 4×4 stride 2
//! padding 1 → 64 channels → leaky ReLU 0.2 → ⊕ y → conv 4×4 stride 2 padding 1 → 128
//! channels → [batch norm] → leaky ReLU 0.2 → flatten ⊕ y → dense 1 (a logit). The batch
//! norm is the reference conditional DCGAN's, which normalises every discriminator layer
//! but the first. Each call normalises its own batch
//! ([`super::layers::discriminator_norm`]), so real and generated measurements never
//! share statistics. For 1-D measurements the conditional discriminator is
//! [`super::cond_fc_disc`]. Weights start from N(0, 0.02) and biases from 0, as in DCGAN.

use tch::nn::{self, Init, Module, ModuleT};
use tch::Tensor;

use super::conditioning::{concat_planes, concat_vector, cycle_labels, one_hot, one_hot_or_zeros};
use super::layers::{conv_out, discriminator_norm, discriminator_norm_config, leaky_relu};
use super::ModelError;

/// The latent size.
pub const LATENT: i64 = 100;

/// The number of classes (MNIST's digits).
pub const CLASSES: i64 = 10;

const HIDDEN: i64 = 1024;
const BASE: i64 = 128;
const WEIGHT_INIT: Init = Init::Randn {
    mean: 0.0,
    stdev: 0.02,
};

fn linear_config() -> nn::LinearConfig {
    nn::LinearConfig {
        ws_init: WEIGHT_INIT,
        bs_init: Some(Init::Const(0.0)),
        bias: true,
    }
}

fn norm_config() -> nn::BatchNormConfig {
    nn::BatchNormConfig {
        ws_init: Init::Const(1.0),
        ..Default::default()
    }
}

/// The generator; variables `fc1`, `bn1`, `fc2`, `bn2`, `up1`, `bn3`, `up2` under its path.
#[derive(Debug)]
pub struct Generator {
    fc1: nn::Linear,
    bn1: nn::BatchNorm,
    fc2: nn::Linear,
    bn2: nn::BatchNorm,
    up1: nn::ConvTranspose2D,
    bn3: nn::BatchNorm,
    up2: nn::ConvTranspose2D,
}

impl Generator {
    /// Creates the generator's variables under `path` for images with `channels` channels.
    pub fn new(path: nn::Path, channels: i64) -> Self {
        let up = nn::ConvTransposeConfig {
            stride: 2,
            padding: 2,
            output_padding: 1,
            ws_init: WEIGHT_INIT,
            ..Default::default()
        };
        let k = CLASSES;
        Self {
            fc1: nn::linear(&path / "fc1", LATENT + k, HIDDEN, linear_config()),
            bn1: nn::batch_norm1d(&path / "bn1", HIDDEN, norm_config()),
            fc2: nn::linear(&path / "fc2", HIDDEN + k, BASE * 7 * 7, linear_config()),
            bn2: nn::batch_norm1d(&path / "bn2", BASE * 7 * 7, norm_config()),
            up1: nn::conv_transpose2d(&path / "up1", BASE + k, BASE, 5, up),
            bn3: nn::batch_norm2d(&path / "bn3", BASE, norm_config()),
            up2: nn::conv_transpose2d(&path / "up2", BASE + k, channels, 5, up),
        }
    }
}

impl super::Generator for Generator {
    fn forward(&self, z: &Tensor, train: bool) -> Tensor {
        let labels = cycle_labels(z.size()[0], CLASSES, z.device());
        self.forward_labeled(z, &labels, train)
    }

    fn classes(&self) -> i64 {
        CLASSES
    }

    fn forward_labeled(&self, z: &Tensor, labels: &Tensor, train: bool) -> Tensor {
        let y = one_hot(labels, CLASSES);
        let x = self.fc1.forward(&concat_vector(z, &y));
        let x = self.bn1.forward_t(&x, train).relu();
        let x = self.fc2.forward(&concat_vector(&x, &y));
        let x = self.bn2.forward_t(&x, train).relu().view([-1, BASE, 7, 7]);
        let x = self.up1.forward(&concat_planes(&x, &y));
        let x = self.bn3.forward_t(&x, train).relu();
        self.up2.forward(&concat_planes(&x, &y)).sigmoid()
    }
}

/// The discriminator for image-shaped input; variables `conv1`, `conv2`, `fc` and, with
/// batch normalisation, `bn2` under its path.
#[derive(Debug)]
pub struct Discriminator {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    bn2: Option<nn::BatchNorm>,
    fc: nn::Linear,
    classes: i64,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[C, H, W]` with
    /// `classes` classes, and batch normalisation after the second convolution when
    /// `batch_norm` is true; each of H and W must be at least 4.
    pub fn new(
        path: nn::Path,
        input: &[i64],
        classes: i64,
        batch_norm: bool,
    ) -> Result<Self, ModelError> {
        let shape_error = || ModelError::InputShape {
            shape: input.to_vec(),
            reason: "the conditional convolutional discriminator takes [C, H, W] with H, W ≥ 4",
        };
        let &[channels, height, width] = input else {
            return Err(shape_error());
        };
        let down = |n| conv_out(n, 4, 2, 1).and_then(|m| conv_out(m, 4, 2, 1));
        let (Some(h), Some(w)) = (down(height), down(width)) else {
            return Err(shape_error());
        };

        let conv = nn::ConvConfig {
            stride: 2,
            padding: 1,
            ws_init: WEIGHT_INIT,
            ..Default::default()
        };
        Ok(Self {
            conv1: nn::conv2d(&path / "conv1", channels + classes, 64, 4, conv),
            conv2: nn::conv2d(&path / "conv2", 64 + classes, 128, 4, conv),
            bn2: batch_norm
                .then(|| nn::batch_norm2d(&path / "bn2", 128, discriminator_norm_config())),
            fc: nn::linear(&path / "fc", 128 * h * w + classes, 1, linear_config()),
            classes,
        })
    }

    fn run(&self, y: &Tensor, labels: Option<&Tensor>) -> Tensor {
        let c = one_hot_or_zeros(labels, y.size()[0], self.classes, y.device());
        let x = leaky_relu(&self.conv1.forward(&concat_planes(y, &c)), 0.2);
        let x = self.conv2.forward(&concat_planes(&x, &c));
        let x = leaky_relu(&discriminator_norm(self.bn2.as_ref(), x), 0.2);
        self.fc.forward(&concat_vector(&x.flatten(1, -1), &c))
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        self.run(y, None)
    }

    fn classes(&self) -> i64 {
        self.classes
    }

    fn forward_labeled(&self, y: &Tensor, labels: &Tensor) -> Tensor {
        self.run(y, Some(labels))
    }
}
