//! Checkpoints: one safetensors file with every variable and both optimisers' state.
//!
//! Tensor names: the generator's variables (`gen.fc.weight`, `gen.bn0.running_mean`...),
//! the discriminator's (`disc.conv1.weight`...), Adam's state (`optim.gen.exp_avg.gen.fc.
//! weight`, `optim.gen.steps`...), `train.step`, the number of completed steps (i64), and,
//! when the run averages its generator (`--ema`), the average (`ema.gen.fc.weight`...).
//! Everything lives in one file written atomically, so the weights, the optimiser state and
//! the step always belong together.

use std::collections::HashMap;
use std::path::Path;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::adam::Adam;
use super::ema;
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
    /// The generator's moving average, when the run keeps one.
    pub ema: Option<&'a VarStore>,
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
    if let Some(ema) = state.ema {
        let averaged = ema.variables().into_iter();
        tensors.extend(averaged.map(|(name, t)| (format!("{}{name}", ema::PREFIX), t)));
    }
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
    restore_vars_from(path, vars, prefix, "", tensors)
}

/// Loads the generator that inference uses into `vars` (named `gen.*`). That is the moving
/// average when the checkpoint contains one, and the trained weights otherwise.
pub fn restore_generator(
    path: &Path,
    vars: &mut VarStore,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), TrainError> {
    let averaged = format!("{}gen.", ema::PREFIX);
    let source = if tensors.keys().any(|k| k.starts_with(&averaged)) {
        ema::PREFIX
    } else {
        ""
    };
    restore_vars_from(path, vars, "gen.", source, tensors)
}

/// [`restore_vars`] reading the tensor `{source}{name}` for each variable `name`.
pub fn restore_vars_from(
    path: &Path,
    vars: &mut VarStore,
    prefix: &str,
    source: &str,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), TrainError> {
    let ours = vars.variables();
    let stored_name = |name: &str| format!("{source}{name}");
    for (name, var) in &ours {
        let key = stored_name(name);
        let stored = tensors
            .get(&key)
            .ok_or_else(|| mismatch(path, format!("it has no variable {key}")))?;
        if stored.size() != var.size() {
            let reason = format!(
                "variable {key} has shape {:?} there, the model needs {:?}",
                stored.size(),
                var.size()
            );
            return Err(mismatch(path, reason));
        }
    }
    let extra = tensors.keys().find(|k| {
        k.strip_prefix(source)
            .filter(|name| name.starts_with(prefix))
            .is_some_and(|name| !ours.contains_key(name))
    });
    if let Some(extra) = extra {
        let reason = format!("it has variable {extra}, which the model lacks");
        return Err(mismatch(path, reason));
    }

    tch::no_grad(|| {
        for (name, mut var) in ours {
            if let Some(stored) = tensors.get(&stored_name(&name)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::seeds::torch_rng_lock;

    fn tensors(pairs: &[(&str, f32)]) -> HashMap<String, Tensor> {
        let one = |v: f32| Tensor::from_slice(&[v]);
        pairs
            .iter()
            .map(|&(k, v)| (k.to_string(), one(v)))
            .collect()
    }

    fn generator_vars() -> VarStore {
        let vars = VarStore::new(Device::Cpu);
        let _ = vars.root().sub("gen").zeros("w", &[1]);
        vars
    }

    fn value(vars: &VarStore) -> f64 {
        vars.variables()["gen.w"].double_value(&[0])
    }

    #[test]
    fn inference_prefers_the_average() {
        let _rng = torch_rng_lock();
        let path = Path::new("checkpoint.safetensors");
        let mut vars = generator_vars();
        let both = tensors(&[("gen.w", 1.0), ("ema.gen.w", 2.0), ("disc.w", 3.0)]);
        restore_generator(path, &mut vars, &both).expect("loads");
        assert_eq!(value(&vars), 2.0);

        let trained_only = tensors(&[("gen.w", 1.0)]);
        restore_generator(path, &mut vars, &trained_only).expect("loads");
        assert_eq!(value(&vars), 1.0);
    }

    #[test]
    fn average_with_extra_variable_rejected() {
        let _rng = torch_rng_lock();
        let path = Path::new("checkpoint.safetensors");
        let mut vars = generator_vars();
        let extra = tensors(&[("gen.w", 1.0), ("ema.gen.w", 2.0), ("ema.gen.v", 0.0)]);
        let err = restore_generator(path, &mut vars, &extra).expect_err("other architecture");
        assert!(err.to_string().contains("ema.gen.v"), "{err}");
        assert_eq!(value(&vars), 0.0);
    }
}
