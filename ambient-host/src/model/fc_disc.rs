//! A fully connected discriminator for 1-D measurements (Pad-Rotate-Project,
//! Gaussian-Projection): dense 100 → [batch norm] → leaky ReLU 0.2 → dense 100 → [batch
//! norm] → leaky ReLU 0.2 → dense 1.
//!
//! With batch normalisation it is the reference code's `discriminator_fc` (the CelebA 1-D
//! experiments, a non-saturating loss). Each call normalises its own batch
//! ([`super::layers::discriminator_norm`]). Without it, it is the critic of the WGAN-GP
//! loss, whose gradient penalty is taken per example and so must not mix the examples of
//! a batch.

use tch::nn::{self, Module};
use tch::Tensor;

use super::layers::{discriminator_norm, discriminator_norm_config, leaky_relu};
use super::ModelError;

const HIDDEN: i64 = 100;

/// The discriminator; variables `fc1`, `fc2`, `fc3` and, with batch normalisation, `bn1`
/// and `bn2` under its path.
#[derive(Debug)]
pub struct Discriminator {
    fc1: nn::Linear,
    bn1: Option<nn::BatchNorm>,
    fc2: nn::Linear,
    bn2: Option<nn::BatchNorm>,
    fc3: nn::Linear,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[L]`, `L ≥ 1`, with
    /// batch normalisation after each hidden dense layer when `batch_norm` is true.
    pub fn new(path: nn::Path, input: &[i64], batch_norm: bool) -> Result<Self, ModelError> {
        let &[len] = input else {
            return Err(ModelError::InputShape {
                shape: input.to_vec(),
                reason: "the fully connected discriminator takes [L]",
            });
        };
        if len < 1 {
            return Err(ModelError::InputShape {
                shape: input.to_vec(),
                reason: "the fully connected discriminator needs L ≥ 1",
            });
        }
        let config = nn::LinearConfig::default();
        let norm = |name: &str| {
            batch_norm.then(|| nn::batch_norm1d(&path / name, HIDDEN, discriminator_norm_config()))
        };
        Ok(Self {
            fc1: nn::linear(&path / "fc1", len, HIDDEN, config),
            bn1: norm("bn1"),
            fc2: nn::linear(&path / "fc2", HIDDEN, HIDDEN, config),
            bn2: norm("bn2"),
            fc3: nn::linear(&path / "fc3", HIDDEN, 1, config),
        })
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        let x = discriminator_norm(self.bn1.as_ref(), self.fc1.forward(y));
        let x = leaky_relu(&x, 0.2);
        let x = discriminator_norm(self.bn2.as_ref(), self.fc2.forward(&x));
        let x = leaky_relu(&x, 0.2);
        self.fc3.forward(&x)
    }
}
