//! Generators and discriminators, with every variable named by path.
//!
//! A model's variables live in an `nn::VarStore` under a root path: `gen.` for the
//! generator, `disc.` for the discriminator (`gen.fc.weight`, `gen.bn0.running_mean`,
//! `disc.conv1.weight`...). Checkpoints are keyed by those names, and the exporter reads
//! the generator's weights by name. Each generator is written layer by layer with the
//! layers the core implements for inference (dense, transposed convolution, batch
//! normalisation, ReLU, sigmoid, reshape, crop), so that it exports without translation.
//!
//! The model ([`GeneratorArch`], `--model`) names the generator and the discriminator
//! family that goes with it; the preset picks one when none is named:
//!
//! - [`Preset::Cpu`]: a DCGAN for 28×28 that trains in minutes on two cores
//!   ([`dcgan28`]), also at a quarter of its widths for microcontrollers.
//! - [`Preset::Paper`]: the reference code's MNIST WGAN-GP ([`wgan28`]).
//! - The reference code's conditional MNIST DCGAN ([`cond_dcgan28`]), with the one-hot
//!   class at every layer of the generator and of the discriminator ([`cond_fc_disc`] for
//!   1-D input).
//! - The reference code's 64×64 colour DCGAN for CelebA ([`dcgan64`]), the default for
//!   64×64 data, also at a quarter of its widths for CPU runs.
//! - The reference code's ResNet ACWGAN-GP for 32×32 colour images ([`acwgan32`]), the
//!   default for 32×32 data.
//! - A fully connected discriminator for 1-D measurements ([`fc_disc`]).

pub mod acwgan32;
pub mod cond_dcgan28;
pub mod cond_fc_disc;
mod conditioning;
pub mod dcgan28;
pub mod dcgan64;
mod error;
pub mod fc_disc;
mod layers;
pub mod wgan28;

use ambient_core::format::ValueRange;
use ambient_core::Shape;
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

pub use conditioning::{class_rows, cycle_labels, one_hot, Labeled};
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

/// A generator: latent vectors `[B, latent]` (and, when conditional, class labels) to
/// images `[B, C, H, W]`.
pub trait Generator: std::fmt::Debug {
    /// Runs the generator. `train` selects batch statistics (and updates the running
    /// statistics) in batch normalisation; `false` uses the running statistics. A
    /// conditional generator takes image `i`'s class as `i mod classes`, the labels an
    /// exported model is checked with.
    fn forward(&self, z: &Tensor, train: bool) -> Tensor;

    /// Returns the number of classes the generator is conditioned on; 0 when it is not.
    fn classes(&self) -> i64 {
        0
    }

    /// Runs the generator for class indices `labels` (`[B]`, int64, below
    /// [`Generator::classes`]). An unconditional generator ignores them.
    fn forward_labeled(&self, z: &Tensor, labels: &Tensor, train: bool) -> Tensor {
        let _ = labels;
        self.forward(z, train)
    }
}

/// A discriminator: measurements `[B, ...]` (and, when conditional, class labels) to one
/// logit (or critic score) each, `[B, 1]`.
///
/// Only training runs a discriminator, so one with batch normalisation always normalises
/// with the statistics of the batch it is given and updates its running statistics. Each
/// call is one batch (real, generated, or the gradient penalty's mix), never a mix of
/// real and generated examples.
pub trait Discriminator: std::fmt::Debug {
    /// Runs the discriminator. A conditional discriminator is given no class: its one-hot
    /// inputs are all zero.
    fn forward(&self, y: &Tensor) -> Tensor;

    /// Returns the number of classes the discriminator is conditioned on; 0 when it is not.
    fn classes(&self) -> i64 {
        0
    }

    /// Runs the discriminator for class indices `labels` (`[B]`, int64). An unconditional
    /// discriminator ignores them.
    fn forward_labeled(&self, y: &Tensor, labels: &Tensor) -> Tensor {
        let _ = labels;
        self.forward(y)
    }

    /// Runs the discriminator and, when it has an auxiliary classifier, returns its class
    /// logits `[B, classes]` with the scores.
    fn forward_with_classes(&self, y: &Tensor) -> (Tensor, Option<Tensor>) {
        (self.forward(y), None)
    }
}

/// The model (`--model`): the generator's architecture, which also fixes the family of
/// the discriminator. Absent, the preset and the image shape choose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum GeneratorArch {
    /// The cpu preset's 28×28 DCGAN (latent 64, 128 and 64 channels).
    Dcgan28,
    /// The same DCGAN at half the widths (64 and 32 channels), for microcontrollers.
    Dcgan28Small,
    /// The same DCGAN at a quarter of the widths (32 and 16 channels).
    Dcgan28Tiny,
    /// The paper preset's MNIST WGAN-GP generator (latent 128, uniform).
    Wgan28,
    /// The paper's conditional 28×28 DCGAN: the one-hot class joins every layer of the
    /// generator and of the discriminator; needs labelled data.
    CondDcgan28,
    /// The paper's 64×64 colour DCGAN (CelebA): tanh output in [-1, 1].
    Dcgan64,
    /// The same 64×64 DCGAN at a quarter of the widths, for CPU runs.
    Dcgan64Small,
    /// The paper's ResNet ACWGAN-GP for 32×32 colour (CIFAR-10): conditional batch norm,
    /// a critic with an auxiliary classifier; needs labelled data.
    Acwgan32,
}

/// The discriminator's architecture, fixed by the model, the preset and the input's rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DiscriminatorArch {
    /// [`dcgan28::Discriminator`], for image-shaped input.
    DcganConv,
    /// [`wgan28::Discriminator`], for image-shaped input.
    WganConv,
    /// [`fc_disc::Discriminator`], for 1-D input.
    FullyConnected,
    /// [`cond_dcgan28::Discriminator`], for image-shaped input with class labels.
    CondConv,
    /// [`cond_fc_disc::Discriminator`], for 1-D input with class labels.
    CondFullyConnected,
    /// [`dcgan64::Discriminator`] at the paper's widths, for image-shaped input.
    Dcgan64Conv,
    /// [`dcgan64::Discriminator`] at a quarter of the widths.
    Dcgan64SmallConv,
    /// [`acwgan32::Discriminator`], the ResNet critic with an auxiliary classifier.
    ResnetCritic,
}

impl GeneratorArch {
    /// Every model, in the order `--help` lists them.
    pub const ALL: [Self; 8] = [
        Self::Dcgan28,
        Self::Dcgan28Small,
        Self::Dcgan28Tiny,
        Self::Wgan28,
        Self::CondDcgan28,
        Self::Dcgan64,
        Self::Dcgan64Small,
        Self::Acwgan32,
    ];

    /// Returns the command-line name (`dcgan28`, `cond-dcgan28`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Dcgan28 => "dcgan28",
            Self::Dcgan28Small => "dcgan28-small",
            Self::Dcgan28Tiny => "dcgan28-tiny",
            Self::Wgan28 => "wgan28",
            Self::CondDcgan28 => "cond-dcgan28",
            Self::Dcgan64 => "dcgan64",
            Self::Dcgan64Small => "dcgan64-small",
            Self::Acwgan32 => "acwgan32",
        }
    }

    /// Returns the generator architecture of `preset` for 28×28 images.
    pub fn for_preset(preset: Preset) -> Self {
        match preset {
            Preset::Cpu => Self::Dcgan28,
            Preset::Paper => Self::Wgan28,
        }
    }

    /// Returns the model `preset` chooses for images of `shape`: for 64×64 images the
    /// 64×64 DCGAN (the small one with the cpu preset), for 32×32 images the ACWGAN-GP,
    /// else the preset's 28×28 model.
    pub fn for_data(preset: Preset, shape: Shape) -> Self {
        match (shape.height, shape.width, preset) {
            (64, 64, Preset::Cpu) => Self::Dcgan64Small,
            (64, 64, _) => Self::Dcgan64,
            (32, 32, _) => Self::Acwgan32,
            _ => Self::for_preset(preset),
        }
    }

    /// Returns the side of the model's square images.
    pub fn side(self) -> usize {
        match self {
            Self::Dcgan64 | Self::Dcgan64Small => 64,
            Self::Acwgan32 => 32,
            _ => 28,
        }
    }

    /// Returns the latent size and distribution.
    pub fn latent(self) -> (i64, LatentDistribution) {
        match self {
            Self::Dcgan28 | Self::Dcgan28Small | Self::Dcgan28Tiny => {
                (dcgan28::LATENT, LatentDistribution::Normal)
            }
            Self::Wgan28 => (wgan28::LATENT, LatentDistribution::Uniform),
            Self::CondDcgan28 => (cond_dcgan28::LATENT, LatentDistribution::Uniform),
            Self::Dcgan64 | Self::Dcgan64Small => (dcgan64::LATENT, LatentDistribution::Uniform),
            Self::Acwgan32 => (acwgan32::LATENT, LatentDistribution::Normal),
        }
    }

    /// Returns the number of classes the model is conditioned on (0 when it is not).
    pub fn classes(self) -> i64 {
        match self {
            Self::CondDcgan28 => cond_dcgan28::CLASSES,
            Self::Acwgan32 => acwgan32::CLASSES,
            _ => 0,
        }
    }

    /// Returns the range of the generated values.
    pub fn range(self) -> ValueRange {
        match self {
            Self::Dcgan64 | Self::Dcgan64Small | Self::Acwgan32 => ValueRange::MinusOneOne,
            _ => ValueRange::ZeroOne,
        }
    }

    /// Builds the generator under `path` for images of `shape`.
    pub fn build(self, path: nn::Path, shape: Shape) -> Result<Box<dyn Generator>, ModelError> {
        let channels = shape.channels as i64;
        let side = self.side();
        if side != 28 && !is_image(shape, side) {
            return Err(ModelError::ModelShape {
                model: self.name(),
                side,
                shape: [shape.channels, shape.height, shape.width],
            });
        }
        if self == Self::Acwgan32 {
            return Ok(Box::new(acwgan32::Generator::new(path, channels)));
        }
        if side == 64 {
            let width = match self {
                Self::Dcgan64Small => dcgan64::SMALL_WIDTH,
                _ => dcgan64::PAPER_WIDTH,
            };
            return Ok(Box::new(dcgan64::Generator::new(path, channels, width)));
        }
        if !is_image(shape, 28) {
            return Err(ModelError::ImageShape {
                shape: [shape.channels, shape.height, shape.width],
            });
        }
        Ok(match self {
            Self::Dcgan28Small => Box::new(dcgan28::Generator::with_width(
                path,
                channels,
                dcgan28::SMALL_WIDTH,
            )),
            Self::Dcgan28Tiny => Box::new(dcgan28::Generator::with_width(
                path,
                channels,
                dcgan28::TINY_WIDTH,
            )),
            Self::Wgan28 => Box::new(wgan28::Generator::new(path, channels)),
            Self::CondDcgan28 => Box::new(cond_dcgan28::Generator::new(path, channels)),
            _ => Box::new(dcgan28::Generator::new(path, channels)),
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

    /// Returns the discriminator architecture of model `model` under `preset` for input
    /// of shape `input`: the conditional model's own, the 64×64 DCGAN's own, or else the
    /// preset's ([`DiscriminatorArch::for_input`]).
    pub fn for_model(
        model: GeneratorArch,
        preset: Preset,
        input: &[i64],
    ) -> Result<Self, ModelError> {
        match (model, input.len()) {
            (GeneratorArch::CondDcgan28, 1) => Ok(Self::CondFullyConnected),
            (GeneratorArch::CondDcgan28, 3) => Ok(Self::CondConv),
            (GeneratorArch::Dcgan64, 3) => Ok(Self::Dcgan64Conv),
            (GeneratorArch::Dcgan64Small, 3) => Ok(Self::Dcgan64SmallConv),
            (GeneratorArch::Acwgan32, 3) => Ok(Self::ResnetCritic),
            (GeneratorArch::Acwgan32, _) => Err(ModelError::InputShape {
                shape: input.to_vec(),
                reason: "the ResNet critic takes image-shaped measurements [C, H, W]",
            }),
            _ => Self::for_input(preset, input),
        }
    }

    /// Returns the command-line and config.json name (`dcgan-conv`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::DcganConv => "dcgan-conv",
            Self::WganConv => "wgan-conv",
            Self::FullyConnected => "fully-connected",
            Self::CondConv => "cond-conv",
            Self::CondFullyConnected => "cond-fully-connected",
            Self::Dcgan64Conv => "dcgan64-conv",
            Self::Dcgan64SmallConv => "dcgan64-small-conv",
            Self::ResnetCritic => "resnet-critic",
        }
    }

    /// Returns whether the architecture can normalise its hidden layers with batch
    /// normalisation: the fully connected, conditional and 64×64 discriminators, which
    /// the reference code normalises. The CPU preset's, the WGAN-GP critic and the ResNet
    /// critic have none.
    pub fn supports_batch_norm(self) -> bool {
        matches!(
            self,
            Self::FullyConnected
                | Self::CondConv
                | Self::CondFullyConnected
                | Self::Dcgan64Conv
                | Self::Dcgan64SmallConv
        )
    }

    /// Returns whether the architecture's width can be set: the WGAN-GP critic only.
    pub fn supports_width(self) -> bool {
        self == Self::WganConv
    }

    /// Builds the discriminator under `path` for input of shape `input`, with batch
    /// normalisation when `batch_norm` is true (an error unless
    /// [`DiscriminatorArch::supports_batch_norm`]); a conditional one takes the
    /// conditional model's classes.
    pub fn build(
        self,
        path: nn::Path,
        input: &[i64],
        batch_norm: bool,
    ) -> Result<Box<dyn Discriminator>, ModelError> {
        self.build_with_width(path, input, batch_norm, None)
    }

    /// [`DiscriminatorArch::build`] with `width` channels in the first convolution, if
    /// given (an error unless [`DiscriminatorArch::supports_width`]).
    pub fn build_with_width(
        self,
        path: nn::Path,
        input: &[i64],
        batch_norm: bool,
        width: Option<i64>,
    ) -> Result<Box<dyn Discriminator>, ModelError> {
        if batch_norm && !self.supports_batch_norm() {
            return Err(ModelError::NoBatchNorm {
                discriminator: self.name(),
            });
        }
        if let Some(width) = width.filter(|_| !self.supports_width()) {
            return Err(ModelError::Width { width });
        }
        let classes = cond_dcgan28::CLASSES;
        let norm = batch_norm;
        Ok(match self {
            Self::DcganConv => Box::new(dcgan28::Discriminator::new(path, input)?),
            Self::WganConv => Box::new(wgan28::Discriminator::with_width(
                path,
                input,
                width.unwrap_or(wgan28::CRITIC_WIDTH),
            )?),
            Self::FullyConnected => Box::new(fc_disc::Discriminator::new(path, input, norm)?),
            Self::CondConv => Box::new(cond_dcgan28::Discriminator::new(
                path, input, classes, norm,
            )?),
            Self::CondFullyConnected => Box::new(cond_fc_disc::Discriminator::new(
                path, input, classes, norm,
            )?),
            Self::Dcgan64Conv => Box::new(dcgan64::Discriminator::new(
                path,
                input,
                dcgan64::PAPER_WIDTH,
                norm,
            )?),
            Self::Dcgan64SmallConv => Box::new(dcgan64::Discriminator::new(
                path,
                input,
                dcgan64::SMALL_WIDTH,
                norm,
            )?),
            Self::ResnetCritic => Box::new(acwgan32::Discriminator::new(path, input)?),
        })
    }
}

/// Returns whether `shape` is `side`×`side` with 1 to 4 channels.
fn is_image(shape: Shape, side: usize) -> bool {
    shape.height == side && shape.width == side && (1..=4).contains(&shape.channels)
}
