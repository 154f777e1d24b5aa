//! Training: AmbientGAN and its baselines, with run folders that a killed run resumes from.
//!
//! Each step draws a real batch, θ for it and for the generated batch (independently), and
//! latent vectors z, all from seeds derived from the run seed and the step ([`seeds`]).
//! In `ambient` mode the discriminator compares real measurements with `f_θ(G(z))`; in
//! `ignore` mode with the unmeasured `G(z)`; in `clean` mode it compares clean images with
//! `G(z)`. A run writes its resolved configuration, per-step metrics, sample grids and
//! checkpoints into a folder ([`run_dir`]); `--resume` reloads the last checkpoint and
//! continues on the same curve, because every random draw of step `t` depends only on
//! `(seed, t)` and the checkpoint holds the optimisers' state.

pub mod adam;
pub mod checkpoint;
pub mod config;
pub mod ema;
mod error;
pub mod precision;
pub mod progress;
mod resolve;
mod restore;
pub mod run_dir;
pub mod seeds;
pub mod step;
mod trainer;

use std::path::Path;

use tch::Device;

pub use config::{CriticBatches, Loss, Mode, TrainConfig};
pub use error::TrainError;
pub use precision::Precision;
pub use progress::ProgressKind;
pub use resolve::{resolve, TrainRequest, DEFAULT_MEASUREMENT, DEFAULT_SEED};
pub use restore::{load_generator, RunGenerator};
pub use run_dir::RunDir;
pub use trainer::{RunEnd, StepRecord, Trainer};

/// Opens the run folder `out` for training on `device`: a new run, or with `resume` the
/// run already there, restored from its last checkpoint.
///
/// A new run refuses a folder that already holds a `config.json`. A resumed run takes
/// every option left unset in `request` from the run's `config.json`, and refuses an option
/// that would change the training curve (only the step count, the device, the thread count
/// and the output intervals may change).
pub fn open_run(
    mut request: TrainRequest,
    out: &Path,
    resume: bool,
    device: Device,
) -> Result<Trainer, TrainError> {
    let run = RunDir::new(out);
    let stored = if resume {
        if !run.config_path().exists() {
            return Err(TrainError::NoRun {
                run: out.to_path_buf(),
            });
        }
        let stored: TrainConfig = run_dir::read_json(&run.config_path())?;
        request.fill_from(&stored);
        Some(stored)
    } else {
        if run.config_path().exists() {
            return Err(TrainError::RunExists {
                run: out.to_path_buf(),
            });
        }
        None
    };

    let data_path = request
        .data
        .clone()
        .unwrap_or_else(crate::data::builtin_dir);
    let options = crate::data::DataOptions {
        image_size: request.image_size,
        max_images: request.max_images,
    };
    let data = crate::data::open_with(&data_path, &options)?;
    let (config, operator) = resolve(&request, &data, device)?;
    if let Some((option, stored, requested)) =
        stored.as_ref().and_then(|s| config.curve_difference(s))
    {
        return Err(TrainError::ResumeMismatch {
            run: out.to_path_buf(),
            option,
            stored,
            requested,
        });
    }

    run.create()?;
    run_dir::write_json(&run.config_path(), &config)?;
    let mut trainer = Trainer::new(config, operator, data, run, device)?;
    if resume {
        trainer.restore()?;
    }
    Ok(trainer)
}
