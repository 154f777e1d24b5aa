//! A trained generator loaded back from a run folder.

use std::path::Path;

use ambient_core::Shape;
use tch::nn::VarStore;
use tch::{Device, Tensor};

use super::checkpoint;
use super::run_dir::{read_json, RunDir};
use super::seeds::seed_torch;
use super::{TrainConfig, TrainError};
use crate::model::{class_rows, sample_latent, Generator};

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
    checkpoint::restore_generator(&path, &mut vars, &tensors)?;
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
    /// statistics, as an exported model does. A conditional model generates the classes in
    /// order, [`RunGenerator::grid_columns`] images of each.
    pub fn sample(&self, count: usize, seed: u64) -> Result<Tensor, TrainError> {
        const CHUNK: usize = 256;
        seed_torch(seed);
        let device = self.vars.device();
        let classes = self.generator.classes();
        let all_labels = (classes > 0).then(|| class_rows(count, classes as usize).0);
        let mut parts = Vec::new();
        let mut start = 0;
        while start < count {
            let n = (count - start).min(CHUNK);
            let z = sample_latent(self.config.latent, n as i64, self.config.latent_dim, device);
            let images = match &all_labels {
                Some(labels) => {
                    let labels = Tensor::f_from_slice(&labels[start..start + n])?;
                    let labels = labels.f_to_device(device)?;
                    tch::no_grad(|| self.generator.forward_labeled(&z, &labels, false))
                }
                None => tch::no_grad(|| self.generator.forward(&z, false)),
            };
            parts.push(images);
            start += n;
        }
        Ok(Tensor::f_cat(&parts, 0)?)
    }

    /// Returns the images per row that put one class in each row of a grid of `count`
    /// samples from a conditional model, or `None` when the model is unconditional.
    pub fn grid_columns(&self, count: usize) -> Option<usize> {
        let classes = self.generator.classes();
        (classes > 0).then(|| class_rows(count, classes as usize).1)
    }

    /// Maps samples from the model's range to `[0, 1]` for a PNG grid.
    pub fn for_grid(&self, images: &Tensor) -> Result<Tensor, TrainError> {
        Ok(match self.config.generator.range() {
            ambient_core::format::ValueRange::MinusOneOne => {
                images.f_add_scalar(1.0)?.f_div_scalar(2.0)?
            }
            _ => images.shallow_clone(),
        })
    }
}
