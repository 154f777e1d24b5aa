//! The fixed latent batches of export: the int8 calibration batch and the check batch.
//!
//! Both are drawn with the core's sampler ([`ambient_core::sampler::Sampler`], PCG32 with
//! a libm Box-Muller), not torch's generator, so that they are the same on every machine
//! and libtorch version, and an export is a pure function of the checkpoint.

use ambient_core::sampler::Sampler;

use crate::model::LatentDistribution;

/// Seed of the int8 calibration batch.
pub const CALIBRATION_SEED: u64 = 0x00ca_1b7a_7e00_0001;
/// Images in the int8 calibration batch.
pub const CALIBRATION_BATCH: usize = 512;
/// Seed of the batch the exported model is checked on: another batch than the
/// calibration one, so that the check also covers inputs the ranges were not fitted to.
pub const CHECK_SEED: u64 = 0x00c8_ec4e_0000_0002;
/// Images in the check batch.
pub const CHECK_BATCH: usize = 64;

/// A batch of latent vectors, and class labels for a conditional model.
#[derive(Clone, Debug, PartialEq)]
pub struct Latents {
    /// Images in the batch.
    pub count: usize,
    /// `count · latent` values, vector after vector.
    pub z: Vec<f32>,
    /// One class index per image (`i mod classes`, so every class appears), or `None`
    /// for an unconditional model.
    pub labels: Option<Vec<u32>>,
}

impl Latents {
    /// Draws `count` latent vectors of `latent` values from `distribution` with the
    /// sampler seeded `seed`, component after component: normal values are
    /// [`Sampler::gaussian`] draws (what the C library's `ambient_sample_latent` writes),
    /// uniform ones `2 · Sampler::uniform() − 1`.
    pub fn draw(
        distribution: LatentDistribution,
        count: usize,
        latent: usize,
        classes: usize,
        seed: u64,
    ) -> Self {
        let mut sampler = Sampler::new(seed);
        let z = (0..count * latent)
            .map(|_| match distribution {
                LatentDistribution::Normal => sampler.gaussian(),
                LatentDistribution::Uniform => 2.0 * sampler.uniform() - 1.0,
            })
            .collect();
        let labels = (classes > 0).then(|| (0..count).map(|i| (i % classes) as u32).collect());
        Self { count, z, labels }
    }

    /// Returns the latent vectors as a `[count, latent]` tensor.
    pub fn z_tensor(&self) -> Result<tch::Tensor, tch::TchError> {
        let latent = self.z.len().checked_div(self.count).unwrap_or(0);
        tch::Tensor::from_slice(&self.z).f_view([self.count as i64, latent as i64])
    }

    /// Returns the labels as an i64 tensor, or `None` for an unconditional batch.
    pub fn labels_tensor(&self) -> Option<tch::Tensor> {
        self.labels.as_ref().map(|l| {
            let l: Vec<i64> = l.iter().map(|&c| i64::from(c)).collect();
            tch::Tensor::from_slice(&l)
        })
    }
}
