//! The run's random streams, each a pure function of the run seed and the step.
//!
//! Every random choice of step `t` (its latent vectors, its real and fake θ, its place in
//! the shuffled data) is drawn from a seed derived from `(run seed, stream, t)`. A run
//! therefore needs no generator state to resume: step `t` draws the same values whether
//! the run got there in one go or through a checkpoint. Derivation:
//! `stream_seed(s, k, t) = image_seed(image_seed(s, k), t)` with the core's `image_seed`
//! (SplitMix64) and `k` the stream's code.

use ambient_core::sampler::{image_seed, Sampler};

/// A random stream of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Initial weights (index 0).
    Init = 1,
    /// Torch's generator during a step: latent vectors, gradient-penalty mixing weights.
    Step = 2,
    /// θ of the real batch's measurement, and of the generated one with `--shared-theta`.
    RealTheta = 3,
    /// θ of the generated batch's measurement.
    FakeTheta = 4,
    /// The order of the examples in each epoch (index: the epoch).
    Shuffle = 5,
    /// The fixed latent vectors and θ of the sample grids (index 0).
    Preview = 6,
}

/// Returns the seed of `stream` at `index` (a step or an epoch) in the run seeded `seed`.
pub fn stream_seed(seed: u64, stream: Stream, index: u64) -> u64 {
    image_seed(image_seed(seed, stream as u64), index)
}

/// Seeds torch's global generators (CPU and CUDA) from a derived seed.
pub fn seed_torch(seed: u64) {
    tch::manual_seed(seed as i64);
}

/// Serialises the tests that seed or draw from torch's global generator. The test harness
/// runs tests on parallel threads, so one test's draw could fall between another's
/// seeding and its draws and change that test's values.
#[cfg(test)]
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The batches of a run: each epoch visits the examples in a fresh random order, and
/// step `t` (from 1) takes the next `batch` of them. A partial last batch of an epoch is
/// skipped.
#[derive(Clone, Debug)]
pub struct BatchOrder {
    seed: u64,
    len: usize,
    batch: usize,
    epoch: Option<u64>,
    order: Vec<usize>,
}

impl BatchOrder {
    /// Creates the order of `len` examples in batches of `batch` for the run seeded `seed`.
    ///
    /// Returns `None` when `batch` is 0, `len` is smaller than `batch`, or `len` exceeds
    /// `u32::MAX` (the sampler draws indices as `u32`).
    pub fn new(seed: u64, len: usize, batch: usize) -> Option<Self> {
        if batch == 0 || len < batch || u32::try_from(len).is_err() {
            return None;
        }
        Some(Self {
            seed,
            len,
            batch,
            epoch: None,
            order: Vec::new(),
        })
    }

    /// Returns the batches in one epoch.
    pub fn batches_per_epoch(&self) -> u64 {
        (self.len / self.batch) as u64
    }

    /// Returns the example indices of step `step` (from 1).
    pub fn indices(&mut self, step: u64) -> &[usize] {
        let per_epoch = self.batches_per_epoch();
        let position = step.saturating_sub(1);
        let epoch = position / per_epoch;
        if self.epoch != Some(epoch) {
            self.shuffle(epoch);
        }
        let start = (position % per_epoch) as usize * self.batch;
        &self.order[start..start + self.batch]
    }

    fn shuffle(&mut self, epoch: u64) {
        let mut sampler = Sampler::new(stream_seed(self.seed, Stream::Shuffle, epoch));
        self.order = (0..self.len).collect();
        for i in (1..self.len).rev() {
            let j = sampler.below(i as u32 + 1) as usize;
            self.order.swap(i, j);
        }
        self.epoch = Some(epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_visits_every_example_once() {
        let mut order = BatchOrder::new(7, 10, 3).unwrap();
        assert_eq!(order.batches_per_epoch(), 3);
        let mut seen: Vec<usize> = (1..=3).flat_map(|t| order.indices(t).to_vec()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        assert!(seen.iter().all(|&i| i < 10));
    }

    #[test]
    fn order_depends_only_on_seed_and_step() {
        let mut a = BatchOrder::new(7, 100, 8).unwrap();
        let mut b = BatchOrder::new(7, 100, 8).unwrap();
        let late = a.indices(40).to_vec();
        let _ = b.indices(3);
        assert_eq!(b.indices(40), late.as_slice());
        let mut c = BatchOrder::new(8, 100, 8).unwrap();
        assert_ne!(c.indices(40), late.as_slice());
    }

    #[test]
    fn new_rejects_small_sets() {
        assert!(BatchOrder::new(0, 5, 8).is_none());
        assert!(BatchOrder::new(0, 5, 0).is_none());
    }

    #[test]
    fn streams_differ() {
        let real = stream_seed(1, Stream::RealTheta, 5);
        let fake = stream_seed(1, Stream::FakeTheta, 5);
        assert_ne!(real, fake);
        assert_ne!(real, stream_seed(1, Stream::RealTheta, 6));
        assert_eq!(real, stream_seed(1, Stream::RealTheta, 5));
    }
}
