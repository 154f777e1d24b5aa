//! The resolved configuration of a training run, as stored in the run folder's
//! `config.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ambient_core::measure::{Interpolation, MeasurementKind, MeasurementParams};
use serde::{Deserialize, Serialize};

use super::precision::Precision;
use crate::model::{DiscriminatorArch, GeneratorArch, LatentDistribution, Preset};

/// The comparison the discriminator makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Mode {
    /// AmbientGAN: `f_θ(G(z))` against real measurements, θ drawn independently for each.
    Ambient,
    /// No measurement: `G(z)` against clean images (the reference upper bound).
    Clean,
    /// The baseline that ignores the measurement: `G(z)` against real measurements.
    Ignore,
    /// The baseline that repairs measurements with a classical method first.
    Unmeasure,
}

impl Mode {
    /// Returns the command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ambient => "ambient",
            Self::Clean => "clean",
            Self::Ignore => "ignore",
            Self::Unmeasure => "unmeasure",
        }
    }
}

/// The adversarial loss (`--loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Loss {
    /// The non-saturating GAN loss: sigmoid cross-entropy on logits, with the generator
    /// maximising `log D(fake)`.
    NonSaturating,
    /// The Wasserstein loss with a gradient penalty on interpolated discriminator inputs.
    WganGp,
    /// WGAN-GP with an auxiliary classifier (ACGAN): the critic also learns the real
    /// batch's classes and the generator makes its classes recognisable.
    AcWganGp,
}

impl Loss {
    /// Returns the name used in config.json and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::NonSaturating => "non-saturating",
            Self::WganGp => "wgan-gp",
            Self::AcWganGp => "ac-wgan-gp",
        }
    }

    /// Returns whether the critic's loss carries a gradient penalty, weighted by
    /// `gp_lambda`.
    pub fn has_penalty(self) -> bool {
        matches!(self, Self::WganGp | Self::AcWganGp)
    }
}

/// The source of the batches of one step's discriminator updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CriticBatches {
    /// Every update of the step reuses the step's real batch, latent vectors and θ, as the
    /// reference MNIST and CelebA code does.
    #[default]
    Shared,
    /// Each update draws its own real batch, θ, latent vectors and generated classes, as
    /// the reference CIFAR-10 code does. The generator update reuses the last one's.
    Fresh,
}

impl CriticBatches {
    /// Returns the command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Shared => "shared",
            Self::Fresh => "fresh",
        }
    }
}

/// Every option of a training run after defaults, presets and the data have been applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The training data: an MNIST-style folder or a measurement record file.
    pub data: PathBuf,
    /// `"images"` (measured on the fly) or `"measurements"` (recorded).
    pub data_kind: String,
    /// The side the images were resized to after loading; absent when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// The number of images kept from the data set; absent when all were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_images: Option<usize>,
    /// Number of training examples.
    pub examples: usize,
    /// The measurement's command-line name (`block-pixels`...).
    pub measurement: String,
    /// Every measurement parameter, by its `--param` key.
    pub params: BTreeMap<String, String>,
    /// The comparison the discriminator makes.
    pub mode: Mode,
    /// The classical repair of `unmeasure` mode (`blur`, `median`, `tv`, `wiener` or
    /// `inpaint`); absent in the other modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasure: Option<String>,
    /// The model preset.
    pub preset: Preset,
    /// The model (`--model`): the generator's architecture.
    pub generator: GeneratorArch,
    /// The discriminator's architecture.
    pub discriminator: DiscriminatorArch,
    /// Whether the discriminator has batch normalisation, each call normalised by its own
    /// batch; false in runs from before the option.
    #[serde(default)]
    pub discriminator_batch_norm: bool,
    /// The channels of the WGAN-GP critic's first convolution (`--critic-width`); `None`
    /// keeps the architecture's own, as in runs from before the option.
    #[serde(default)]
    pub critic_width: Option<i64>,
    /// The adversarial loss.
    pub loss: Loss,
    /// Latent size.
    pub latent_dim: i64,
    /// Latent distribution.
    pub latent: LatentDistribution,
    /// Clean image shape `[C, H, W]`.
    pub image_shape: [usize; 3],
    /// Shape of one measurement (`[C, H, W]` or `[L]`).
    pub measurement_shape: Vec<i64>,
    /// Shape of the discriminator's input.
    pub discriminator_input: Vec<i64>,
    /// Images per batch.
    pub batch: usize,
    /// Generator updates in the whole run.
    pub steps: u64,
    /// Discriminator updates per generator update.
    pub critic_steps: u32,
    /// Generator updates per step, after its discriminator updates, each on the step's
    /// latent vectors and θ; 1 in runs from before the option.
    #[serde(default = "one")]
    pub generator_steps: u32,
    /// The source of the batches of a step's discriminator updates. Runs from before the
    /// option read as shared.
    #[serde(default)]
    pub critic_batches: CriticBatches,
    /// Adam learning rate of the generator.
    pub lr_generator: f64,
    /// Adam learning rate of the discriminator.
    pub lr_discriminator: f64,
    /// Steps over which both learning rates decay linearly to 0: step `t` (from 1) uses
    /// `lr · max(0, 1 − (t − 1) / lr_decay_steps)`. 0 keeps them constant, as in runs from
    /// before the option.
    #[serde(default)]
    pub lr_decay_steps: u64,
    /// Adam β1.
    pub beta1: f64,
    /// Adam β2.
    pub beta2: f64,
    /// Adam ε.
    pub adam_eps: f64,
    /// Gradient penalty weight λ (WGAN-GP only).
    pub gp_lambda: f64,
    /// Critic updates per gradient penalty: the penalty is taken on every `gp_every`-th
    /// update with weight `λ · gp_every` and skipped on the others. Runs from before the
    /// option take it on every update.
    #[serde(default = "one")]
    pub gp_every: u32,
    /// The arithmetic of the forward passes; f32 in runs from before the option.
    #[serde(default)]
    pub precision: Precision,
    /// Whether image i of a draw's generated batch is measured with the θ of image i of
    /// its real batch instead of its own θ. Runs from before the option have false.
    #[serde(default)]
    pub shared_theta: bool,
    /// Target of the discriminator on real examples (1 without label smoothing).
    pub real_label: f64,
    /// Decay of the generator's moving average, which samples, evaluation and export use;
    /// 0 keeps no average (runs from before the option have none).
    #[serde(default)]
    pub ema: f64,
    /// The run's seed: torch's seed and the root of every θ seed.
    pub seed: u64,
    /// The device trained on (`cpu`, `cuda:0`).
    pub device: String,
    /// CPU threads libtorch uses.
    pub threads: i32,
    /// Steps between sample grids.
    pub sample_every: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Steps between metric lines (and log lines when stderr is not a terminal).
    pub log_every: u64,
    /// Images in each sample grid.
    pub grid_images: usize,
    /// Version of the program that wrote the configuration.
    pub version: String,
}

fn one() -> u32 {
    1
}

/// Options that may change when a run is resumed; every other one must match.
const RESUMABLE_FIELDS: [&str; 7] = [
    "steps",
    "device",
    "threads",
    "sample_every",
    "checkpoint_every",
    "log_every",
    "version",
];

impl TrainConfig {
    /// Returns the penalty weight of critic update `update` (from 1, counted over the run):
    /// `λ · gp_every` on every `gp_every`-th update, starting with the first, else 0.
    pub fn gp_weight(&self, update: u64) -> f64 {
        let every = u64::from(self.gp_every.max(1));
        if update.saturating_sub(1) % every == 0 {
            self.gp_lambda * every as f64
        } else {
            0.0
        }
    }

    /// Returns the factor of both learning rates at step `step` (from 1): 1 without decay,
    /// else `max(0, 1 − (step − 1) / lr_decay_steps)`.
    pub fn lr_factor(&self, step: u64) -> f64 {
        if self.lr_decay_steps == 0 {
            return 1.0;
        }
        let done = step.saturating_sub(1) as f64;
        (1.0 - done / self.lr_decay_steps as f64).max(0.0)
    }

    /// Returns the name of the first option that differs between `self` and `stored` and
    /// that must match for a run to continue on the same curve, with both values.
    pub fn curve_difference(&self, stored: &TrainConfig) -> Option<(String, String, String)> {
        let ours = serde_json::to_value(self).ok()?;
        let theirs = serde_json::to_value(stored).ok()?;
        let (ours, theirs) = (ours.as_object()?, theirs.as_object()?);
        ours.iter()
            .filter(|(key, _)| !RESUMABLE_FIELDS.contains(&key.as_str()))
            .find(|(key, value)| theirs.get(key.as_str()) != Some(value))
            .map(|(key, value)| {
                let stored = theirs
                    .get(key.as_str())
                    .map_or("missing".into(), |v| v.to_string());
                (key.clone(), stored, value.to_string())
            })
    }
}

/// Returns every measurement parameter as `--param` key and value strings.
pub fn params_map(params: &MeasurementParams) -> BTreeMap<String, String> {
    let interp = match params.interpolation {
        Interpolation::Nearest => "nearest",
        Interpolation::Bilinear => "bilinear",
        _ => "other",
    };
    let pad = params
        .pad
        .map_or_else(|| "auto".to_string(), |p| p.to_string());
    [
        ("p", params.p.to_string()),
        ("rescale", params.rescale.to_string()),
        ("per_channel", params.per_channel.to_string()),
        ("k", params.patch.to_string()),
        ("size", params.kernel_size.to_string()),
        ("sigma", params.sigma.to_string()),
        ("noise", params.noise_std.to_string()),
        ("pad", pad),
        ("angles", params.angles.to_string()),
        ("interp", interp.to_string()),
        ("m", params.projections.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Rebuilds measurement parameters from [`params_map`]'s output.
pub fn params_from_map(
    map: &BTreeMap<String, String>,
) -> Result<MeasurementParams, ambient_core::measure::MeasureError> {
    let mut params = MeasurementParams::default();
    for (key, value) in map {
        if key == "pad" && value == "auto" {
            params.pad = None;
            continue;
        }
        params.set(key, value)?;
    }
    Ok(params)
}

/// Returns the measurement kind of a stored configuration.
pub fn kind_of(
    config: &TrainConfig,
) -> Result<MeasurementKind, ambient_core::measure::MeasureError> {
    MeasurementKind::from_name(&config.measurement)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config.json written before the batch-norm, generator-step, critic-batch and
    /// learning-rate-decay options.
    const CONFIG_V0: &str = include_str!("../../tests/data/config-v0.json");

    #[test]
    fn old_config_gets_old_defaults() {
        let config: TrainConfig = serde_json::from_str(CONFIG_V0).unwrap();
        assert!(!config.discriminator_batch_norm);
        assert_eq!(config.generator_steps, 1);
        assert_eq!(config.critic_batches, CriticBatches::Shared);
        assert_eq!(config.lr_decay_steps, 0);
    }

    #[test]
    fn gp_weight_every_nth_update() {
        let mut config: TrainConfig = serde_json::from_str(CONFIG_V0).unwrap();
        assert_eq!(config.gp_every, 1);
        config.gp_lambda = 10.0;
        assert_eq!(config.gp_weight(1), 10.0);
        assert_eq!(config.gp_weight(2), 10.0);

        // Every 4th update from the first, weighted 4λ: updates 1, 5, 9...
        config.gp_every = 4;
        let weights: Vec<f64> = (1..=9).map(|u| config.gp_weight(u)).collect();
        assert_eq!(weights, [40.0, 0.0, 0.0, 0.0, 40.0, 0.0, 0.0, 0.0, 40.0]);
    }

    #[test]
    fn lr_factor_is_linear_to_zero() {
        let mut config: TrainConfig = serde_json::from_str(CONFIG_V0).unwrap();
        assert_eq!(config.lr_decay_steps, 0);
        assert_eq!(config.lr_factor(70_000), 1.0);
        config.lr_decay_steps = 100_000;
        assert_eq!(config.lr_factor(1), 1.0);
        assert_eq!(config.lr_factor(50_001), 0.5);
        assert_eq!(config.lr_factor(100_001), 0.0);
        assert_eq!(config.lr_factor(250_000), 0.0);
    }
}
