//! The DCGAN for 64×64 colour images that the AmbientGAN reference code trains on CelebA,
//! and the same network at a quarter of its widths for short CPU runs.
//!
//! Generator: z (100, uniform in [-1, 1]) → dense 8w·4·4 → reshape (8w, 4, 4) → batch norm
//! → ReLU → three transposed convs 5×5 stride 2 to 4w, 2w and w channels (8 → 16 → 32),
//! each followed by batch norm and ReLU → transposed conv 5×5 stride 2 to C channels (64)
//! → tanh, so the output range is [-1, 1]. Each transposed convolution has padding 2 and
//! output padding 1, which doubles the size. The paper's widths are w = 64; the small
//! model's w = 16.
//!
//! Discriminator: four convs 5×5 stride 2 padding 2 to w, 2w, 4w and 8w channels (64 → 32 →
//! 16 → 8 → 4), the last three followed by batch normalisation, each by leaky ReLU 0.2 →
//! flatten → dense 1 (a logit). Each call normalises its own batch
//! ([`super::layers::discriminator_norm`]), as the reference code does. Runs whose
//! configuration predates the batch normalisation build it without. Weights start from
//! N(0, 0.02) and biases from 0, as in DCGAN.

use tch::nn::{self, Init, Module, ModuleT};
use tch::Tensor;

use super::layers::{conv_out, discriminator_norm, discriminator_norm_config, leaky_relu};
use super::ModelError;

/// The latent size.
pub const LATENT: i64 = 100;

/// The reference code's width `w` (the channels of the last hidden stage).
pub const PAPER_WIDTH: i64 = 64;

/// The small model's width `w`.
pub const SMALL_WIDTH: i64 = 16;

const WEIGHT_INIT: Init = Init::Randn {
    mean: 0.0,
    stdev: 0.02,
};

/// The generator; variables `fc`, `bn0`, `up1` to `up4` and `bn1` to `bn3` under its path.
#[derive(Debug)]
pub struct Generator {
    fc: nn::Linear,
    bn0: nn::BatchNorm,
    ups: Vec<(nn::ConvTranspose2D, Option<nn::BatchNorm>)>,
    width: i64,
}

impl Generator {
    /// Creates the generator's variables under `path` for images with `channels` channels
    /// and width `w` = `width`.
    pub fn new(path: nn::Path, channels: i64, width: i64) -> Self {
        let linear = nn::LinearConfig {
            ws_init: WEIGHT_INIT,
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let up = nn::ConvTransposeConfig {
            stride: 2,
            padding: 2,
            output_padding: 1,
            ws_init: WEIGHT_INIT,
            ..Default::default()
        };
        let norm = nn::BatchNormConfig {
            ws_init: Init::Const(1.0),
            ..Default::default()
        };
        let widths = [8 * width, 4 * width, 2 * width, width, channels];
        let ups = (1..5)
            .map(|i| {
                let conv =
                    nn::conv_transpose2d(&path / format!("up{i}"), widths[i - 1], widths[i], 5, up);
                let bn =
                    (i < 4).then(|| nn::batch_norm2d(&path / format!("bn{i}"), widths[i], norm));
                (conv, bn)
            })
            .collect();
        Self {
            fc: nn::linear(&path / "fc", LATENT, 8 * width * 4 * 4, linear),
            bn0: nn::batch_norm2d(&path / "bn0", 8 * width, norm),
            ups,
            width,
        }
    }
}

impl super::Generator for Generator {
    fn forward(&self, z: &Tensor, train: bool) -> Tensor {
        let x = self.fc.forward(z).view([-1, 8 * self.width, 4, 4]);
        let mut x = self.bn0.forward_t(&x, train).relu();
        for (conv, bn) in &self.ups {
            x = conv.forward(&x);
            if let Some(bn) = bn {
                x = bn.forward_t(&x, train).relu();
            }
        }
        x.tanh()
    }
}

/// The discriminator; variables `conv1` to `conv4`, `fc` and, with batch normalisation,
/// `bn2` to `bn4` under its path.
#[derive(Debug)]
pub struct Discriminator {
    convs: Vec<(nn::Conv2D, Option<nn::BatchNorm>)>,
    fc: nn::Linear,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[C, H, W]` with width
    /// `w` = `width`, and batch normalisation after the last three convolutions when
    /// `batch_norm` is true.
    pub fn new(
        path: nn::Path,
        input: &[i64],
        width: i64,
        batch_norm: bool,
    ) -> Result<Self, ModelError> {
        let shape_error = || ModelError::InputShape {
            shape: input.to_vec(),
            reason: "the 64×64 DCGAN discriminator takes [C, H, W] with H, W ≥ 1",
        };
        let &[channels, mut height, mut width_px] = input else {
            return Err(shape_error());
        };
        let config = nn::ConvConfig {
            stride: 2,
            padding: 2,
            ws_init: WEIGHT_INIT,
            ..Default::default()
        };
        let widths = [channels, width, 2 * width, 4 * width, 8 * width];
        let mut convs = Vec::with_capacity(4);
        for i in 1..5 {
            let (Some(h), Some(w)) = (conv_out(height, 5, 2, 2), conv_out(width_px, 5, 2, 2))
            else {
                return Err(shape_error());
            };
            (height, width_px) = (h, w);
            let name = format!("conv{i}");
            let conv = nn::conv2d(&path / name, widths[i - 1], widths[i], 5, config);
            let norm = (batch_norm && i > 1).then(|| {
                let name = format!("bn{i}");
                nn::batch_norm2d(&path / name, widths[i], discriminator_norm_config())
            });
            convs.push((conv, norm));
        }
        let linear = nn::LinearConfig {
            ws_init: WEIGHT_INIT,
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let features = 8 * width * height * width_px;
        Ok(Self {
            convs,
            fc: nn::linear(&path / "fc", features, 1, linear),
        })
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        let mut x = y.shallow_clone();
        for (conv, norm) in &self.convs {
            x = leaky_relu(&discriminator_norm(norm.as_ref(), conv.forward(&x)), 0.2);
        }
        self.fc.forward(&x.flatten(1, -1))
    }
}
