//! Generators and discriminators, with every variable named by path.
//!
//! A model's variables live in an `nn::VarStore` under a root path: `gen.` for the
//! generator, `disc.` for the discriminator (`gen.fc.weight`, `gen.bn0.running_mean`,
//! `disc.conv1.weight`...). Checkpoints are keyed by those names, and the exporter reads
//! the generator's weights by name. Each generator is written layer by layer with the
//! layers the core implements for inference (dense, transposed convolution, batch
//! normalisation, ReLU, sigmoid, reshape, crop), so that it exports without translation.
//!
//! - [`Preset::Cpu`]: a DCGAN for 28×28 that trains in minutes on two cores
//!   ([`dcgan28`]).
//! - [`Preset::Paper`]: the reference code's MNIST WGAN-GP ([`wgan28`]).
//! - A fully connected discriminator for 1-D measurements ([`fc_disc`]).

pub mod dcgan28;
mod error;
pub mod fc_disc;
mod layers;
pub mod wgan28;

use ambient_core::Shape;
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

pub use error::ModelError;

/// A model preset: architecture and training hyperparameters together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Preset {
    /// A 28×28 DCGAN with the non-saturating loss, sized for a CPU.
    Cpu,
    /// The reference MNIST WGAN-GP: gradient penalty, five critic steps per generator step.
    Paper,
}

impl Preset {
    /// Returns the command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Paper => "paper",
        }
    }
}

/// The distribution of the generator's latent vector z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatentDistribution {
    /// Standard normal, N(0, I).
    Normal,
    /// Uniform in `[-1, 1]`, independent per component.
    Uniform,
}

/// Draws a latent batch `[batch, dim]` from torch's global generator.
pub fn sample_latent(
    distribution: LatentDistribution,
    batch: i64,
    dim: i64,
    device: Device,
) -> Tensor {
    let options = (Kind::Float, device);
    match distribution {
        LatentDistribution::Normal => Tensor::randn([batch, dim], options),
        LatentDistribution::Uniform => Tensor::rand([batch, dim], options) * 2.0 - 1.0,
    }
}

/// A generator: latent vectors `[B, latent]` to images `[B, C, H, W]`.
pub trait Generator: std::fmt::Debug {
    /// Runs the generator. `train` selects batch statistics (and updates the running
    /// statistics) in batch normalisation; `false` uses the running statistics.
    fn forward(&self, z: &Tensor, train: bool) -> Tensor;
}

/// A discriminator: measurements `[B, ...]` to one logit (or critic score) each, `[B, 1]`.
pub trait Discriminator: std::fmt::Debug {
    /// Runs the discriminator.
    fn forward(&self, y: &Tensor) -> Tensor;
}

/// The generator's architecture, fixed by the preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratorArch {
    /// [`dcgan28::Generator`].
    Dcgan28,
    /// [`wgan28::Generator`].
    Wgan28,
}

/// The discriminator's architecture, fixed by the preset and the input's rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscriminatorArch {
    /// [`dcgan28::Discriminator`], for image-shaped input.
    DcganConv,
    /// [`wgan28::Discriminator`], for image-shaped input.
    WganConv,
    /// [`fc_disc::Discriminator`], for 1-D input.
    FullyConnected,
}

impl GeneratorArch {
    /// Returns the generator architecture of `preset`.
    pub fn for_preset(preset: Preset) -> Self {
        match preset {
            Preset::Cpu => Self::Dcgan28,
            Preset::Paper => Self::Wgan28,
        }
    }

    /// Returns the latent size and distribution.
    pub fn latent(self) -> (i64, LatentDistribution) {
        match self {
            Self::Dcgan28 => (dcgan28::LATENT, LatentDistribution::Normal),
            Self::Wgan28 => (wgan28::LATENT, LatentDistribution::Uniform),
        }
    }

    /// Builds the generator under `path` for images of `shape`.
    pub fn build(self, path: nn::Path, shape: Shape) -> Result<Box<dyn Generator>, ModelError> {
        check_image_28(shape)?;
        let channels = shape.channels as i64;
        Ok(match self {
            Self::Dcgan28 => Box::new(dcgan28::Generator::new(path, channels)),
            Self::Wgan28 => Box::new(wgan28::Generator::new(path, channels)),
        })
    }
}

impl DiscriminatorArch {
    /// Returns the discriminator architecture of `preset` for input of shape `input`
    /// (`[C, H, W]` or `[L]`).
    pub fn for_input(preset: Preset, input: &[i64]) -> Result<Self, ModelError> {
        match (input.len(), preset) {
            (1, _) => Ok(Self::FullyConnected),
            (3, Preset::Cpu) => Ok(Self::DcganConv),
            (3, Preset::Paper) => Ok(Self::WganConv),
            _ => Err(ModelError::InputShape {
                shape: input.to_vec(),
                reason: "a discriminator takes [C, H, W] or [L]",
            }),
        }
    }

    /// Builds the discriminator under `path` for input of shape `input`.
    pub fn build(
        self,
        path: nn::Path,
        input: &[i64],
    ) -> Result<Box<dyn Discriminator>, ModelError> {
        Ok(match self {
            Self::DcganConv => Box::new(dcgan28::Discriminator::new(path, input)?),
            Self::WganConv => Box::new(wgan28::Discriminator::new(path, input)?),
            Self::FullyConnected => Box::new(fc_disc::Discriminator::new(path, input)?),
        })
    }
}

fn check_image_28(shape: Shape) -> Result<(), ModelError> {
    if shape.height != 28 || shape.width != 28 || shape.channels == 0 || shape.channels > 4 {
        return Err(ModelError::ImageShape {
            shape: [shape.channels, shape.height, shape.width],
        });
    }
    Ok(())
}
