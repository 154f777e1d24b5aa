//! One training step's updates: the discriminator's, then the generator's.
//!
//! Both losses take the discriminator's inputs for the step: `real` (real measurements,
//! or clean images in `clean` mode) and `fake` (the generated batch, measured in
//! `ambient` mode, still attached to the generator's graph). All discriminator updates of
//! a step reuse the same real batch, latent vectors and θ, as the reference MNIST code does.

use serde::Serialize;
use tch::{Kind, Reduction, Tensor};

use super::adam::Adam;
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

/// The optimisers and the discriminator that a step updates.
pub struct Updaters<'a> {
    /// The discriminator.
    pub discriminator: &'a dyn Discriminator,
    /// The discriminator's optimiser.
    pub adam_d: &'a mut Adam,
    /// The generator's optimiser.
    pub adam_g: &'a mut Adam,
}

/// A non-saturating GAN step: `critic_steps` discriminator updates on sigmoid
/// cross-entropy (target `real_label` on real, 0 on fake), then one generator update
/// that maximises `log D(fake)`.
pub fn non_saturating(
    up: Updaters<'_>,
    real: &Tensor,
    fake: &Tensor,
    critic_steps: u32,
    real_label: f64,
) -> Result<StepLosses, TrainError> {
    let fake_detached = fake.detach();
    let mut last = (0.0, 0.0, 0.0);
    for _ in 0..critic_steps.max(1) {
        let d_real = up.discriminator.forward(real);
        let d_fake = up.discriminator.forward(&fake_detached);
        let d_loss = bce(&d_real, real_label)? + bce(&d_fake, 0.0)?;
        up.adam_d.zero_grad();
        d_loss.f_backward()?;
        up.adam_d.step()?;
        last = (scalar(&d_loss)?, mean(&d_real)?, mean(&d_fake)?);
    }

    let g_loss = bce(&up.discriminator.forward(fake), 1.0)?;
    up.adam_g.zero_grad();
    g_loss.f_backward()?;
    up.adam_g.step()?;
    Ok(StepLosses {
        d_loss: last.0,
        g_loss: scalar(&g_loss)?,
        d_real: last.1,
        d_fake: last.2,
        gp: None,
        ac_real: None,
    })
}

/// A WGAN-GP step: `critic_steps` critic updates on `D(fake) − D(real) + λ·GP`, then one
/// generator update on `−D(fake)`. The penalty `(‖∇D(u)‖₂ − 1)²` is taken at
/// `u = real + α(fake − real)` with one α ~ U(0, 1) per example, in the discriminator's
/// input space (the measurement space in `ambient` mode), the norm over all non-batch
/// dimensions.
pub fn wgan_gp(
    up: Updaters<'_>,
    real: &Tensor,
    fake: &Tensor,
    critic_steps: u32,
    lambda: f64,
) -> Result<StepLosses, TrainError> {
    let fake_detached = fake.detach();
    let mut last = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..critic_steps.max(1) {
        let d_real = up.discriminator.forward(real).f_mean(Kind::Float)?;
        let d_fake = up
            .discriminator
            .forward(&fake_detached)
            .f_mean(Kind::Float)?;
        let gp = gradient_penalty(up.discriminator, real, &fake_detached)?;
        let d_loss = (&d_fake - &d_real) + &gp * lambda;
        up.adam_d.zero_grad();
        d_loss.f_backward()?;
        up.adam_d.step()?;
        last = (
            scalar(&d_loss)?,
            scalar(&d_real)?,
            scalar(&d_fake)?,
            scalar(&gp)?,
        );
    }

    let g_loss = -up.discriminator.forward(fake).f_mean(Kind::Float)?;
    up.adam_g.zero_grad();
    g_loss.f_backward()?;
    up.adam_g.step()?;
    Ok(StepLosses {
        d_loss: last.0,
        g_loss: scalar(&g_loss)?,
        d_real: last.1,
        d_fake: last.2,
        gp: Some(last.3),
        ac_real: None,
    })
}

/// Weight of the critic's auxiliary cross-entropy on real examples, as in the reference
/// CIFAR-10 code.
pub const AC_SCALE_D: f64 = 1.0;
/// Weight of the generator's auxiliary cross-entropy on its own classes.
pub const AC_SCALE_G: f64 = 0.1;

/// The class labels of an ACWGAN-GP step: the real batch's and those the generated batch
/// was made for.
pub struct StepLabels<'a> {
    /// The real batch's classes `[B]`, int64.
    pub real: &'a Tensor,
    /// The generated batch's classes `[B]`, int64.
    pub fake: &'a Tensor,
}

/// An ACWGAN-GP step: the WGAN-GP critic loss plus [`AC_SCALE_D`] times the auxiliary
/// classifier's cross-entropy on the real batch, then a generator update on `−D(fake)`
/// plus [`AC_SCALE_G`] times the cross-entropy of the generated batch against its classes.
pub fn ac_wgan_gp(
    up: Updaters<'_>,
    real: &Tensor,
    fake: &Tensor,
    labels: StepLabels<'_>,
    critic_steps: u32,
    lambda: f64,
) -> Result<StepLosses, TrainError> {
    let fake_detached = fake.detach();
    let mut last = (0.0, 0.0, 0.0, 0.0, 0.0);
    for _ in 0..critic_steps.max(1) {
        let (d_real, classes_real) = up.discriminator.forward_with_classes(real);
        let d_real = d_real.f_mean(Kind::Float)?;
        let d_fake = up
            .discriminator
            .forward(&fake_detached)
            .f_mean(Kind::Float)?;
        let ac = cross_entropy(classes_real, labels.real)?;
        let gp = gradient_penalty(up.discriminator, real, &fake_detached)?;
        let d_loss = (&d_fake - &d_real) + &gp * lambda + &ac * AC_SCALE_D;
        up.adam_d.zero_grad();
        d_loss.f_backward()?;
        up.adam_d.step()?;
        last = (
            scalar(&d_loss)?,
            scalar(&d_real)?,
            scalar(&d_fake)?,
            scalar(&gp)?,
            scalar(&ac)?,
        );
    }

    let (score, classes_fake) = up.discriminator.forward_with_classes(fake);
    let ac_fake = cross_entropy(classes_fake, labels.fake)?;
    let g_loss = -score.f_mean(Kind::Float)? + ac_fake * AC_SCALE_G;
    up.adam_g.zero_grad();
    g_loss.f_backward()?;
    up.adam_g.step()?;
    Ok(StepLosses {
        d_loss: last.0,
        g_loss: scalar(&g_loss)?,
        d_real: last.1,
        d_fake: last.2,
        gp: Some(last.3),
        ac_real: Some(last.4),
    })
}

/// Returns the mean cross-entropy of class `logits` against `labels`, or an error when the
/// discriminator has no auxiliary classifier.
fn cross_entropy(logits: Option<Tensor>, labels: &Tensor) -> Result<Tensor, TrainError> {
    let logits = logits.ok_or_else(|| TrainError::InvalidOption {
        option: "--model",
        reason: "the ac-wgan-gp loss needs a discriminator with an auxiliary classifier".into(),
    })?;
    Ok(logits.f_cross_entropy_loss::<Tensor>(labels, None, Reduction::Mean, -100, 0.0)?)
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
    let score = discriminator.forward(&mixed).f_sum(Kind::Float)?;
    let grads = Tensor::f_run_backward(&[&score], &[&mixed], true, true)?;
    let norm = grads[0]
        .f_flatten(1, -1)?
        .f_norm_scalaropt_dim(2, [1i64].as_slice(), false)?;
    Ok((norm - 1.0).f_square()?.f_mean(Kind::Float)?)
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
    use tch::Device;

    /// The critic `D(y) = w · y`, whose input gradient is `w` everywhere.
    #[derive(Debug)]
    struct LinearCritic(Tensor);

    impl Discriminator for LinearCritic {
        fn forward(&self, y: &Tensor) -> Tensor {
            y.flatten(1, -1).matmul(&self.0)
        }
    }

    #[test]
    fn penalty_of_linear_critic() {
        // ‖w‖ = ‖(3, 4)‖ = 5, so every example's penalty is (5 − 1)² = 16.
        let critic = LinearCritic(Tensor::from_slice(&[3.0f32, 4.0]).view([2, 1]));
        let options = (Kind::Float, Device::Cpu);
        let real = Tensor::randn([6, 1, 1, 2], options);
        let fake = Tensor::randn([6, 1, 1, 2], options);
        let gp = gradient_penalty(&critic, &real, &fake).unwrap();
        assert!((gp.double_value(&[]) - 16.0).abs() < 1e-4, "{gp}");
    }

    #[test]
    fn penalty_is_differentiable_in_critic() {
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
