//! A fully connected discriminator for 1-D measurements (Pad-Rotate-Project,
//! Gaussian-Projection): dense 100 → leaky ReLU 0.2 → dense 100 → leaky ReLU 0.2 → dense 1.
//!
//! The reference code's version has batch normalisation after each hidden layer; this one
//! has none, so that real and simulated measurements never share batch statistics.

use tch::nn::{self, Module};
use tch::Tensor;

use super::layers::leaky_relu;
use super::ModelError;

const HIDDEN: i64 = 100;

/// The discriminator; variables `fc1`, `fc2`, `fc3` under its path.
#[derive(Debug)]
pub struct Discriminator {
    fc1: nn::Linear,
    fc2: nn::Linear,
    fc3: nn::Linear,
}

impl Discriminator {
    /// Creates the discriminator's variables under `path` for input `[L]`, `L ≥ 1`.
    pub fn new(path: nn::Path, input: &[i64]) -> Result<Self, ModelError> {
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
        Ok(Self {
            fc1: nn::linear(&path / "fc1", len, HIDDEN, config),
            fc2: nn::linear(&path / "fc2", HIDDEN, HIDDEN, config),
            fc3: nn::linear(&path / "fc3", HIDDEN, 1, config),
        })
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        let x = leaky_relu(&self.fc1.forward(y), 0.2);
        let x = leaky_relu(&self.fc2.forward(&x), 0.2);
        self.fc3.forward(&x)
    }
}
