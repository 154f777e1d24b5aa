//! Turns the options of a `train` command into a complete [`TrainConfig`]: the preset's
//! defaults, the run's stored values when resuming, and what the data implies.

use std::path::PathBuf;

use ambient_core::measure::{MeasurementKind, MeasurementParams, Operator};
use tch::Device;

use super::config::{params_map, CriticBatches, Loss, Mode, TrainConfig};
use super::precision::Precision;
use super::TrainError;
use crate::data::TrainingData;
use crate::measure::TchMeasurement;
use crate::model::{DiscriminatorArch, GeneratorArch, Preset};
use crate::unmeasure::Repair;

/// The options of a training run as given; `None` means "the default" (or, when resuming,
/// "the run's value").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainRequest {
    /// Training data: an MNIST-style folder or a record file.
    pub data: Option<PathBuf>,
    /// Measurement name.
    pub measurement: Option<String>,
    /// `--param key=value` pairs, applied in order.
    pub params: Vec<(String, String)>,
    /// Mode.
    pub mode: Option<Mode>,
    /// The repair of `unmeasure` mode.
    pub unmeasure: Option<Repair>,
    /// Preset.
    pub preset: Option<Preset>,
    /// The model; `None` lets the preset and the image shape choose.
    pub model: Option<GeneratorArch>,
    /// The side to resize the images to after loading.
    pub image_size: Option<usize>,
    /// The number of images to keep from the data set.
    pub max_images: Option<usize>,
    /// Total generator steps.
    pub steps: Option<u64>,
    /// Batch size.
    pub batch: Option<usize>,
    /// Discriminator updates per generator update.
    pub critic_steps: Option<u32>,
    /// Generator updates per step.
    pub generator_steps: Option<u32>,
    /// The source of the batches of a step's discriminator updates.
    pub critic_batches: Option<CriticBatches>,
    /// Whether the discriminator has batch normalisation.
    pub discriminator_batch_norm: Option<bool>,
    /// The channels of the WGAN-GP critic's first convolution; `None` keeps its own.
    pub critic_width: Option<i64>,
    /// The adversarial loss; `None` takes the preset's for the model.
    pub loss: Option<Loss>,
    /// Generator learning rate.
    pub lr_generator: Option<f64>,
    /// Discriminator learning rate.
    pub lr_discriminator: Option<f64>,
    /// Steps over which the learning rates decay linearly to 0 (0: constant).
    pub lr_decay_steps: Option<u64>,
    /// Adam β1.
    pub beta1: Option<f64>,
    /// Adam β2.
    pub beta2: Option<f64>,
    /// Gradient penalty weight.
    pub gp_lambda: Option<f64>,
    /// Critic updates per gradient penalty.
    pub gp_every: Option<u32>,
    /// The arithmetic of the forward passes.
    pub precision: Option<Precision>,
    /// Whether generated and real batches share their θ.
    pub shared_theta: Option<bool>,
    /// Discriminator target on real examples.
    pub real_label: Option<f64>,
    /// Decay of the generator's moving average (0: none).
    pub ema: Option<f64>,
    /// Run seed.
    pub seed: Option<u64>,
    /// CPU threads.
    pub threads: Option<i32>,
    /// Steps between grids.
    pub sample_every: Option<u64>,
    /// Steps between checkpoints.
    pub checkpoint_every: Option<u64>,
    /// Steps between log lines.
    pub log_every: Option<u64>,
    /// Images per grid.
    pub grid_images: Option<usize>,
}

/// The default measurement: Block-Pixels with the core's default `p = 0.9`.
pub const DEFAULT_MEASUREMENT: &str = "block-pixels";

/// The default seed.
pub const DEFAULT_SEED: u64 = 0;

/// The gradient penalty's default weight λ, the value the AmbientGAN reference code
/// trains its MNIST and CIFAR-10 critics with.
pub const DEFAULT_GP_LAMBDA: f64 = 10.0;

/// The widest critic `--critic-width` accepts. At 1,024 the third convolution alone has
/// about 210 million weights (840 MB in f32), so a larger value is most likely a typo.
pub const MAX_CRITIC_WIDTH: i64 = 1024;

struct PresetDefaults {
    loss: Loss,
    steps: u64,
    batch: usize,
    critic_steps: u32,
    generator_steps: u32,
    critic_batches: CriticBatches,
    lr: f64,
    lr_decay_steps: u64,
    beta1: f64,
    beta2: f64,
    ema: f64,
}

/// Returns the hyperparameters of `preset` for `model`. The paper preset follows the
/// reference code for each model: its conditional and 64×64 DCGANs train with the
/// non-saturating loss. The ACWGAN-GP trains with its own loss under either preset.
fn preset_defaults(preset: Preset, model: GeneratorArch) -> PresetDefaults {
    match (preset, model) {
        (Preset::Paper, GeneratorArch::CondDcgan28) => PresetDefaults {
            loss: Loss::NonSaturating,
            steps: 27_000,
            batch: 64,
            generator_steps: 1,
            critic_batches: CriticBatches::Shared,
            lr_decay_steps: 0,
            critic_steps: 5,
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.9999,
            ema: 0.0,
        },
        // The reference CelebA code makes two generator updates per discriminator update,
        // both on the same latent vectors.
        (Preset::Paper, GeneratorArch::Dcgan64 | GeneratorArch::Dcgan64Small) => PresetDefaults {
            loss: Loss::NonSaturating,
            steps: 70_000,
            batch: 64,
            generator_steps: 2,
            critic_batches: CriticBatches::Shared,
            lr_decay_steps: 0,
            critic_steps: 1,
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            ema: 0.0,
        },
        // The reference CIFAR-10 code decays the learning rate linearly to 0 over 100,000
        // iterations (so it ends its 50,000 at half the rate) and draws a fresh real batch
        // and θ for each critic update.
        (preset, GeneratorArch::Acwgan32) => PresetDefaults {
            loss: Loss::AcWganGp,
            steps: if preset == Preset::Paper {
                50_000
            } else {
                3000
            },
            batch: 64,
            generator_steps: 1,
            critic_batches: CriticBatches::Fresh,
            lr_decay_steps: 100_000,
            critic_steps: 5,
            lr: 2e-4,
            beta1: 0.0,
            beta2: 0.9,
            ema: 0.0,
        },
        (Preset::Cpu, _) => PresetDefaults {
            loss: Loss::NonSaturating,
            steps: 3000,
            batch: 64,
            generator_steps: 1,
            critic_batches: CriticBatches::Shared,
            lr_decay_steps: 0,
            critic_steps: 1,
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            ema: 0.0,
        },
        (Preset::Paper, _) => PresetDefaults {
            loss: Loss::WganGp,
            steps: 27_000,
            batch: 64,
            generator_steps: 1,
            critic_batches: CriticBatches::Shared,
            lr_decay_steps: 0,
            critic_steps: 5,
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.9999,
            ema: 0.0,
        },
    }
}

impl TrainRequest {
    /// Fills every option left unset with the value `stored` ran with, so that
    /// `train --out RUN --resume` continues the run as it was configured.
    pub fn fill_from(&mut self, stored: &TrainConfig) {
        self.data.get_or_insert_with(|| stored.data.clone());
        self.measurement
            .get_or_insert_with(|| stored.measurement.clone());
        let mut params: Vec<(String, String)> = stored.params.clone().into_iter().collect();
        params.append(&mut self.params);
        self.params = params;
        self.mode.get_or_insert(stored.mode);
        if self.unmeasure.is_none() {
            self.unmeasure = stored.unmeasure.as_deref().and_then(|n| n.parse().ok());
        }
        self.preset.get_or_insert(stored.preset);
        self.model.get_or_insert(stored.generator);
        if self.image_size.is_none() {
            self.image_size = stored.image_size;
        }
        if self.max_images.is_none() {
            self.max_images = stored.max_images;
        }
        self.steps.get_or_insert(stored.steps);
        self.batch.get_or_insert(stored.batch);
        self.critic_steps.get_or_insert(stored.critic_steps);
        self.generator_steps.get_or_insert(stored.generator_steps);
        self.critic_batches.get_or_insert(stored.critic_batches);
        self.discriminator_batch_norm
            .get_or_insert(stored.discriminator_batch_norm);
        if self.critic_width.is_none() {
            self.critic_width = stored.critic_width;
        }
        self.loss.get_or_insert(stored.loss);
        self.lr_generator.get_or_insert(stored.lr_generator);
        self.lr_discriminator.get_or_insert(stored.lr_discriminator);
        self.lr_decay_steps.get_or_insert(stored.lr_decay_steps);
        self.beta1.get_or_insert(stored.beta1);
        self.beta2.get_or_insert(stored.beta2);
        self.gp_lambda.get_or_insert(stored.gp_lambda);
        self.gp_every.get_or_insert(stored.gp_every);
        self.precision.get_or_insert(stored.precision);
        self.shared_theta.get_or_insert(stored.shared_theta);
        self.real_label.get_or_insert(stored.real_label);
        self.ema.get_or_insert(stored.ema);
        self.seed.get_or_insert(stored.seed);
        self.sample_every.get_or_insert(stored.sample_every);
        self.checkpoint_every.get_or_insert(stored.checkpoint_every);
        self.log_every.get_or_insert(stored.log_every);
        self.grid_images.get_or_insert(stored.grid_images);
    }
}

/// Resolves `request` against the opened `data` for training on `device`, returning the
/// configuration and the measurement operator.
pub fn resolve(
    request: &TrainRequest,
    data: &TrainingData,
    device: Device,
) -> Result<(TrainConfig, Operator), TrainError> {
    let mode = request.mode.unwrap_or(Mode::Ambient);
    let operator = resolve_operator(request, data)?;
    let unmeasure = resolve_repair(request, mode, data, &operator)?;
    let measurement = TchMeasurement::new(operator.clone());
    let measurement_shape = measurement.output_shape();
    let image = data.image_shape();
    let image_dims = [image.channels, image.height, image.width];
    let image_shape: Vec<i64> = image_dims.iter().map(|&d| d as i64).collect();
    check_mode(mode, data, &measurement_shape, &image_shape)?;

    let preset = request.preset.unwrap_or(Preset::Cpu);
    let generator = request
        .model
        .unwrap_or_else(|| GeneratorArch::for_data(preset, image));
    check_model(generator, data)?;
    let defaults = preset_defaults(preset, generator);
    let discriminator_input = match mode {
        Mode::Ambient => measurement_shape.clone(),
        _ => image_shape.clone(),
    };
    let (latent_dim, latent) = generator.latent();
    let batch = request.batch.unwrap_or(defaults.batch);
    check_counts(request, batch, data.len())?;

    let lr = request.lr_generator.unwrap_or(defaults.lr);
    let discriminator = DiscriminatorArch::for_model(generator, preset, &discriminator_input)?;
    let loss = resolve_loss(request, defaults.loss, generator, discriminator)?;
    let discriminator_batch_norm = resolve_discriminator_norm(request, discriminator, loss, batch)?;
    let critic_width = resolve_critic_width(request, discriminator)?;
    let precision = request.precision.unwrap_or_default();
    precision.check_device(device)?;
    let shared_theta = resolve_shared_theta(request, mode, data)?;
    let default_gp_lambda = if loss.has_penalty() {
        DEFAULT_GP_LAMBDA
    } else {
        0.0
    };
    let config = TrainConfig {
        data: request
            .data
            .clone()
            .unwrap_or_else(crate::data::builtin_dir),
        data_kind: data.kind_name().to_string(),
        image_size: request.image_size,
        max_images: request.max_images,
        examples: data.len(),
        measurement: operator.kind().name().to_string(),
        params: resolved_params(request, data)?,
        mode,
        unmeasure: unmeasure.map(|r| r.name().to_string()),
        preset,
        generator,
        discriminator,
        discriminator_batch_norm,
        critic_width,
        loss,
        latent_dim,
        latent,
        image_shape: image_dims,
        measurement_shape,
        discriminator_input,
        batch,
        steps: request.steps.unwrap_or(defaults.steps),
        critic_steps: request.critic_steps.unwrap_or(defaults.critic_steps),
        generator_steps: request.generator_steps.unwrap_or(defaults.generator_steps),
        critic_batches: request.critic_batches.unwrap_or(defaults.critic_batches),
        lr_generator: lr,
        lr_discriminator: request.lr_discriminator.unwrap_or(lr),
        lr_decay_steps: request.lr_decay_steps.unwrap_or(defaults.lr_decay_steps),
        beta1: request.beta1.unwrap_or(defaults.beta1),
        beta2: request.beta2.unwrap_or(defaults.beta2),
        adam_eps: 1e-8,
        gp_lambda: request.gp_lambda.unwrap_or(default_gp_lambda),
        gp_every: request.gp_every.unwrap_or(1),
        precision,
        shared_theta,
        real_label: request.real_label.unwrap_or(1.0),
        ema: request.ema.unwrap_or(defaults.ema),
        seed: request.seed.unwrap_or(DEFAULT_SEED),
        device: crate::device::device_name(device),
        threads: request.threads.unwrap_or_else(tch::get_num_threads),
        sample_every: request.sample_every.unwrap_or(500).max(1),
        checkpoint_every: request.checkpoint_every.unwrap_or(500).max(1),
        log_every: request.log_every.unwrap_or(100).max(1),
        grid_images: request.grid_images.unwrap_or(64).clamp(1, 1024),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    Ok((config, operator))
}

fn resolve_operator(request: &TrainRequest, data: &TrainingData) -> Result<Operator, TrainError> {
    match data {
        TrainingData::Images(set) => {
            let name = request
                .measurement
                .as_deref()
                .unwrap_or(DEFAULT_MEASUREMENT);
            let kind = MeasurementKind::from_name(name).map_err(|_| unknown_measurement(name))?;
            let params = request_params(request, MeasurementParams::default())?;
            Ok(Operator::new(kind, set.shape(), &params)?)
        }
        TrainingData::Measurements(set) => {
            let recorded = set.operator().kind().name();
            if let Some(name) = request.measurement.as_deref().filter(|&n| n != recorded) {
                return Err(TrainError::InvalidOption {
                    option: "--measurement",
                    reason: format!(
                        "{} was recorded with {recorded}, not {name}; drop --measurement",
                        set.source().display()
                    ),
                });
            }
            Ok(set.operator().clone())
        }
    }
}

/// Returns the repair of `unmeasure` mode: the one requested, or else the one the
/// reference code pairs with the measurement.
fn resolve_repair(
    request: &TrainRequest,
    mode: Mode,
    data: &TrainingData,
    operator: &Operator,
) -> Result<Option<Repair>, TrainError> {
    let invalid = |option, reason: String| TrainError::InvalidOption { option, reason };
    if mode != Mode::Unmeasure {
        return match request.unmeasure {
            Some(_) => Err(invalid(
                "--unmeasure",
                "it applies only with --mode unmeasure".into(),
            )),
            None => Ok(None),
        };
    }
    if matches!(data, TrainingData::Measurements(_)) {
        return Err(invalid(
            "--mode",
            "unmeasure mode measures clean images and repairs them with their θ; train on \
             an image folder, not a record file"
                .into(),
        ));
    }

    let kind = operator.kind();
    let repair = request
        .unmeasure
        .or_else(|| Repair::default_for(kind))
        .ok_or_else(|| {
            invalid(
                "--unmeasure",
                format!(
                    "{} has no default repair; pass one of blur, median, tv, wiener, inpaint",
                    kind.name()
                ),
            )
        })?;
    repair
        .check_applies(kind)
        .map_err(|e| invalid("--unmeasure", e.to_string()))?;
    Ok(Some(repair))
}

fn resolved_params(
    request: &TrainRequest,
    data: &TrainingData,
) -> Result<std::collections::BTreeMap<String, String>, TrainError> {
    match data {
        TrainingData::Images(_) => Ok(params_map(&request_params(
            request,
            MeasurementParams::default(),
        )?)),
        TrainingData::Measurements(set) => {
            let recorded = params_map(set.params());
            let requested = params_map(&request_params(request, *set.params())?);
            if let Some((key, value)) = requested.iter().find(|(k, v)| recorded.get(*k) != Some(v))
            {
                return Err(TrainError::InvalidOption {
                    option: "--param",
                    reason: format!(
                        "{} was recorded with {key}={}, not {value}; drop --param {key}",
                        set.source().display(),
                        recorded.get(key).map_or("unset", |v| v.as_str()),
                    ),
                });
            }
            Ok(recorded)
        }
    }
}

fn request_params(
    request: &TrainRequest,
    mut params: MeasurementParams,
) -> Result<MeasurementParams, TrainError> {
    for (key, value) in &request.params {
        // "auto" is how config.json stores the default padding, so a resumed run sends it.
        if key == "pad" && value == "auto" {
            params.pad = None;
            continue;
        }
        params
            .set(key, value)
            .map_err(|e| TrainError::InvalidOption {
                option: "--param",
                reason: format!(
                    "{key}={value}: {e}; the keys are {}",
                    MeasurementParams::KEYS.join(", ")
                ),
            })?;
    }
    Ok(params)
}

fn unknown_measurement(name: &str) -> TrainError {
    let names: Vec<&str> = MeasurementKind::ALL.iter().map(|k| k.name()).collect();
    TrainError::InvalidOption {
        option: "--measurement",
        reason: format!(
            "unknown measurement {name}; the measurements are {}",
            names.join(", ")
        ),
    }
}

fn check_mode(
    mode: Mode,
    data: &TrainingData,
    measurement_shape: &[i64],
    image_shape: &[i64],
) -> Result<(), TrainError> {
    if mode == Mode::Clean && matches!(data, TrainingData::Measurements(_)) {
        return Err(TrainError::InvalidOption {
            option: "--mode",
            reason: "clean mode needs clean images, and a record file holds only measurements"
                .into(),
        });
    }
    if mode == Mode::Ignore && measurement_shape != image_shape {
        return Err(TrainError::InvalidOption {
            option: "--mode",
            reason: format!(
                "ignore mode compares generated images with raw measurements, so the \
                 measurement must be image-shaped {image_shape:?}; this one gives \
                 {measurement_shape:?}"
            ),
        });
    }
    Ok(())
}

/// Checks that `model` produces the data's image size and, when it is conditional, that
/// every training image has a label it can take.
fn check_model(model: GeneratorArch, data: &TrainingData) -> Result<(), TrainError> {
    let shape = data.image_shape();
    let side = model.side();
    if shape.height != side || shape.width != side {
        return Err(TrainError::InvalidOption {
            option: "--model",
            reason: format!(
                "{} produces {side}×{side} images and {} holds {}×{}; pick another model \
                 or pass --image-size {side}",
                model.name(),
                data.source().display(),
                shape.height,
                shape.width
            ),
        });
    }
    let classes = model.classes();
    if classes == 0 {
        return Ok(());
    }
    let labels = match data {
        TrainingData::Images(set) => set.labels(),
        _ => None,
    };
    // NOTE: a conditional model trains on labelled images only; record files carry no
    // class here.
    let Some(labels) = labels else {
        return Err(TrainError::InvalidOption {
            option: "--model",
            reason: format!(
                "{} is conditional and {} has no class labels (an MNIST-style folder needs \
                 train-labels-idx1-ubyte)",
                model.name(),
                data.source().display()
            ),
        });
    };
    if let Some(&label) = labels.iter().find(|&&l| i64::from(l) >= classes) {
        return Err(TrainError::InvalidOption {
            option: "--model",
            reason: format!(
                "{} takes {classes} classes; the data has label {label}",
                model.name()
            ),
        });
    }
    Ok(())
}

/// Returns the adversarial loss: the requested one, or else the preset's for the model.
/// The auxiliary-classifier loss needs the critic with an auxiliary classifier, and that
/// critic trains with no other loss. The penalty's weight and period and the real label
/// apply only to the losses that have them, so a value that would change nothing is
/// rejected.
fn resolve_loss(
    request: &TrainRequest,
    default: Loss,
    generator: GeneratorArch,
    discriminator: DiscriminatorArch,
) -> Result<Loss, TrainError> {
    let loss = request.loss.unwrap_or(default);
    let invalid = |option, reason: String| Err(TrainError::InvalidOption { option, reason });
    let auxiliary = discriminator == DiscriminatorArch::ResnetCritic;
    if auxiliary != (loss == Loss::AcWganGp) {
        let reason = if auxiliary {
            format!(
                "{} trains its auxiliary classifier with the ac-wgan-gp loss only, not {}",
                generator.name(),
                loss.name()
            )
        } else {
            format!(
                "ac-wgan-gp needs a critic with an auxiliary classifier (--model acwgan32), \
                 and {} has none",
                generator.name()
            )
        };
        return invalid("--loss", reason);
    }
    if request.gp_lambda.is_some_and(|l| l != 0.0) && !loss.has_penalty() {
        return invalid(
            "--gp-lambda",
            format!(
                "the {} loss has no gradient penalty; pass --loss wgan-gp",
                loss.name()
            ),
        );
    }
    if request.gp_every == Some(0) {
        let reason = "must be at least 1 (1 takes the penalty on every update)";
        return invalid("--gp-every", reason.into());
    }
    if request.gp_every.is_some_and(|n| n != 1) && !loss.has_penalty() {
        return invalid(
            "--gp-every",
            format!(
                "the {} loss has no gradient penalty; pass --loss wgan-gp",
                loss.name()
            ),
        );
    }
    if request.real_label.is_some_and(|r| r != 1.0) && loss != Loss::NonSaturating {
        return invalid(
            "--real-label",
            format!(
                "the {} loss has no real label; only non-saturating has one",
                loss.name()
            ),
        );
    }
    Ok(loss)
}

/// Returns whether the discriminator gets batch normalisation: as requested, or by
/// default wherever the architecture has it and the loss is the non-saturating one. The
/// gradient penalty of the WGAN losses is taken per example, which batch statistics
/// would couple.
fn resolve_discriminator_norm(
    request: &TrainRequest,
    discriminator: DiscriminatorArch,
    loss: Loss,
    batch: usize,
) -> Result<bool, TrainError> {
    let invalid = |reason: String| TrainError::InvalidOption {
        option: "--discriminator-batch-norm",
        reason,
    };
    let default = discriminator.supports_batch_norm() && loss == Loss::NonSaturating;
    let batch_norm = request.discriminator_batch_norm.unwrap_or(default);
    if !batch_norm {
        return Ok(false);
    }
    if !discriminator.supports_batch_norm() {
        return Err(invalid(format!(
            "the {} discriminator has no batch normalisation",
            discriminator.name()
        )));
    }
    if loss != Loss::NonSaturating {
        return Err(invalid(format!(
            "the {} loss takes its gradient penalty per example, and batch normalisation \
             mixes the examples of a batch; pass --discriminator-batch-norm false",
            loss.name()
        )));
    }
    if batch < 2 {
        return Err(TrainError::InvalidOption {
            option: "--batch",
            reason: format!(
                "{batch} is too small for a discriminator with batch normalisation, which \
                 needs at least 2 examples per batch; pass --discriminator-batch-norm false"
            ),
        });
    }
    Ok(true)
}

/// Returns `--critic-width`, which only the WGAN-GP critic takes.
fn resolve_critic_width(
    request: &TrainRequest,
    discriminator: DiscriminatorArch,
) -> Result<Option<i64>, TrainError> {
    let Some(width) = request.critic_width else {
        return Ok(None);
    };
    let reason = if !discriminator.supports_width() {
        format!(
            "the {} discriminator has a fixed width; only the paper preset's critic \
             (wgan-conv) takes one",
            discriminator.name()
        )
    } else if !(1..=MAX_CRITIC_WIDTH).contains(&width) {
        format!("{width} must be between 1 and {MAX_CRITIC_WIDTH} channels")
    } else {
        return Ok(Some(width));
    };
    Err(TrainError::InvalidOption {
        option: "--critic-width",
        reason,
    })
}

/// Returns `--shared-theta`, which needs the trainer to draw the real batch's θ: an
/// `ambient` run on clean images.
fn resolve_shared_theta(
    request: &TrainRequest,
    mode: Mode,
    data: &TrainingData,
) -> Result<bool, TrainError> {
    let shared = request.shared_theta.unwrap_or(false);
    if !shared {
        return Ok(false);
    }
    let reason = match (mode, data) {
        (Mode::Ambient, TrainingData::Images(_)) => return Ok(true),
        (Mode::Ambient, TrainingData::Measurements(_)) => {
            "the θ of a measured data set is unknown, so it cannot be shared"
        }
        _ => "only `--mode ambient` measures the generated batch",
    };
    Err(TrainError::InvalidOption {
        option: "--shared-theta",
        reason: reason.into(),
    })
}

fn check_counts(request: &TrainRequest, batch: usize, examples: usize) -> Result<(), TrainError> {
    if batch == 0 || batch > examples {
        return Err(TrainError::InvalidOption {
            option: "--batch",
            reason: format!("{batch} must be between 1 and the {examples} training examples"),
        });
    }
    if request.critic_steps == Some(0) {
        return Err(TrainError::InvalidOption {
            option: "--critic-steps",
            reason: "at least one discriminator update per step is needed".into(),
        });
    }
    if request.generator_steps == Some(0) {
        return Err(TrainError::InvalidOption {
            option: "--generator-steps",
            reason: "at least one generator update per step is needed".into(),
        });
    }
    if let Some(decay) = request.ema.filter(|d| !(0.0..1.0).contains(d)) {
        return Err(TrainError::InvalidOption {
            option: "--ema",
            reason: format!("{decay} must be at least 0 and below 1"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss_of(request: TrainRequest, discriminator: DiscriminatorArch) -> Result<Loss, String> {
        let generator = match discriminator {
            DiscriminatorArch::ResnetCritic => GeneratorArch::Acwgan32,
            _ => GeneratorArch::Dcgan28,
        };
        let default = preset_defaults(Preset::Cpu, generator).loss;
        resolve_loss(&request, default, generator, discriminator).map_err(|e| e.to_string())
    }

    #[test]
    fn loss_defaults_to_the_preset() {
        let request = TrainRequest::default();
        let conv = DiscriminatorArch::DcganConv;
        assert_eq!(loss_of(request.clone(), conv), Ok(Loss::NonSaturating));
        let critic = DiscriminatorArch::ResnetCritic;
        assert_eq!(loss_of(request, critic), Ok(Loss::AcWganGp));
    }

    #[test]
    fn wgan_gp_pairs_with_the_cpu_discriminator() {
        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            gp_lambda: Some(5.0),
            gp_every: Some(4),
            ..Default::default()
        };
        let loss = loss_of(request, DiscriminatorArch::DcganConv);
        assert_eq!(loss, Ok(Loss::WganGp));
    }

    #[test]
    fn auxiliary_loss_needs_the_auxiliary_critic() {
        let request = TrainRequest {
            loss: Some(Loss::AcWganGp),
            ..Default::default()
        };
        let error = loss_of(request, DiscriminatorArch::DcganConv).unwrap_err();
        assert!(error.contains("auxiliary classifier"), "{error}");

        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            ..Default::default()
        };
        let error = loss_of(request, DiscriminatorArch::ResnetCritic).unwrap_err();
        assert!(error.contains("ac-wgan-gp loss only"), "{error}");
    }

    #[test]
    fn other_loss_options_rejected() {
        let request = TrainRequest {
            gp_lambda: Some(10.0),
            ..Default::default()
        };
        let error = loss_of(request, DiscriminatorArch::DcganConv).unwrap_err();
        assert!(error.contains("--gp-lambda"), "{error}");

        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            real_label: Some(0.9),
            ..Default::default()
        };
        let error = loss_of(request, DiscriminatorArch::DcganConv).unwrap_err();
        assert!(error.contains("--real-label"), "{error}");

        let request = TrainRequest {
            gp_every: Some(4),
            ..Default::default()
        };
        let error = loss_of(request, DiscriminatorArch::DcganConv).unwrap_err();
        assert!(error.contains("--gp-every"), "{error}");

        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            gp_every: Some(0),
            ..Default::default()
        };
        let error = loss_of(request, DiscriminatorArch::DcganConv).unwrap_err();
        assert!(error.contains("at least 1"), "{error}");

        // A stored run of another loss contains these values, and they are accepted on resume.
        let request = TrainRequest {
            gp_lambda: Some(0.0),
            gp_every: Some(1),
            real_label: Some(1.0),
            ..Default::default()
        };
        let loss = loss_of(request, DiscriminatorArch::DcganConv);
        assert_eq!(loss, Ok(Loss::NonSaturating));
    }
}
