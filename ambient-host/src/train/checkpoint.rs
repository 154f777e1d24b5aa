//! Checkpoints: one safetensors file with every variable and both optimisers' state.
//!
//! Tensor names: the generator's variables (`gen.fc.weight`, `gen.bn0.running_mean`...),
//! the discriminator's (`disc.conv1.weight`...), Adam's state (`optim.gen.exp_avg.gen.fc.
//! weight`, `optim.gen.steps`...) and `train.step`, the number of completed steps (i64).
//! Everything lives in one file written atomically, so the weights, the optimiser state and
//! the step always belong together.

use std::collections::HashMap;
use std::path::Path;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::adam::Adam;
use super::run_dir::write_atomic_with;
use super::TrainError;

/// The name of the completed-step counter.
pub const STEP_KEY: &str = "train.step";

/// The parts of a training state that a checkpoint stores.
#[derive(Debug)]
pub struct TrainingState<'a> {
    /// The generator's variables.
    pub generator: &'a VarStore,
    /// The discriminator's variables.
    pub discriminator: &'a VarStore,
    /// The generator's optimiser.
    pub adam_generator: &'a Adam,
    /// The discriminator's optimiser.
    pub adam_discriminator: &'a Adam,
    /// Completed steps.
    pub step: u64,
}

/// Writes a checkpoint to `path` atomically.
pub fn save(path: &Path, state: &TrainingState<'_>) -> Result<(), TrainError> {
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    tensors.extend(state.generator.variables());
    tensors.extend(state.discriminator.variables());
    tensors.extend(state.adam_generator.state("optim.gen"));
    tensors.extend(state.adam_discriminator.state("optim.disc"));
    tensors.push((STEP_KEY.into(), Tensor::from_slice(&[state.step as i64])));

    let on_cpu = tensors
        .into_iter()
        .map(|(name, t)| {
            Ok((
                name,
                t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?,
            ))
        })
        .collect::<Result<Vec<_>, tch::TchError>>()?;
    write_atomic_with(path, |temp| {
        Tensor::write_safetensors(&on_cpu, temp).map_err(TrainError::from)
    })
}

/// Reads every tensor of a checkpoint.
pub fn read(path: &Path) -> Result<HashMap<String, Tensor>, TrainError> {
    if !path.exists() {
        return Err(TrainError::NoCheckpoint {
            path: path.to_path_buf(),
        });
    }
    let tensors = Tensor::read_safetensors(path).map_err(|e| TrainError::CheckpointMismatch {
        path: path.to_path_buf(),
        reason: format!("unreadable: {e}"),
    })?;
    Ok(tensors.into_iter().collect())
}

/// Returns the completed-step count stored in a checkpoint.
pub fn step_of(path: &Path, tensors: &HashMap<String, Tensor>) -> Result<u64, TrainError> {
    tensors
        .get(STEP_KEY)
        .filter(|t| t.numel() == 1 && t.kind() == Kind::Int64)
        .map(|t| t.int64_value(&[0]).max(0) as u64)
        .ok_or_else(|| mismatch(path, format!("no {STEP_KEY} counter")))
}

/// Copies the checkpoint's values into every variable of `vars`, whose names all start
/// with `prefix` (`gen.` or `disc.`).
///
/// Fails, changing nothing, when a variable is missing or has another shape, or when the
/// checkpoint holds a `prefix` variable that `vars` lacks: all three mean another
/// architecture.
pub fn restore_vars(
    path: &Path,
    vars: &mut VarStore,
    prefix: &str,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), TrainError> {
    let ours = vars.variables();
    for (name, var) in &ours {
        let stored = tensors
            .get(name)
            .ok_or_else(|| mismatch(path, format!("it has no variable {name}")))?;
        if stored.size() != var.size() {
            let reason = format!(
                "variable {name} has shape {:?} there, the model needs {:?}",
                stored.size(),
                var.size()
            );
            return Err(mismatch(path, reason));
        }
    }
    if let Some(extra) = tensors
        .keys()
        .find(|k| k.starts_with(prefix) && !ours.contains_key(k.as_str()))
    {
        let reason = format!("it has variable {extra}, which the model lacks");
        return Err(mismatch(path, reason));
    }

    tch::no_grad(|| {
        for (name, mut var) in ours {
            if let Some(stored) = tensors.get(&name) {
                var.f_copy_(stored)?;
            }
        }
        Ok::<(), tch::TchError>(())
    })?;
    Ok(())
}

/// Restores an optimiser's state stored under `prefix`.
pub fn restore_adam(
    path: &Path,
    adam: &mut Adam,
    prefix: &str,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), TrainError> {
    adam.load_state(prefix, tensors)
        .map_err(|name| mismatch(path, format!("optimiser tensor {name} is missing or wrong")))
}

fn mismatch(path: &Path, reason: String) -> TrainError {
    TrainError::CheckpointMismatch {
        path: path.to_path_buf(),
        reason,
    }
}
