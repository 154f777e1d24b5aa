//! The paper preset: the reference code's MNIST WGAN-GP (Gulrajani et al.'s `gan_mnist`
//! as modified by the AmbientGAN authors), without batch normalisation.
//!
//! Generator: z (128, uniform in [-1, 1]) → dense 4096 → ReLU → reshape (256, 4, 4) →
//! deconv 5×5 stride 2 → (128, 8, 8) → ReLU → crop to (128, 7, 7) → deconv 5×5 stride 2 →
//! (64, 14, 14) → ReLU → deconv 5×5 stride 2 → (C, 28, 28) → sigmoid.
//!
//! Each "deconv" is TensorFlow's `conv2d_transpose` with `SAME` padding, which doubles the
//! size: `out[r] += in[i]·w[t]` with `r = 2i + t − 1`. That is a transposed convolution with
//! padding 1 (output `2n + 1`) followed by dropping the last row and column, which is how it
//! is written here (a crop to `2n`).
//!
//! Discriminator (critic): three 5×5 stride-2 convolutions with `SAME` padding (1 → 64 →
//! 128 → 256 channels, 28 → 14 → 7 → 4), each followed by leaky ReLU 0.2, then flatten and
//! dense 1, with no output activation. TF's `SAME` pads unevenly (28 → 14 pads 1 before and
//! 2 after), so the padding is explicit.
//!
//! Initialisation follows the reference's library: convolutions uniform with standard
//! deviation `√(4 / (fan_in + fan_out))`, where the strided side's fan is divided by
//! stride², and dense layers uniform with standard deviation `√(2 / (fan_in + fan_out))`
//! (Glorot); biases zero.

use tch::nn::{self, Init, Module};
use tch::Tensor;

use super::layers::{leaky_relu, same_padding, uniform_with_std};
use super::ModelError;

/// The latent size.
pub const LATENT: i64 = 128;

const DIM: i64 = 64;

/// The critic's default width: the channels of its first convolution (the second and third
/// have twice and four times as many), 64 as in the reference.
pub const CRITIC_WIDTH: i64 = DIM;

const KERNEL: i64 = 5;

/// The generator; variables `fc`, `up1`, `up2`, `up3` under its path.
#[derive(Debug)]
pub struct Generator {
    fc: nn::Linear,
    up1: nn::ConvTranspose2D,
    up2: nn::ConvTranspose2D,
    up3: nn::ConvTranspose2D,
}

impl Generator {
    /// Creates the generator's variables under `path` for images with `channels` channels.
    pub fn new(path: nn::Path, channels: i64) -> Self {
        Self {
            fc: dense(&path / "fc", LATENT, 4 * 4 * 4 * DIM),
            up1: deconv(&path / "up1", 4 * DIM, 2 * DIM),
            up2: deconv(&path / "up2", 2 * DIM, DIM),
            up3: deconv(&path / "up3", DIM, channels),
        }
    }
}

impl super::Generator for Generator {
    fn forward(&self, z: &Tensor, _train: bool) -> Tensor {
        let x = self.fc.forward(z).relu().view([-1, 4 * DIM, 4, 4]);
        // Each padding-1 deconv gives 2n + 1; the crop to 2n makes it TF's SAME deconv.
        let x = crop(&self.up1.forward(&x), 8).relu();
        let x = crop(&x, 7);
        let x = crop(&self.up2.forward(&x), 14).relu();
        crop(&self.up3.forward(&x), 28).sigmoid()
    }
}

/// Keeps the top-left `size`×`size` of the spatial dimensions.
fn crop(x: &Tensor, size: i64) -> Tensor {
    x.narrow(2, 0, size).narrow(3, 0, size)
}

fn dense(path: nn::Path, inputs: i64, outputs: i64) -> nn::Linear {
    let std = (2.0 / (inputs + outputs) as f64).sqrt();
    let config = nn::LinearConfig {
        ws_init: uniform_with_std(std),
        bs_init: Some(Init::Const(0.0)),
        bias: true,
    };
    nn::linear(path, inputs, outputs, config)
}

fn deconv(path: nn::Path, inputs: i64, outputs: i64) -> nn::ConvTranspose2D {
    let area = (KERNEL * KERNEL) as f64;
    let fan_in = inputs as f64 * area / 4.0;
    let fan_out = outputs as f64 * area;
    let config = nn::ConvTransposeConfig {
        stride: 2,
        padding: 1,
        ws_init: uniform_with_std((4.0 / (fan_in + fan_out)).sqrt()),
        ..Default::default()
    };
    nn::conv_transpose2d(path, inputs, outputs, KERNEL, config)
}

/// The critic; variables `conv1`, `conv2`, `conv3`, `fc` under its path.
#[derive(Debug)]
pub struct Discriminator {
    convs: [SameConv; 3],
    fc: nn::Linear,
}

/// A stride-2 convolution with TF `SAME` padding, `(before, after)` per axis.
#[derive(Debug)]
struct SameConv {
    conv: nn::Conv2D,
    pad_rows: (i64, i64),
    pad_cols: (i64, i64),
}

impl Discriminator {
    /// Creates the critic's variables under `path` for input `[C, H, W]`.
    pub fn new(path: nn::Path, input: &[i64]) -> Result<Self, ModelError> {
        Self::with_width(path, input, CRITIC_WIDTH)
    }

    /// Creates the critic with `width`, `2·width` and `4·width` channels in its three
    /// convolutions instead of [`CRITIC_WIDTH`]'s; `width` must be at least 1.
    pub fn with_width(path: nn::Path, input: &[i64], width: i64) -> Result<Self, ModelError> {
        if width < 1 {
            return Err(ModelError::Width { width });
        }
        let &[channels, mut rows, mut cols] = input else {
            return Err(ModelError::InputShape {
                shape: input.to_vec(),
                reason: "the convolutional critic takes [C, H, W]",
            });
        };
        if rows < 1 || cols < 1 {
            return Err(ModelError::InputShape {
                shape: input.to_vec(),
                reason: "the convolutional critic needs H, W ≥ 1",
            });
        }

        let widths = [channels, width, 2 * width, 4 * width];
        let convs = [1, 2, 3].map(|i| {
            let pad_rows = same_padding(rows, KERNEL, 2);
            let pad_cols = same_padding(cols, KERNEL, 2);
            rows = (rows + 1) / 2;
            cols = (cols + 1) / 2;
            SameConv {
                conv: conv(&path / format!("conv{i}"), widths[i - 1], widths[i]),
                pad_rows,
                pad_cols,
            }
        });
        let fc = dense(&path / "fc", 4 * width * rows * cols, 1);
        Ok(Self { convs, fc })
    }
}

fn conv(path: nn::Path, inputs: i64, outputs: i64) -> nn::Conv2D {
    let area = (KERNEL * KERNEL) as f64;
    let fan_in = inputs as f64 * area;
    let fan_out = outputs as f64 * area / 4.0;
    let config = nn::ConvConfig {
        stride: 2,
        ws_init: uniform_with_std((4.0 / (fan_in + fan_out)).sqrt()),
        ..Default::default()
    };
    nn::conv2d(path, inputs, outputs, KERNEL, config)
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        let mut x = y.shallow_clone();
        for layer in &self.convs {
            let ((top, bottom), (left, right)) = (layer.pad_rows, layer.pad_cols);
            let padded = x.constant_pad_nd([left, right, top, bottom]);
            x = leaky_relu(&layer.conv.forward(&padded), 0.2);
        }
        self.fc.forward(&x.flatten(1, -1))
    }
}
