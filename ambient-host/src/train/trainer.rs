//! The training loop: batches, measurements, updates, grids, metrics and checkpoints.

use std::time::{Duration, Instant};

use ambient_core::format::ValueRange;
use ambient_core::measure::Operator;
use serde::Serialize;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::adam::Adam;
use super::checkpoint::{self, TrainingState};
use super::config::{CriticBatches, Loss, Mode, TrainConfig};
use super::ema::{self, Ema};
use super::precision::Autocast;
use super::progress::{Progress, ProgressKind};
use super::run_dir::{write_atomic, MetricsLog, RunDir};
use super::seeds::{seed_torch, stream_seed, BatchOrder, Stream};
use super::step::{self, CriticBatch, CriticLosses, StepLoss, StepLosses};
use super::TrainError;
use crate::data::TrainingData;
use crate::image_io::grid_png;
use crate::measure::TchMeasurement;
use crate::model::{class_rows, sample_latent, Discriminator, Generator, Labeled};
use crate::unmeasure::{Repair, TensorRepair};

/// One line of `metrics.jsonl`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StepRecord {
    /// The step (from 1).
    pub step: u64,
    /// The step's losses.
    #[serde(flatten)]
    pub losses: StepLosses,
    /// Wall time of the step in milliseconds, grids and checkpoints excluded.
    pub step_ms: f64,
}

/// The reason [`Trainer::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunEnd {
    /// Every configured step is done.
    Finished,
    /// The time limit passed before the last step. The run stopped after a step, with its
    /// samples and a checkpoint written, so `--resume` continues it.
    TimeLimit,
}

/// A training run in progress.
#[derive(Debug)]
pub struct Trainer {
    config: TrainConfig,
    run: RunDir,
    device: Device,
    data: TrainingData,
    measurement: TchMeasurement,
    gen_vars: VarStore,
    disc_vars: VarStore,
    generator: Box<dyn Generator>,
    discriminator: Box<dyn Discriminator>,
    adam_g: Adam,
    adam_d: Adam,
    /// The generator's moving average (`--ema`).
    ema: Option<Ema>,
    order: BatchOrder,
    done: u64,
    last: Option<StepLosses>,
    /// The repair of `unmeasure` mode, applied to every real measured batch.
    repair: Option<TensorRepair>,
    /// The training time after which [`Trainer::run`] stops (`--time-limit`).
    time_limit: Option<Duration>,
}

impl Trainer {
    /// Builds the models and optimisers of `config` on `device`, with initial weights
    /// drawn from the run seed.
    pub fn new(
        config: TrainConfig,
        operator: Operator,
        mut data: TrainingData,
        run: RunDir,
        device: Device,
    ) -> Result<Self, TrainError> {
        if let TrainingData::Images(set) = &mut data {
            set.to_range(config.generator.range())?;
            set.to_device(device)?;
        }
        let order = BatchOrder::new(config.seed, data.len(), config.batch).ok_or_else(|| {
            TrainError::InvalidOption {
                option: "--batch",
                reason: format!("{} exceeds the {} examples", config.batch, data.len()),
            }
        })?;

        let repair = unmeasure_repair(&config, &operator, &data)?;

        seed_torch(stream_seed(config.seed, Stream::Init, 0));
        let gen_vars = VarStore::new(device);
        let disc_vars = VarStore::new(device);
        let generator = config
            .generator
            .build(gen_vars.root() / "gen", data.image_shape())?;
        let discriminator = config.discriminator.build_with_width(
            disc_vars.root() / "disc",
            &config.discriminator_input,
            config.discriminator_batch_norm,
            config.critic_width,
        )?;
        let ema = if config.ema > 0.0 {
            let vars = VarStore::new(device);
            let averaged = config
                .generator
                .build(vars.root() / "gen", data.image_shape())?;
            Some(Ema::new(vars, averaged, &gen_vars, config.ema)?)
        } else {
            None
        };
        let adam =
            |vars: &VarStore, lr| Adam::new(vars, lr, config.beta1, config.beta2, config.adam_eps);
        Ok(Self {
            ema,
            adam_g: adam(&gen_vars, config.lr_generator),
            adam_d: adam(&disc_vars, config.lr_discriminator),
            measurement: TchMeasurement::new(operator),
            config,
            run,
            device,
            data,
            gen_vars,
            disc_vars,
            generator,
            discriminator,
            order,
            done: 0,
            last: None,
            repair,
            time_limit: None,
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Returns the range of the model's values, which the data was mapped to.
    fn range(&self) -> ValueRange {
        self.config.generator.range()
    }

    /// Returns the generator that samples and exports read: the moving average when the
    /// run keeps one.
    fn inference_generator(&self) -> &dyn Generator {
        match &self.ema {
            Some(average) => average.generator.as_ref(),
            None => self.generator.as_ref(),
        }
    }

    /// Returns the number of completed steps.
    pub fn completed_steps(&self) -> u64 {
        self.done
    }

    /// Returns the losses of the last completed step of this process.
    pub fn last_losses(&self) -> Option<StepLosses> {
        self.last
    }

    /// Loads the run's checkpoint, when it has one; returns the completed steps it holds.
    pub fn restore(&mut self) -> Result<u64, TrainError> {
        let path = self.run.checkpoint_path();
        if !path.exists() {
            return Ok(0);
        }
        let tensors = checkpoint::read(&path)?;
        checkpoint::restore_vars(&path, &mut self.gen_vars, "gen.", &tensors)?;
        checkpoint::restore_vars(&path, &mut self.disc_vars, "disc.", &tensors)?;
        checkpoint::restore_adam(&path, &mut self.adam_g, "optim.gen", &tensors)?;
        checkpoint::restore_adam(&path, &mut self.adam_d, "optim.disc", &tensors)?;
        if let Some(average) = &mut self.ema {
            let vars = &mut average.vars;
            checkpoint::restore_vars_from(&path, vars, "gen.", ema::PREFIX, &tensors)?;
        }
        self.done = checkpoint::step_of(&path, &tensors)?;
        Ok(self.done)
    }

    /// Makes [`Trainer::run`] stop after the first step that ends `limit` or more after
    /// its first step started; `None` trains every step. Grids and checkpoints written
    /// along the way count toward the limit. The limit is not stored in the run, so each
    /// `--resume` starts its own clock.
    pub fn set_time_limit(&mut self, limit: Option<Duration>) {
        self.time_limit = limit;
    }

    /// Trains up to the configured number of steps, or until the time limit passes,
    /// writing grids, metrics and checkpoints into the run folder as it goes.
    pub fn run(&mut self, progress: ProgressKind) -> Result<RunEnd, TrainError> {
        let total = self.config.steps;
        let mut metrics = MetricsLog::open(&self.run.metrics_path(), self.done)?;
        let mut progress = Progress::start(progress, self.done, total, self.config.log_every);
        let preview = Preview::new(self)?;
        preview.write_real(self)?;

        let clock = Instant::now();
        let mut end = RunEnd::Finished;
        for step in self.done + 1..=total {
            let started = Instant::now();
            let losses = self.train_step(step)?;
            if let Some(average) = &mut self.ema {
                average.update(&self.gen_vars, step)?;
            }
            let step_ms = started.elapsed().as_secs_f64() * 1e3;
            metrics.record(&StepRecord {
                step,
                losses,
                step_ms,
            })?;
            self.done = step;
            self.last = Some(losses);
            progress.step(step, || {
                format!("d_loss {:.4} g_loss {:.4}", losses.d_loss, losses.g_loss)
            });

            let out_of_time = step < total && self.time_limit.is_some_and(|l| clock.elapsed() >= l);
            let last = step == total || out_of_time;
            if step % self.config.sample_every == 0 || last {
                preview.write_generated(self, step, last)?;
            }
            if step % self.config.checkpoint_every == 0 || last {
                metrics.flush()?;
                self.save_checkpoint()?;
            }
            if out_of_time {
                end = RunEnd::TimeLimit;
                break;
            }
        }
        metrics.flush()?;
        progress.finish();
        Ok(end)
    }

    /// Returns the loss of critic update `update` (from 1, counted over the run), whose
    /// penalty weight follows `--gp-every`.
    fn step_loss(&self, update: u64) -> StepLoss {
        let lambda = self.config.gp_weight(update);
        match self.config.loss {
            Loss::NonSaturating => StepLoss::NonSaturating {
                real_label: self.config.real_label,
            },
            Loss::WganGp => StepLoss::WganGp { lambda },
            Loss::AcWganGp => StepLoss::AcWganGp { lambda },
        }
    }

    /// Trains step `step`: `critic_steps` discriminator updates, then `generator_steps`
    /// generator updates on the last draw's latent vectors, classes and θ, each with the
    /// generator as the previous update left it.
    fn train_step(&mut self, step: u64) -> Result<StepLosses, TrainError> {
        let factor = self.config.lr_factor(step);
        self.adam_g.set_lr(self.config.lr_generator * factor);
        self.adam_d.set_lr(self.config.lr_discriminator * factor);

        let first_update = first_critic_update(step, self.config.critic_steps);
        let indices = critic_draws(step, self.config.critic_steps, self.config.critic_batches);
        let mut draw = self.draw(indices[0])?;
        let mut critic = self.critic_update(self.step_loss(first_update), &draw)?;
        for (update, &index) in (first_update + 1..).zip(&indices[1..]) {
            if index != draw.index {
                draw = self.draw(index)?;
            }
            critic = self.critic_update(self.step_loss(update), &draw)?;
        }

        // The generator's loss does not use the penalty's weight.
        let loss = self.step_loss(first_update);

        let mut g_loss = self.generator_update(loss, &draw)?;
        for _ in 1..self.config.generator_steps.max(1) {
            let (fake, fake_labels) = self.generate_batch(draw.index, draw.real_labels.as_ref())?;
            (draw.fake, draw.fake_labels) = (fake, fake_labels);
            g_loss = self.generator_update(loss, &draw)?;
        }
        Ok(critic.with_generator(g_loss))
    }

    /// Draws the batches of draw `index` ([`critic_draws`]): the real examples, their
    /// classes, and the generated batch with its classes.
    fn draw(&mut self, index: u64) -> Result<Draw, TrainError> {
        let indices = self.order.indices(index).to_vec();
        let real = self.real_examples(
            &indices,
            stream_seed(self.config.seed, Stream::RealTheta, index),
        )?;
        let real_labels = self.batch_labels(&indices)?;
        let (fake, fake_labels) = self.generate_batch(index, real_labels.as_ref())?;
        Ok(Draw {
            index,
            real,
            real_labels,
            fake,
            fake_labels,
        })
    }

    fn critic_update(&mut self, loss: StepLoss, draw: &Draw) -> Result<CriticLosses, TrainError> {
        let fake = draw.fake.detach();
        let batch = CriticBatch {
            real: &draw.real,
            fake: &fake,
            real_labels: draw.real_labels.as_ref(),
        };
        let discriminator = self.discriminator.as_ref();
        let labeled = conditioned(discriminator, self.config.loss, draw);
        let discriminator: &dyn Discriminator = match &labeled {
            Some(l) => l,
            None => discriminator,
        };
        let precision = self.config.precision;
        step::critic_update(loss, discriminator, &mut self.adam_d, batch, precision)
    }

    fn generator_update(&mut self, loss: StepLoss, draw: &Draw) -> Result<f64, TrainError> {
        let discriminator = self.discriminator.as_ref();
        let labeled = conditioned(discriminator, self.config.loss, draw);
        let discriminator: &dyn Discriminator = match &labeled {
            Some(l) => l,
            None => discriminator,
        };
        let fake_labels = draw.fake_labels.as_ref();

        // The generator's loss needs only the gradient for the discriminator's input, so
        // its weights are frozen and skip the gradients the next critic update would zero.
        self.disc_vars.freeze();
        let g_loss = step::generator_update(
            loss,
            discriminator,
            &mut self.adam_g,
            &draw.fake,
            fake_labels,
            self.config.precision,
        );
        self.disc_vars.unfreeze();
        g_loss
    }

    /// Generates draw `index`'s batch and returns it as the discriminator sees it
    /// (measured in `ambient` mode), with the classes it was generated for when the model
    /// is conditional: the real batch's, or uniformly drawn ones for an
    /// auxiliary-classifier GAN, whose generated classes are independent of the real
    /// batch. The latent vectors, classes and θ depend only on the run seed and `index`.
    fn generate_batch(
        &self,
        index: u64,
        real_labels: Option<&Tensor>,
    ) -> Result<(Tensor, Option<Tensor>), TrainError> {
        seed_torch(stream_seed(self.config.seed, Stream::Step, index));
        let (dim, latent) = (self.config.latent_dim, self.config.latent);
        let batch = self.config.batch as i64;
        let z = sample_latent(latent, batch, dim, self.device);
        let labels = match real_labels {
            Some(_) if self.config.loss == Loss::AcWganGp => {
                let classes = self.generator.classes();
                Some(Tensor::f_randint(
                    classes,
                    [batch],
                    (Kind::Int64, self.device),
                )?)
            }
            other => other.map(Tensor::shallow_clone),
        };
        let scope = Autocast::enter(self.config.precision)?;
        let generated = match &labels {
            Some(l) => self.generator.forward_labeled(&z, l, true),
            None => self.generator.forward(&z, true),
        };
        drop(scope);
        let generated = generated.f_to_kind(Kind::Float)?;

        let fake = match self.config.mode {
            Mode::Ambient => {
                // The real batch of draw `index` is measured from the RealTheta stream.
                let stream = if self.config.shared_theta {
                    Stream::RealTheta
                } else {
                    Stream::FakeTheta
                };
                let seed = stream_seed(self.config.seed, stream, index);
                let theta = self
                    .measurement
                    .sample_theta(seed, self.config.batch, self.device)?;
                self.measurement.apply(&generated, &theta)?
            }
            _ => generated,
        };
        Ok((fake, labels))
    }

    /// Returns the class labels of the real examples at `indices` (`[B]`, int64, on the
    /// device) for a conditional model, `None` for an unconditional one.
    fn batch_labels(&self, indices: &[usize]) -> Result<Option<Tensor>, TrainError> {
        if self.generator.classes() == 0 {
            return Ok(None);
        }
        let labels = match &self.data {
            TrainingData::Images(set) => set.labels(),
            TrainingData::Measurements(_) => None,
        };
        let labels = labels.ok_or_else(|| TrainError::InvalidOption {
            option: "--model",
            reason: "a conditional model needs labelled images".into(),
        })?;
        let picked: Vec<i64> = indices
            .iter()
            .map(|&i| labels.get(i).map_or(0, |&l| i64::from(l)))
            .collect();
        Ok(Some(
            Tensor::f_from_slice(&picked)?.f_to_device(self.device)?,
        ))
    }

    /// Returns the real examples at `indices` as the discriminator sees them, measuring
    /// clean images with θ drawn from `theta_seed`.
    fn real_examples(&self, indices: &[usize], theta_seed: u64) -> Result<Tensor, TrainError> {
        match &self.data {
            TrainingData::Images(set) => {
                let x = set.batch(indices)?;
                if self.config.mode == Mode::Clean {
                    return Ok(x);
                }
                let theta =
                    self.measurement
                        .sample_theta(theta_seed, indices.len(), self.device)?;
                let y = tch::no_grad(|| self.measurement.apply(&x, &theta))?;
                match &self.repair {
                    Some(repair) => Ok(repair.apply(&y, &theta)?),
                    None => Ok(y),
                }
            }
            TrainingData::Measurements(set) => Ok(set.batch(indices)?.f_to_device(self.device)?),
        }
    }

    fn save_checkpoint(&self) -> Result<(), TrainError> {
        let state = TrainingState {
            generator: &self.gen_vars,
            discriminator: &self.disc_vars,
            adam_generator: &self.adam_g,
            adam_discriminator: &self.adam_d,
            ema: self.ema.as_ref().map(|e| &e.vars),
            step: self.done,
        };
        checkpoint::save(&self.run.checkpoint_path(), &state)
    }
}

/// The batches of one draw: what a discriminator update reads and, for the last draw of
/// a step, what the generator updates read.
struct Draw {
    /// The draw index that seeded the batches.
    index: u64,
    /// The real examples as the discriminator sees them.
    real: Tensor,
    /// The real examples' classes, for a conditional model.
    real_labels: Option<Tensor>,
    /// The generated batch as the discriminator sees it, attached to the generator's graph.
    fake: Tensor,
    /// The classes the generated batch was made for, for a conditional model.
    fake_labels: Option<Tensor>,
}

/// Returns the draw index of each discriminator update of step `step` (from 1). With
/// shared critic batches every update uses the step's own index. With fresh ones, update
/// `j` (from 0) uses `(step − 1)·critic_steps + j + 1`, so the batch order, θ and latent
/// vectors advance once per update and no two updates of a run share a draw.
fn critic_draws(step: u64, critic_steps: u32, batches: CriticBatches) -> Vec<u64> {
    let count = u64::from(critic_steps.max(1));
    match batches {
        CriticBatches::Shared => vec![step; count as usize],
        CriticBatches::Fresh => {
            let first = first_critic_update(step, critic_steps);
            (first..first + count).collect()
        }
    }
}

/// Returns the number (from 1, counted over the run) of step `step`'s first critic update.
fn first_critic_update(step: u64, critic_steps: u32) -> u64 {
    step.saturating_sub(1) * u64::from(critic_steps.max(1)) + 1
}

/// Returns `discriminator` bound to the real batch's labels of `draw` when it is
/// conditional, as in the reference conditional DCGAN (both batches are given the real
/// batch's labels), and `None` when it is not. An auxiliary classifier (`loss` ACWGAN-GP)
/// predicts the labels instead.
fn conditioned<'a>(
    discriminator: &'a dyn Discriminator,
    loss: Loss,
    draw: &'a Draw,
) -> Option<Labeled<'a>> {
    let labels = draw.real_labels.as_ref()?;
    (loss != Loss::AcWganGp).then_some(Labeled {
        discriminator,
        labels,
    })
}

/// Builds the repair of an `unmeasure` run from its configured name, for the clean images
/// it measures.
fn unmeasure_repair(
    config: &TrainConfig,
    operator: &Operator,
    data: &TrainingData,
) -> Result<Option<TensorRepair>, TrainError> {
    let (Some(name), TrainingData::Images(set)) = (config.unmeasure.as_deref(), data) else {
        return Ok(None);
    };
    let repair = name
        .parse::<Repair>()
        .map_err(|e| TrainError::InvalidOption {
            option: "--unmeasure",
            reason: e.to_string(),
        })?;
    let repair = TensorRepair::for_images(repair, operator.clone(), set.images())?;
    Ok(Some(repair))
}

/// The fixed latent vectors and θ of the sample grids, so that grids at different steps
/// show the same examples.
struct Preview {
    z: Tensor,
    /// The classes of a conditional model's grid, one row per class.
    labels: Option<Tensor>,
    indices: Vec<usize>,
    columns: usize,
}

impl Preview {
    fn new(trainer: &Trainer) -> Result<Self, TrainError> {
        let count = trainer.config.grid_images.min(trainer.data.len());
        seed_torch(stream_seed(trainer.config.seed, Stream::Preview, 0));
        let z = sample_latent(
            trainer.config.latent,
            count as i64,
            trainer.config.latent_dim,
            trainer.device,
        );
        let classes = trainer.generator.classes();
        let (labels, columns) = if classes > 0 {
            let (labels, columns) = class_rows(count, classes as usize);
            let labels = Tensor::f_from_slice(&labels)?.f_to_device(trainer.device)?;
            (Some(labels), columns)
        } else {
            (None, (count as f64).sqrt().ceil() as usize)
        };
        Ok(Self {
            z,
            labels,
            indices: (0..count).collect(),
            columns,
        })
    }

    fn theta_seed(trainer: &Trainer, index: u64) -> u64 {
        stream_seed(trainer.config.seed, Stream::Preview, index)
    }

    /// Writes `real.png`: the real examples as the discriminator sees them.
    fn write_real(&self, trainer: &Trainer) -> Result<(), TrainError> {
        let real = trainer.real_examples(&self.indices, Self::theta_seed(trainer, 1))?;
        if real.dim() == 4 {
            let png = grid_png(&for_display(&real, trainer.range())?, self.columns)?;
            write_atomic(&trainer.run.final_grid_path("real"), &png)?;
        }
        Ok(())
    }

    /// Writes the grids of generated images and, except in `clean` mode, their
    /// measurements, for `step`; `last` also writes them at the run folder's top level.
    fn write_generated(&self, trainer: &Trainer, step: u64, last: bool) -> Result<(), TrainError> {
        let generator = trainer.inference_generator();
        let samples = tch::no_grad(|| match &self.labels {
            Some(labels) => generator.forward_labeled(&self.z, labels, false),
            None => generator.forward(&self.z, false),
        });
        let mut grids = vec![("samples", for_display(&samples, trainer.range())?)];
        if trainer.config.mode != Mode::Clean {
            let seed = Self::theta_seed(trainer, 2);
            let theta =
                trainer
                    .measurement
                    .sample_theta(seed, self.indices.len(), trainer.device)?;
            let measured = tch::no_grad(|| trainer.measurement.apply(&samples, &theta))?;
            // NOTE: 1-D measurements (projections) get no grid; only image-shaped ones do.
            if measured.dim() == 4 {
                grids.push(("measured", for_display(&measured, trainer.range())?));
            }
        }
        for (name, images) in grids {
            let png = grid_png(&images, self.columns)?;
            write_atomic(&trainer.run.grid_path(step, name), &png)?;
            if last {
                write_atomic(&trainer.run.final_grid_path(name), &png)?;
            }
        }
        Ok(())
    }
}

/// Maps a grid's values to `[0, 1]`. Values of a `[-1, 1]` model become `(x + 1) / 2`.
/// Then values are divided by their maximum when it exceeds 1, so that measurements that
/// rescale kept values (Block-Pixels multiplies them by `1/(1-p)`) show those pixels at
/// their original intensity instead of saturated.
fn for_display(images: &Tensor, range: ValueRange) -> Result<Tensor, TrainError> {
    let images = match range {
        ValueRange::MinusOneOne => images.f_add_scalar(1.0)?.f_div_scalar(2.0)?,
        _ => images.shallow_clone(),
    };
    let images = &images;
    let max = images.f_max()?.double_value(&[]);
    if max > 1.0 {
        Ok(images.f_div_scalar(max)?)
    } else {
        Ok(images.shallow_clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GeneratorArch, Preset};
    use crate::train::seeds::torch_rng_lock;
    use crate::train::{open_run, Precision, ProgressKind, TrainRequest};

    #[test]
    fn critic_draws_per_update() {
        assert_eq!(critic_draws(3, 5, CriticBatches::Shared), [3; 5]);
        assert_eq!(critic_draws(1, 5, CriticBatches::Fresh), [1, 2, 3, 4, 5]);
        assert_eq!(critic_draws(2, 5, CriticBatches::Fresh), [6, 7, 8, 9, 10]);
        // One update per step draws at the step's index either way.
        assert_eq!(critic_draws(7, 1, CriticBatches::Fresh), [7]);
        assert_eq!(critic_draws(7, 1, CriticBatches::Shared), [7]);
    }

    /// Opens a new run of the tiny 28×28 DCGAN on 16 built-in digits in batches of 4.
    fn tiny_run(name: &str, request: TrainRequest) -> Trainer {
        let out =
            std::env::temp_dir().join(format!("ambient-trainer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let request = TrainRequest {
            model: Some(GeneratorArch::Dcgan28Tiny),
            max_images: Some(16),
            batch: Some(4),
            steps: Some(4),
            threads: Some(1),
            ..request
        };
        open_run(request, &out, false, Device::Cpu).expect("the run opens")
    }

    #[test]
    fn generator_updates_reuse_the_draw() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            generator_steps: Some(2),
            ..Default::default()
        };
        let mut trainer = tiny_run("generator-steps", request);
        // Generating draw 1 again gives the same batch: the same z and θ.
        let draw = trainer.draw(1).unwrap();
        let (again, _) = trainer.generate_batch(1, None).unwrap();
        assert_eq!(draw.fake.size(), again.size());
        let diff = (&draw.fake - &again).abs().max().double_value(&[]);
        assert_eq!(diff, 0.0);

        trainer.train_step(1).unwrap();
        assert_eq!(trainer.adam_d.steps(), 1);
        assert_eq!(trainer.adam_g.steps(), 2);
        // The second update saw the generator the first one left, so the batch changed.
        let (after, _) = trainer.generate_batch(1, None).unwrap();
        assert!((&after - &again).abs().max().double_value(&[]) > 0.0);
    }

    #[test]
    fn wgan_gp_trains_the_cpu_discriminator() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            ..Default::default()
        };
        let mut trainer = tiny_run("wgan-gp", request);
        let config = trainer.config();
        assert_eq!(config.loss, Loss::WganGp);
        assert_eq!(config.gp_lambda, crate::train::resolve::DEFAULT_GP_LAMBDA);
        assert_eq!(
            config.discriminator,
            crate::model::DiscriminatorArch::DcganConv
        );
        assert!(!config.discriminator_batch_norm);

        // The critic loss is D(fake) − D(real) + λ·GP, so with the step's outputs and
        // penalty it is determined up to float rounding.
        let losses = trainer.train_step(1).unwrap();
        let gp = losses.gp.expect("a penalty is reported");
        assert!(gp >= 0.0, "{gp}");
        let expected = losses.d_fake - losses.d_real + 10.0 * gp;
        assert!((losses.d_loss - expected).abs() < 1e-5, "{losses:?}");
    }

    #[test]
    fn gp_every_skips_updates() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            gp_every: Some(2),
            critic_steps: Some(1),
            ..Default::default()
        };
        let mut trainer = tiny_run("gp-every", request);
        assert_eq!(trainer.config().gp_every, 2);

        // Update 1 takes the penalty with weight 2λ = 20, update 2 skips it.
        let first = trainer.train_step(1).unwrap();
        let gp = first.gp.expect("update 1 takes the penalty");
        let expected = first.d_fake - first.d_real + 20.0 * gp;
        assert!((first.d_loss - expected).abs() < 1e-5, "{first:?}");
        let second = trainer.train_step(2).unwrap();
        assert_eq!(second.gp, None);
        assert!((second.d_loss - (second.d_fake - second.d_real)).abs() < 1e-6);
        assert!(trainer.train_step(3).unwrap().gp.is_some());
    }

    #[test]
    fn generator_update_leaves_the_critic_alone() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            ..Default::default()
        };
        let mut trainer = tiny_run("frozen-critic", request);
        let draw = trainer.draw(1).unwrap();
        trainer.critic_update(trainer.step_loss(1), &draw).unwrap();
        let grads = |t: &Trainer| -> Vec<Tensor> {
            let vars = t.disc_vars.trainable_variables();
            vars.iter().map(|v| v.grad().copy()).collect()
        };
        let before = grads(&trainer);

        // Unfrozen, the generator's backward pass would add to the critic's gradients.
        trainer
            .generator_update(trainer.step_loss(1), &draw)
            .unwrap();
        let after = grads(&trainer);
        assert!(before.iter().zip(&after).all(|(b, a)| b.equal(a)));
        let vars = trainer.disc_vars.trainable_variables();
        assert!(vars.iter().all(Tensor::requires_grad));
    }

    /// Opens a tiny WGAN-GP run in `precision` and checks that one step keeps the
    /// weights and the generated batch in f32.
    fn run_in(precision: Precision) -> Trainer {
        let request = TrainRequest {
            loss: Some(Loss::WganGp),
            precision: Some(precision),
            ..Default::default()
        };
        let mut trainer = tiny_run(&format!("precision-{}", precision.name()), request);
        assert_eq!(trainer.config().precision, precision);
        trainer.train_step(1).unwrap();
        let (fake, _) = trainer.generate_batch(2, None).unwrap();
        assert_eq!(fake.kind(), Kind::Float);
        let vars = trainer.gen_vars.trainable_variables();
        assert!(vars.iter().all(|v| v.kind() == Kind::Float));
        trainer
    }

    #[test]
    fn bf16_rounds_the_same_step() {
        let _rng = torch_rng_lock();
        // Both critics get the same weights and the same batches, so only the rounding
        // differs.
        let mut f32 = run_in(Precision::F32);
        let mut bf16 = run_in(Precision::Bf16);
        bf16.disc_vars.copy(&f32.disc_vars).unwrap();
        let draw = f32.draw(3).unwrap();
        let loss = f32.step_loss(2);
        let a = f32.critic_update(loss, &draw).unwrap();
        let b = bf16.critic_update(loss, &draw).unwrap();
        assert_ne!(a.d_real, b.d_real);
        let close = |x: f64, y: f64| (x - y).abs() <= 0.05 * x.abs().max(y.abs()) + 1e-3;
        assert!(close(a.d_real, b.d_real), "{a:?} {b:?}");
        assert!(close(a.d_fake, b.d_fake), "{a:?} {b:?}");
    }

    /// Returns, for draw 1 of a tiny Block-Pixels run, whether each pixel is kept in the
    /// real batch and in the generated one. Generated pixels are never 0 (a sigmoid), so
    /// they are kept exactly where they are not 0; a real pixel that is not 0 is kept.
    fn kept_pixels(name: &str, shared_theta: bool) -> (Tensor, Tensor) {
        let request = TrainRequest {
            measurement: Some("block-pixels".into()),
            params: vec![("p".into(), "0.5".into())],
            shared_theta: Some(shared_theta),
            ..Default::default()
        };
        let mut trainer = tiny_run(name, request);
        assert_eq!(trainer.config().shared_theta, shared_theta);
        let draw = trainer.draw(1).unwrap();
        (draw.real.ne(0.0), draw.fake.ne(0.0))
    }

    #[test]
    fn shared_theta_measures_both_batches_alike() {
        let _rng = torch_rng_lock();
        let (real, fake) = kept_pixels("shared-theta", true);
        let bright = real.sum(Kind::Int64).int64_value(&[]);
        assert!(bright > 0);
        // Every real pixel seen bright is kept in the generated batch too.
        let missed = real.logical_and(&fake.logical_not()).sum(Kind::Int64);
        assert_eq!(missed.int64_value(&[]), 0);

        let (real, fake) = kept_pixels("own-theta", false);
        let missed = real.logical_and(&fake.logical_not()).sum(Kind::Int64);
        assert!(missed.int64_value(&[]) > 0);
    }

    /// Opens a run of 16 built-in digits in batches of 4 that must be rejected, checks
    /// that no run folder was written, and returns the error's message.
    fn rejected(name: &str, request: TrainRequest) -> String {
        let out = std::env::temp_dir().join(format!("ambient-{name}-{}", std::process::id()));
        let request = TrainRequest {
            max_images: Some(16),
            batch: Some(4),
            ..request
        };
        let error = open_run(request, &out, false, Device::Cpu).unwrap_err();
        assert!(!out.join("config.json").exists());
        error.to_string()
    }

    #[test]
    fn shared_theta_needs_ambient_mode() {
        let request = TrainRequest {
            mode: Some(Mode::Clean),
            shared_theta: Some(true),
            ..Default::default()
        };
        let text = rejected("shared", request);
        assert!(
            text.contains("--shared-theta") && text.contains("ambient"),
            "{text}"
        );
    }

    /// Returns the shape of each of the critic's variables, sorted by name.
    fn critic_shapes(trainer: &Trainer) -> Vec<(String, Vec<i64>)> {
        let mut shapes: Vec<_> = trainer
            .disc_vars
            .variables()
            .into_iter()
            .map(|(name, tensor)| (name, tensor.size()))
            .collect();
        shapes.sort();
        shapes
    }

    #[test]
    fn critic_width_shapes_and_resume() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            preset: Some(Preset::Paper),
            critic_steps: Some(1),
            critic_width: Some(8),
            checkpoint_every: Some(1),
            ..Default::default()
        };
        let mut trainer = tiny_run("critic-width", request);
        assert_eq!(trainer.config().critic_width, Some(8));
        // Widths 8, 16 and 32; 28 → 14 → 7 → 4 leaves 32·4·4 = 512 inputs to the dense layer.
        let want: Vec<(String, Vec<i64>)> = [
            ("disc.conv1.bias", vec![8]),
            ("disc.conv1.weight", vec![8, 1, 5, 5]),
            ("disc.conv2.bias", vec![16]),
            ("disc.conv2.weight", vec![16, 8, 5, 5]),
            ("disc.conv3.bias", vec![32]),
            ("disc.conv3.weight", vec![32, 16, 5, 5]),
            ("disc.fc.bias", vec![1]),
            ("disc.fc.weight", vec![1, 512]),
        ]
        .into_iter()
        .map(|(name, shape)| (name.to_string(), shape))
        .collect();
        assert_eq!(critic_shapes(&trainer), want);
        trainer.run(ProgressKind::Quiet).unwrap();

        // Resuming without the option keeps the stored width and loads its checkpoint.
        let out = trainer.run.root().to_path_buf();
        let more = TrainRequest {
            steps: Some(5),
            ..Default::default()
        };
        let mut resumed = open_run(more, &out, true, Device::Cpu).unwrap();
        assert_eq!(resumed.restore().unwrap(), 4);
        assert_eq!(critic_shapes(&resumed), want);

        // Another width would not fit the checkpoint, so it is refused.
        let wider = TrainRequest {
            critic_width: Some(16),
            ..Default::default()
        };
        let text = open_run(wider, &out, true, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(text.contains("critic_width"), "{text}");
    }

    #[test]
    fn critic_width_needs_the_paper_critic() {
        for (preset, width, needle) in [
            (Preset::Cpu, 32, "fixed width"),
            (Preset::Paper, 0, "between 1 and"),
            (Preset::Paper, 4096, "between 1 and"),
        ] {
            let request = TrainRequest {
                preset: Some(preset),
                critic_width: Some(width),
                ..Default::default()
            };
            let text = rejected("width", request);
            assert!(
                text.contains("--critic-width") && text.contains(needle),
                "{text}"
            );
        }
    }

    #[test]
    fn time_limit_stops_with_a_checkpoint() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            checkpoint_every: Some(100),
            sample_every: Some(100),
            ..Default::default()
        };
        let mut trainer = tiny_run("time-limit", request);
        let out = trainer.run.root().to_path_buf();
        // A zero limit has passed when the first step ends, so the run stops there.
        trainer.set_time_limit(Some(Duration::ZERO));
        assert_eq!(trainer.run(ProgressKind::Quiet).unwrap(), RunEnd::TimeLimit);
        assert_eq!(trainer.completed_steps(), 1);
        assert!(out.join("samples.png").is_file());
        drop(trainer);

        let mut resumed = open_run(TrainRequest::default(), &out, true, Device::Cpu).unwrap();
        assert_eq!(resumed.restore().unwrap(), 1);
        resumed.set_time_limit(Some(Duration::from_secs(3600)));
        assert_eq!(resumed.run(ProgressKind::Quiet).unwrap(), RunEnd::Finished);
        assert_eq!(resumed.completed_steps(), 4);
        let log = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 4);
    }

    #[test]
    fn learning_rate_follows_the_decay() {
        let _rng = torch_rng_lock();
        let request = TrainRequest {
            lr_generator: Some(1e-3),
            lr_discriminator: Some(4e-3),
            lr_decay_steps: Some(4),
            ..Default::default()
        };
        let mut trainer = tiny_run("lr-decay", request);
        // Step t uses lr · max(0, 1 − (t − 1)/4): 1, 0.75, then at step 5 and after 0.
        trainer.train_step(1).unwrap();
        assert_eq!(trainer.adam_g.lr(), 1e-3);
        assert_eq!(trainer.adam_d.lr(), 4e-3);
        trainer.train_step(2).unwrap();
        assert!((trainer.adam_g.lr() - 0.75e-3).abs() < 1e-15);
        assert!((trainer.adam_d.lr() - 3e-3).abs() < 1e-15);
        trainer.train_step(6).unwrap();
        assert_eq!(trainer.adam_g.lr(), 0.0);
        assert_eq!(trainer.adam_d.lr(), 0.0);
    }
}
