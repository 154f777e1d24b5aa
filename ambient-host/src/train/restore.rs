//! A trained generator loaded back from a run folder.

use std::path::Path;

use ambient_core::Shape;
use tch::nn::VarStore;
use tch::{Device, Tensor};

use super::checkpoint;
use super::run_dir::{read_json, RunDir};
use super::seeds::seed_torch;
use super::{TrainConfig, TrainError};
use crate::model::{sample_latent, Generator};

/// The generator of a run at its last checkpoint.
#[derive(Debug)]
pub struct RunGenerator {
    /// The run's configuration.
    pub config: TrainConfig,
    /// The completed steps of the checkpoint.
    pub step: u64,
    vars: VarStore,
    generator: Box<dyn Generator>,
}

/// Loads the generator of the run folder `run` on `device` from its checkpoint.
pub fn load_generator(run: &Path, device: Device) -> Result<RunGenerator, TrainError> {
    let dir = RunDir::new(run);
    let config: TrainConfig = read_json(&dir.config_path())?;
    let path = dir.checkpoint_path();
    let tensors = checkpoint::read(&path)?;

    let mut vars = VarStore::new(device);
    let [c, h, w] = config.image_shape;
    let generator = config
        .generator
        .build(vars.root() / "gen", Shape::new(c, h, w))?;
    checkpoint::restore_vars(&path, &mut vars, "gen.", &tensors)?;
    let step = checkpoint::step_of(&path, &tensors)?;
    Ok(RunGenerator {
        config,
        step,
        vars,
        generator,
    })
}

impl RunGenerator {
    /// Generates `count` images `[count, C, H, W]` in the model's value range, from latent
    /// vectors drawn after seeding torch with `seed`. Batch normalisation uses its running
    /// statistics, as an exported model does.
    pub fn sample(&self, count: usize, seed: u64) -> Result<Tensor, TrainError> {
        const CHUNK: usize = 256;
        seed_torch(seed);
        let device = self.vars.device();
        let mut parts = Vec::new();
        let mut left = count;
        while left > 0 {
            let n = left.min(CHUNK);
            let z = sample_latent(self.config.latent, n as i64, self.config.latent_dim, device);
            parts.push(tch::no_grad(|| self.generator.forward(&z, false)));
            left -= n;
        }
        Ok(Tensor::f_cat(&parts, 0)?)
    }
}
