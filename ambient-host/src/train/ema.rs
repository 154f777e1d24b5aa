//! An exponential moving average of the generator's weights (`--ema DECAY`).
//!
//! A GAN generator keeps moving while the discriminator chases it, and the weights of a
//! single step carry that step's artefacts: under Block-Pixels the discriminator sees one
//! pixel in ten, so speckle that changes from step to step goes unpunished. The average
//! over the last ~1/(1 − decay) steps keeps what the steps agree on. Samples, `eval`,
//! `sample` and `export` use the average; training itself never reads it.

use tch::nn::VarStore;
use tch::{Kind, TchError};

use super::TrainError;
use crate::model::Generator;

/// The prefix of the average's tensors in a checkpoint (`ema.gen.fc.weight`...).
pub const PREFIX: &str = "ema.";

/// The averaged generator: its own variables, with the same names as the trained ones.
#[derive(Debug)]
pub struct Ema {
    /// The averaged variables.
    pub vars: VarStore,
    /// A generator that reads [`Ema::vars`].
    pub generator: Box<dyn Generator>,
    decay: f64,
}

impl Ema {
    /// Starts the average at the current values of `source`; `vars` and `generator` must
    /// be a second copy of the same architecture.
    pub fn new(
        mut vars: VarStore,
        generator: Box<dyn Generator>,
        source: &VarStore,
        decay: f64,
    ) -> Result<Self, TrainError> {
        vars.copy(source)?;
        Ok(Self {
            vars,
            generator,
            decay,
        })
    }

    /// Moves the average towards `source` after completed step `step` (from 1).
    ///
    /// The weight of the new values is at least 1/11 at first, falling to 1 − decay, so
    /// that the random initial weights do not linger in a short run.
    pub fn update(&mut self, source: &VarStore, step: u64) -> Result<(), TrainError> {
        let d = decay_at(self.decay, step);
        let current = source.variables();
        tch::no_grad(|| {
            for (name, mut average) in self.vars.variables() {
                let Some(value) = current.get(&name) else {
                    continue;
                };
                if matches!(average.kind(), Kind::Float | Kind::Double) {
                    // average + (1 − d)·(value − average), in one pass; it returns
                    // `average` itself.
                    let _ = average.f_lerp_(value, 1.0 - d)?;
                } else {
                    average.f_copy_(value)?;
                }
            }
            Ok::<(), TchError>(())
        })?;
        Ok(())
    }
}

/// Returns the average's decay after `step` steps: `decay`, capped at
/// (1 + step) / (10 + step).
pub fn decay_at(decay: f64, step: u64) -> f64 {
    let t = step as f64;
    decay.min((1.0 + t) / (10.0 + t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::seeds::torch_rng_lock;

    #[test]
    fn update_moves_each_value_by_one_minus_decay() {
        let _rng = torch_rng_lock();
        use ambient_core::Shape;
        use tch::Device;

        use crate::model::GeneratorArch;

        let build = || {
            let vars = VarStore::new(Device::Cpu);
            let generator = GeneratorArch::Dcgan28
                .build(vars.root() / "gen", Shape::new(1, 28, 28))
                .expect("the CPU preset's generator builds");
            (vars, generator)
        };
        let (trained, _) = build();
        let (vars, generator) = build();
        let mut ema = Ema::new(vars, generator, &trained, 0.5).expect("same names");

        let bias = || trained.variables()["gen.fc.bias"].shallow_clone();
        assert_eq!(bias().double_value(&[0]), 0.0);
        let _ = tch::no_grad(|| bias().fill_(4.0));
        ema.update(&trained, 1_000).expect("update");
        ema.update(&trained, 1_001).expect("update");

        // 0 → 2 → 3: each update closes half the gap, at decay 0.5.
        let averaged = &ema.vars.variables()["gen.fc.bias"];
        assert_eq!(averaged.double_value(&[0]), 3.0);
        assert_eq!(bias().double_value(&[0]), 4.0);
    }

    #[test]
    fn decay_warms_up_then_holds() {
        assert!((decay_at(0.999, 0) - 0.1).abs() < 1e-12);
        assert!((decay_at(0.999, 90) - 0.91).abs() < 1e-12);
        assert_eq!(decay_at(0.999, 1_000_000), 0.999);
        assert_eq!(decay_at(0.0, 5), 0.0);
    }
}
