//! `ambient-host`: the AmbientGAN trainer on libtorch.
//!
//! AmbientGAN trains a generative adversarial network from lossy measurements alone: the
//! generator produces clean images `x = G(z)`, a known random measurement `y = f_θ(x)` is
//! applied to them, and the discriminator compares those with real measurements. This
//! crate is the workstation side:
//!
//! - [`data`]: training sets. MNIST-style IDX folders (clean images, measured on the fly)
//!   and recorded measurements with the operator that produced them.
//! - [`measure`]: the measurement operators on tch tensors, differentiable in the image,
//!   with θ drawn by `ambient-core`'s sampler.
//! - [`model`]: the generators and discriminators of the presets, variables named by path.
//! - [`train`]: the training loop, its run folder (config, metrics, grids, checkpoints)
//!   and resuming.
//! - [`export`]: the generator to the core's weight format (`.amb`), folded, quantised and
//!   checked against the tch model.
//! - [`unmeasure`]: the classical repairs of the `unmeasure` baseline (blur, median, TV and
//!   diffusion inpainting, Wiener deconvolution), on the CPU with rayon.
//! - [`eval`]: the MNIST classifier and the scores of generated samples (inception score,
//!   Fréchet distance of classifier features, class histogram).
//! - [`sweep`]: grids of training runs, resumable, with a report of score against the
//!   measurement's strength.
//! - [`image_io`]: PNG grids and `.npy` arrays.
//! - [`device`] and [`doctor`]: choosing the compute device and reporting the set-up.
//!
//! The `ambient-host` program is a thin command line over these modules.

pub mod data;
pub mod device;
pub mod doctor;
pub mod eval;
pub mod export;
pub mod image_io;
pub mod measure;
pub mod model;
pub mod sweep;
pub mod train;
pub mod unmeasure;
