//! Exporting a run folder's generator, and checking a weight file against it.

use std::path::Path;

use ambient_core::nn::{GemmRoute, Model};
use ambient_core::Shape;
use tch::nn::VarStore;
use tch::{Device, Kind};

use super::arch::graph_of;
use super::check::{bound, Bound, Comparison};
use super::encode::WeightDtype;
use super::generate::generate;
use super::latents::{Latents, CALIBRATION_BATCH, CALIBRATION_SEED, CHECK_BATCH, CHECK_SEED};
use super::layer_error::{value_errors, ValueError};
use super::lower::{lower, BatchNormFolding};
use super::ExportError;
use crate::model::Generator;
use crate::train::checkpoint;
use crate::train::run_dir::{read_json, RunDir};
use crate::train::TrainConfig;

/// A run's generator at its last checkpoint, on the CPU, in eval mode.
#[derive(Debug)]
pub struct LoadedRun {
    /// The run's configuration.
    pub config: TrainConfig,
    /// The completed steps of the checkpoint.
    pub step: u64,
    /// The generator's variables.
    pub vars: VarStore,
    /// The generator.
    pub generator: Box<dyn Generator>,
}

impl LoadedRun {
    /// Loads the generator of the run folder `run` from its checkpoint.
    pub fn open(run: &Path) -> Result<Self, ExportError> {
        let dir = RunDir::new(run);
        let config: TrainConfig = read_json(&dir.config_path())?;
        let path = dir.checkpoint_path();
        let tensors = checkpoint::read(&path)?;

        let mut vars = VarStore::new(Device::Cpu);
        let [c, h, w] = config.image_shape;
        let generator = config
            .generator
            .build(vars.root() / "gen", Shape::new(c, h, w))
            .map_err(crate::train::TrainError::from)?;
        checkpoint::restore_generator(&path, &mut vars, &tensors)?;
        let step = checkpoint::step_of(&path, &tensors)?;
        Ok(Self {
            config,
            step,
            vars,
            generator,
        })
    }

    /// Returns `count` fixed latent vectors (and labels) for this run's generator.
    pub fn latents(&self, count: usize, seed: u64) -> Latents {
        let latent = self.config.latent_dim.max(0) as usize;
        let classes = self.config.generator.classes().max(0) as usize;
        Latents::draw(self.config.latent, count, latent, classes, seed)
    }

    /// Exports the generator as a weight file of `dtype`: builds its graph from the
    /// variables, folds batch norms, and writes (for int8: calibrates and quantises).
    pub fn export(&self, dtype: WeightDtype) -> Result<Vec<u8>, ExportError> {
        let graph = graph_of(self.config.generator, &self.vars.variables())?;
        let model = lower(&graph, BatchNormFolding::Fold)?;
        model.encode(dtype, &self.latents(CALIBRATION_BATCH, CALIBRATION_SEED))
    }

    /// Compares every value of the int8 weight file `int8` with the same value of the
    /// float model it was quantised from, on the calibration batch.
    pub fn value_errors(&self, int8: &[u8]) -> Result<Vec<ValueError>, ExportError> {
        let graph = graph_of(self.config.generator, &self.vars.variables())?;
        let float = lower(&graph, BatchNormFolding::Fold)?.to_bytes(false)?;
        let mut float = Model::parse(&float)?;
        float.set_gemm_route(GemmRoute::Blocked);
        let int8 = Model::parse(int8)?;
        value_errors(
            &float,
            &int8,
            &self.latents(CALIBRATION_BATCH, CALIBRATION_SEED),
        )
    }

    /// Runs the weight file `bytes` in the core and the tch generator in eval mode on the
    /// check batch, and compares them.
    pub fn check(&self, bytes: &[u8], dtype: WeightDtype) -> Result<CheckReport, ExportError> {
        let model = Model::parse(bytes)?;
        let latents = self.latents(CHECK_BATCH, CHECK_SEED);
        let core = generate(&model, &latents)?;

        let z = latents.z_tensor()?;
        let images = tch::no_grad(|| self.generator.forward(&z, false));
        let reference = super::lower::values(&images.f_to_kind(Kind::Float)?)?;

        let comparison = Comparison::of(&core, &reference);
        Ok(CheckReport {
            dtype,
            bound: bound(dtype, &model, comparison.max_reference),
            comparison,
            file_len: bytes.len(),
            layers: model.layers().len(),
        })
    }
}

/// The outcome of checking an exported file against the tch model.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// The dtype the file was written as.
    pub dtype: WeightDtype,
    /// The errors on the check batch.
    pub comparison: Comparison,
    /// The bound for the dtype.
    pub bound: Bound,
    /// The file's size in bytes.
    pub file_len: usize,
    /// The file's number of layers.
    pub layers: usize,
}

impl CheckReport {
    /// Returns `Ok` when the largest absolute error is within the bound, else
    /// [`ExportError::AboveBound`].
    pub fn within_bound(&self) -> Result<(), ExportError> {
        if self.comparison.max_abs <= self.bound.value {
            return Ok(());
        }
        Err(ExportError::AboveBound {
            dtype: self.dtype.name(),
            max_abs: self.comparison.max_abs,
            bound: self.bound.value,
        })
    }
}
