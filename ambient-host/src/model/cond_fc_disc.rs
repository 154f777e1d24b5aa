//! The conditional fully connected discriminator of the AmbientGAN reference code's MNIST
//! 1-D experiments (Pad-Rotate-Project and Pad-Rotate-Project-θ): [y ⊕ c] → dense 25 →
//! leaky ReLU 0.2 → ⊕ c → dense 25 → leaky ReLU 0.2 → ⊕ c → dense 1 (a logit), where `c`
//! is the one-hot class.
//!
//! The reference code's version has batch normalisation after each hidden layer; this one
//! has none, so that real and simulated measurements never share batch statistics.

use tch::nn::{self, Module};
use tch::Tensor;

use super::conditioning::{concat_vector, one_hot_or_zeros};
use super::layers::leaky_relu;
use super::ModelError;

const HIDDEN: i64 = 25;

/// The discriminator; variables `fc1`, `fc2`, `fc3` under its path.
#[derive(Debug)]
pub struct Discriminator {
    fc1: nn::Linear,
    fc2: nn::Linear,
    fc3: nn::Linear,
    classes: i64,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[L]`, `L ≥ 1`, with
    /// `classes` classes.
    pub fn new(path: nn::Path, input: &[i64], classes: i64) -> Result<Self, ModelError> {
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
        Ok(Self {
            fc1: nn::linear(&path / "fc1", len + classes, HIDDEN, config),
            fc2: nn::linear(&path / "fc2", HIDDEN + classes, HIDDEN, config),
            fc3: nn::linear(&path / "fc3", HIDDEN + classes, 1, config),
            classes,
        })
    }

    fn run(&self, y: &Tensor, labels: Option<&Tensor>) -> Tensor {
        let c = one_hot_or_zeros(labels, y.size()[0], self.classes, y.device());
        let x = leaky_relu(&self.fc1.forward(&concat_vector(y, &c)), 0.2);
        let x = leaky_relu(&self.fc2.forward(&concat_vector(&x, &c)), 0.2);
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
