//! The conditional fully connected discriminator `discriminator_fc_cond` of the AmbientGAN
//! reference code's MNIST 1-D experiments (Pad-Rotate-Project and Pad-Rotate-Project-θ).
//! Its layers are [y ⊕ c] → dense 25 → [batch norm] → leaky ReLU 0.2 → ⊕ c → dense 25 →
//! [batch norm] → leaky ReLU 0.2 → ⊕ c → dense 1 (a logit), where `c` is the one-hot
//! class.
//!
//! The trainer builds it with the batch normalisation, as the reference code has it, and
//! each call normalises its own batch ([`super::layers::discriminator_norm`]). Runs whose
//! config.json predates the `discriminator_batch_norm` field build it without.

use tch::nn::{self, Module};
use tch::Tensor;

use super::conditioning::{concat_vector, one_hot_or_zeros};
use super::layers::{discriminator_norm, discriminator_norm_config, leaky_relu};
use super::ModelError;

const HIDDEN: i64 = 25;

/// The discriminator; variables `fc1`, `fc2`, `fc3` and, with batch normalisation, `bn1`
/// and `bn2` under its path.
#[derive(Debug)]
pub struct Discriminator {
    fc1: nn::Linear,
    bn1: Option<nn::BatchNorm>,
    fc2: nn::Linear,
    bn2: Option<nn::BatchNorm>,
    fc3: nn::Linear,
    classes: i64,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[L]`, `L ≥ 1`, with
    /// `classes` classes, and batch normalisation after each hidden dense layer when
    /// `batch_norm` is true.
    pub fn new(
        path: nn::Path,
        input: &[i64],
        classes: i64,
        batch_norm: bool,
    ) -> Result<Self, ModelError> {
        let len = match input {
            &[len] if len >= 1 => len,
            _ => {
                return Err(ModelError::InputShape {
                    shape: input.to_vec(),
                    reason: "the conditional fully connected discriminator takes [L], L ≥ 1",
                })
            }
        };
        let config = nn::LinearConfig::default();
        let norm = |name: &str| {
            batch_norm.then(|| nn::batch_norm1d(&path / name, HIDDEN, discriminator_norm_config()))
        };
        Ok(Self {
            fc1: nn::linear(&path / "fc1", len + classes, HIDDEN, config),
            bn1: norm("bn1"),
            fc2: nn::linear(&path / "fc2", HIDDEN + classes, HIDDEN, config),
            bn2: norm("bn2"),
            fc3: nn::linear(&path / "fc3", HIDDEN + classes, 1, config),
            classes,
        })
    }

    fn run(&self, y: &Tensor, labels: Option<&Tensor>) -> Tensor {
        let c = one_hot_or_zeros(labels, y.size()[0], self.classes, y.device());
        let x = self.fc1.forward(&concat_vector(y, &c));
        let x = leaky_relu(&discriminator_norm(self.bn1.as_ref(), x), 0.2);
        let x = self.fc2.forward(&concat_vector(&x, &c));
        let x = leaky_relu(&discriminator_norm(self.bn2.as_ref(), x), 0.2);
        self.fc3.forward(&concat_vector(&x, &c))
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        self.run(y, None)
    }

    fn classes(&self) -> i64 {
        self.classes
    }

    fn forward_labeled(&self, y: &Tensor, labels: &Tensor) -> Tensor {
        self.run(y, Some(labels))
    }
}
