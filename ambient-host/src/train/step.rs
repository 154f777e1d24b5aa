//! The updates of a training step: [`critic_update`] for the discriminator and
//! [`generator_update`] for the generator, under each adversarial loss ([`StepLoss`]).
//!
//! Both take the discriminator's inputs: `real` (real measurements, or clean images in
//! `clean` mode) and `fake` (the generated batch, measured in `ambient` mode). The trainer
//! decides how many of each a step makes and on which batches.

use serde::Serialize;
use tch::{Kind, Reduction, Tensor};

use super::adam::Adam;
use super::precision::{Autocast, Precision};
use super::TrainError;
use crate::model::Discriminator;

/// The losses of one step, from its last discriminator update and its generator update.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepLosses {
    /// Discriminator loss.
    pub d_loss: f64,
    /// Generator loss.
    pub g_loss: f64,
    /// Mean discriminator output (logit or critic score) on the real batch.
    pub d_real: f64,
    /// Mean discriminator output on the generated batch.
    pub d_fake: f64,
    /// Gradient penalty before weighting (WGAN-GP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gp: Option<f64>,
    /// The auxiliary classifier's cross-entropy on the real batch (ACWGAN-GP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ac_real: Option<f64>,
}

/// The adversarial loss of the updates, with its weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepLoss {
    /// Sigmoid cross-entropy: target `real_label` on real and 0 on generated examples for
    /// the discriminator; the generator maximises `log D(fake)`.
    NonSaturating {
        /// The discriminator's target on real examples.
        real_label: f64,
    },
    /// WGAN-GP: the critic minimises `D(fake) − D(real) + λ·GP`, the generator `−D(fake)`.
    /// The penalty `(‖∇D(u)‖₂ − 1)²` is taken at `u = real + α(fake − real)` with one
    /// α ~ U(0, 1) per example, in the discriminator's input space (the measurement space
    /// in `ambient` mode), the norm over all non-batch dimensions.
    WganGp {
        /// The penalty's weight λ; 0 skips computing the penalty.
        lambda: f64,
    },
    /// ACWGAN-GP: the WGAN-GP critic loss plus [`AC_SCALE_D`] times the auxiliary
    /// classifier's cross-entropy on the real batch; the generator minimises `−D(fake)`
    /// plus [`AC_SCALE_G`] times the cross-entropy of the generated batch against its
    /// classes.
    AcWganGp {
        /// The penalty's weight λ; 0 skips computing the penalty.
        lambda: f64,
    },
}

/// The batch of one discriminator update.
#[derive(Clone, Copy, Debug)]
pub struct CriticBatch<'a> {
    /// The real examples as the discriminator sees them.
    pub real: &'a Tensor,
    /// The generated examples as the discriminator sees them, detached from the
    /// generator's graph.
    pub fake: &'a Tensor,
    /// The real examples' classes `[B]`, int64, which the auxiliary classifier of
    /// [`StepLoss::AcWganGp`] learns; `None` for the other losses.
    pub real_labels: Option<&'a Tensor>,
}

/// The losses of one discriminator update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CriticLosses {
    /// Discriminator loss.
    pub d_loss: f64,
    /// Mean discriminator output on the real batch.
    pub d_real: f64,
    /// Mean discriminator output on the generated batch.
    pub d_fake: f64,
    /// Gradient penalty before weighting (WGAN losses only).
    pub gp: Option<f64>,
    /// The auxiliary classifier's cross-entropy on the real batch (ACWGAN-GP only).
    pub ac_real: Option<f64>,
}

impl CriticLosses {
    /// Returns the step's losses: these, from its last discriminator update, and
    /// `g_loss`, from its last generator update.
    pub fn with_generator(self, g_loss: f64) -> StepLosses {
        StepLosses {
            d_loss: self.d_loss,
            g_loss,
            d_real: self.d_real,
            d_fake: self.d_fake,
            gp: self.gp,
            ac_real: self.ac_real,
        }
    }
}

/// Makes one update of `discriminator` with `adam` on `batch` under `loss`, its forward
/// passes (the penalty's included) in `precision`.
pub fn critic_update(
    loss: StepLoss,
    discriminator: &dyn Discriminator,
    adam: &mut Adam,
    batch: CriticBatch<'_>,
    precision: Precision,
) -> Result<CriticLosses, TrainError> {
    let (real, fake) = (batch.real, batch.fake);
    let scope = Autocast::enter(precision)?;
    let (d_loss, d_real, d_fake, gp, ac) = match loss {
        StepLoss::NonSaturating { real_label } => {
            let d_real = score(discriminator, real)?;
            let d_fake = score(discriminator, fake)?;
            let d_loss = bce(&d_real, real_label)? + bce(&d_fake, 0.0)?;
            (d_loss, mean(&d_real)?, mean(&d_fake)?, None, None)
        }
        StepLoss::WganGp { lambda } => {
            let d_real = score(discriminator, real)?.f_mean(Kind::Float)?;
            let d_fake = score(discriminator, fake)?.f_mean(Kind::Float)?;
            let gp = penalty(discriminator, real, fake, lambda)?;
            let d_loss = with_penalty(&d_fake - &d_real, gp.as_ref(), lambda);
            (d_loss, scalar(&d_real)?, scalar(&d_fake)?, gp, None)
        }
        StepLoss::AcWganGp { lambda } => {
            let (d_real, classes_real) = discriminator.forward_with_classes(real);
            let d_real = d_real.f_mean(Kind::Float)?;
            let d_fake = score(discriminator, fake)?.f_mean(Kind::Float)?;
            let ac = cross_entropy(classes_real, batch.real_labels)?;
            let gp = penalty(discriminator, real, fake, lambda)?;
            let critic_loss = (&d_fake - &d_real) + &ac * AC_SCALE_D;
            let d_loss = with_penalty(critic_loss, gp.as_ref(), lambda);
            (d_loss, scalar(&d_real)?, scalar(&d_fake)?, gp, Some(ac))
        }
    };
    drop(scope);

    adam.zero_grad();
    d_loss.f_backward()?;
    adam.step()?;
    Ok(CriticLosses {
        d_loss: scalar(&d_loss)?,
        d_real,
        d_fake,
        gp: gp.as_ref().map(scalar).transpose()?,
        ac_real: ac.as_ref().map(scalar).transpose()?,
    })
}

/// Makes one update of the generator with `adam` through `discriminator` on `fake`, the
/// generated batch as the discriminator sees it, still attached to the generator's graph;
/// `fake_labels` are the classes it was generated for (used by
/// [`StepLoss::AcWganGp`] only). The discriminator's forward pass runs in `precision`.
/// Returns the generator loss.
pub fn generator_update(
    loss: StepLoss,
    discriminator: &dyn Discriminator,
    adam: &mut Adam,
    fake: &Tensor,
    fake_labels: Option<&Tensor>,
    precision: Precision,
) -> Result<f64, TrainError> {
    let scope = Autocast::enter(precision)?;
    let g_loss = match loss {
        StepLoss::NonSaturating { .. } => bce(&score(discriminator, fake)?, 1.0)?,
        StepLoss::WganGp { .. } => -score(discriminator, fake)?.f_mean(Kind::Float)?,
        StepLoss::AcWganGp { .. } => {
            let (score, classes_fake) = discriminator.forward_with_classes(fake);
            let ac_fake = cross_entropy(classes_fake, fake_labels)?;
            -score.f_mean(Kind::Float)? + ac_fake * AC_SCALE_G
        }
    };
    drop(scope);

    adam.zero_grad();
    g_loss.f_backward()?;
    adam.step()?;
    scalar(&g_loss)
}

/// Weight of the critic's auxiliary cross-entropy on real examples, as in the reference
/// CIFAR-10 code.
pub const AC_SCALE_D: f64 = 1.0;
/// Weight of the generator's auxiliary cross-entropy on its own classes.
pub const AC_SCALE_G: f64 = 0.1;

/// Returns the mean cross-entropy of class `logits` against `labels`, or an error when the
/// discriminator has no auxiliary classifier or the batch no labels.
fn cross_entropy(logits: Option<Tensor>, labels: Option<&Tensor>) -> Result<Tensor, TrainError> {
    let logits = logits.ok_or_else(|| TrainError::InvalidOption {
        option: "--model",
        reason: "the ac-wgan-gp loss needs a discriminator with an auxiliary classifier".into(),
    })?;
    let labels = labels.ok_or_else(|| TrainError::InvalidOption {
        option: "--model",
        reason: "the ac-wgan-gp loss needs a conditional model and labelled images".into(),
    })?;
    Ok(logits.f_cross_entropy_loss::<Tensor>(labels, None, Reduction::Mean, -100, 0.0)?)
}

/// Returns the gradient penalty when its weight `lambda` is not 0, and `None` without
/// computing it otherwise: the updates between two penalties of `--gp-every` skip its
/// second backward pass.
fn penalty(
    discriminator: &dyn Discriminator,
    real: &Tensor,
    fake: &Tensor,
    lambda: f64,
) -> Result<Option<Tensor>, TrainError> {
    if lambda == 0.0 {
        return Ok(None);
    }
    gradient_penalty(discriminator, real, fake).map(Some)
}

/// Returns `loss + lambda · gp`, or `loss` when the update took no penalty.
fn with_penalty(loss: Tensor, gp: Option<&Tensor>, lambda: f64) -> Tensor {
    match gp {
        Some(gp) => loss + gp * lambda,
        None => loss,
    }
}

fn gradient_penalty(
    discriminator: &dyn Discriminator,
    real: &Tensor,
    fake: &Tensor,
) -> Result<Tensor, TrainError> {
    let size = real.size();
    let mut alpha_size = vec![1i64; size.len()];
    alpha_size[0] = size[0];
    let alpha = Tensor::f_rand(&alpha_size, (Kind::Float, real.device()))?;
    let mixed = (real + (fake - real) * alpha)
        .f_detach()?
        .set_requires_grad(true);
    let total = discriminator.forward(&mixed).f_sum(Kind::Float)?;
    let grads = Tensor::f_run_backward(&[&total], &[&mixed], true, true)?;
    let norm = grads[0]
        .f_flatten(1, -1)?
        .f_norm_scalaropt_dim(2, [1i64].as_slice(), false)?;
    Ok((norm - 1.0).f_square()?.f_mean(Kind::Float)?)
}

/// Runs `discriminator` on `y` and returns its scores in f32, whatever the precision of
/// its forward pass.
fn score(discriminator: &dyn Discriminator, y: &Tensor) -> Result<Tensor, TrainError> {
    Ok(discriminator.forward(y).f_to_kind(Kind::Float)?)
}

fn bce(logits: &Tensor, target: f64) -> Result<Tensor, TrainError> {
    let targets = logits.f_full_like(target)?;
    Ok(logits.f_binary_cross_entropy_with_logits::<Tensor>(
        &targets,
        None,
        None,
        Reduction::Mean,
    )?)
}

fn scalar(t: &Tensor) -> Result<f64, TrainError> {
    Ok(f64::try_from(t.f_detach()?)?)
}

fn mean(t: &Tensor) -> Result<f64, TrainError> {
    scalar(&t.f_mean(Kind::Float)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::seeds::torch_rng_lock;
    use tch::Device;

    /// The critic `D(y) = w · y`, whose input gradient is `w` everywhere.
    #[derive(Debug)]
    struct LinearCritic(Tensor);

    impl Discriminator for LinearCritic {
        fn forward(&self, y: &Tensor) -> Tensor {
            y.flatten(1, -1).matmul(&self.0)
        }
    }

    /// A critic `D(y) = w · y` that records the batch size of every call.
    #[derive(Debug)]
    struct RecordingCritic {
        weight: Tensor,
        calls: std::cell::RefCell<Vec<i64>>,
    }

    impl Discriminator for RecordingCritic {
        fn forward(&self, y: &Tensor) -> Tensor {
            self.calls.borrow_mut().push(y.size()[0]);
            y.flatten(1, -1).matmul(&self.weight)
        }
    }

    /// A recording critic with a zero weight `[2, 1]` and an Adam over its variables,
    /// which must outlive both.
    fn recording_critic() -> (tch::nn::VarStore, RecordingCritic, Adam) {
        let vars = tch::nn::VarStore::new(Device::Cpu);
        let critic = RecordingCritic {
            weight: vars.root().zeros("w", &[2, 1]),
            calls: Default::default(),
        };
        let adam = Adam::new(&vars, 1e-3, 0.5, 0.999, 1e-8);
        (vars, critic, adam)
    }

    #[test]
    fn each_call_sees_one_batch() {
        let _rng = torch_rng_lock();
        let (_vars, critic, mut adam) = recording_critic();
        let options = (Kind::Float, Device::Cpu);
        // 3 real and 5 generated examples: a call that mixed them would see 8.
        let real = Tensor::randn([3, 2], options);
        let fake = Tensor::randn([5, 2], options);
        let batch = CriticBatch {
            real: &real,
            fake: &fake,
            real_labels: None,
        };
        let loss = StepLoss::NonSaturating { real_label: 1.0 };
        critic_update(loss, &critic, &mut adam, batch, Precision::F32).unwrap();
        assert_eq!(*critic.calls.borrow(), [3, 5]);
        generator_update(loss, &critic, &mut adam, &fake, None, Precision::F32).unwrap();
        assert_eq!(*critic.calls.borrow(), [3, 5, 5]);
    }

    #[test]
    fn penalty_of_linear_critic() {
        let _rng = torch_rng_lock();
        // ‖w‖ = ‖(3, 4)‖ = 5, so every example's penalty is (5 − 1)² = 16.
        let critic = LinearCritic(Tensor::from_slice(&[3.0f32, 4.0]).view([2, 1]));
        let options = (Kind::Float, Device::Cpu);
        let real = Tensor::randn([6, 1, 1, 2], options);
        let fake = Tensor::randn([6, 1, 1, 2], options);
        let gp = gradient_penalty(&critic, &real, &fake).unwrap();
        assert!((gp.double_value(&[]) - 16.0).abs() < 1e-4, "{gp}");
    }

    #[test]
    fn zero_weight_skips_the_penalty() {
        let _rng = torch_rng_lock();
        let (_vars, critic, mut adam) = recording_critic();
        let options = (Kind::Float, Device::Cpu);
        let real = Tensor::ones([3, 2], options);
        let fake = Tensor::zeros([3, 2], options);
        let batch = CriticBatch {
            real: &real,
            fake: &fake,
            real_labels: None,
        };

        // With λ = 0 the critic scores the real and the generated batch only.
        let loss = StepLoss::WganGp { lambda: 0.0 };
        let without = critic_update(loss, &critic, &mut adam, batch, Precision::F32).unwrap();
        assert_eq!(*critic.calls.borrow(), [3, 3]);
        assert_eq!(without.gp, None);
        assert_eq!(without.d_loss, without.d_fake - without.d_real);

        // With λ > 0 a third call scores the interpolated batch.
        let loss = StepLoss::WganGp { lambda: 2.0 };
        let penalised = critic_update(loss, &critic, &mut adam, batch, Precision::F32).unwrap();
        assert_eq!(*critic.calls.borrow(), [3, 3, 3, 3, 3]);
        let gp = penalised.gp.expect("a penalty is reported");
        let expected = penalised.d_fake - penalised.d_real + 2.0 * gp;
        assert!((penalised.d_loss - expected).abs() < 1e-6, "{penalised:?}");
    }

    /// Runs one WGAN-GP update of the critic `D(y) = (3, 4) · y` on real examples 0.1 and
    /// generated ones 0, and returns its losses.
    fn update_in(precision: Precision) -> CriticLosses {
        let (_vars, critic, mut adam) = recording_critic();
        let mut weight = critic.weight.shallow_clone();
        let w = Tensor::from_slice(&[3.0f32, 4.0]).view([2, 1]);
        tch::no_grad(|| weight.copy_(&w));
        let options = (Kind::Float, Device::Cpu);
        let real = Tensor::full([4, 2], 0.1, options);
        let fake = Tensor::zeros([4, 2], options);
        let batch = CriticBatch {
            real: &real,
            fake: &fake,
            real_labels: None,
        };
        let loss = StepLoss::WganGp { lambda: 1.0 };
        let losses = critic_update(loss, &critic, &mut adam, batch, precision).unwrap();
        assert_eq!(weight.kind(), Kind::Float);
        losses
    }

    #[test]
    fn bf16_rounds_the_scores_and_keeps_the_penalty() {
        let _rng = torch_rng_lock();
        // In f32 the real score is 0.3 + 0.4 = 0.7. In bf16, 0.1 becomes 0.10009765625
        // and the score 0.7007 rounds to 0.69921875.
        let f32 = update_in(Precision::F32);
        assert!((f32.d_real - 0.7).abs() < 1e-6, "{f32:?}");
        let bf16 = update_in(Precision::Bf16);
        assert_eq!(bf16.d_real, 0.69921875, "{bf16:?}");

        // The input gradient of w · y is w = (3, 4), exact in bf16, so both penalties are
        // (5 − 1)² = 16.
        assert_eq!(f32.gp, Some(16.0));
        assert_eq!(bf16.gp, Some(16.0));
    }

    #[test]
    fn penalty_is_differentiable_in_critic() {
        let _rng = torch_rng_lock();
        // d/dw (‖w‖ − 1)² = 2 (‖w‖ − 1) w / ‖w‖ = 2 · 4 · (3, 4) / 5 = (4.8, 6.4).
        let w = Tensor::from_slice(&[3.0f32, 4.0])
            .view([2, 1])
            .set_requires_grad(true);
        let critic = LinearCritic(w.shallow_clone());
        let real = Tensor::zeros([4, 2], (Kind::Float, Device::Cpu));
        let fake = Tensor::ones([4, 2], (Kind::Float, Device::Cpu));
        gradient_penalty(&critic, &real, &fake).unwrap().backward();
        let grad = Vec::<f32>::try_from(w.grad().flatten(0, -1)).unwrap();
        assert!((grad[0] - 4.8).abs() < 1e-4, "{grad:?}");
        assert!((grad[1] - 6.4).abs() < 1e-4, "{grad:?}");
    }
}
