//! Classical repairs `g` for the `unmeasure` baseline, in which the discriminator compares
//! `g(f_θ(x_real))` with the generator's unmeasured `G(z)`.
//!
//! Every repair runs on the CPU, one channel of one image at a time in parallel with
//! rayon, on a batch stored as `&[f32]` images `[C, H, W]` back to back:
//!
//! - [`blur`]: 5×5 Gaussian (σ = 1) blur of a masked measurement, the reference code's
//!   baseline for Block-Pixels, or a normalised convolution of the kept values;
//! - [`median`]: 3×3 median of the kept values, per channel;
//! - [`tv_inpaint`]: total-variation inpainting with a primal-dual solver;
//! - [`wiener`]: Wiener deconvolution for Convolve+Noise;
//! - [`inpaint`]: harmonic (diffusion) inpainting, the baseline for Block-Patch.
//!
//! The masked repairs take θ as `ambient-core` writes it for masking measurements
//! (Block-Pixels, Drop-Row/Col, Block-Patch, Keep-Patch): one value per image value, 0
//! where the value was dropped and the kept scale (1 or `1/(1-p)`) elsewhere, so the clean
//! value of a kept pixel is `y/θ`. [`repair_batch`] picks the repair for an [`Operator`]
//! and checks that it applies. [`TensorRepair`] does the same for a batch of tch tensors
//! in the training loop.
//!
//! [`Operator`]: ambient_core::measure::Operator

mod batch;
mod blur;
mod convolve;
mod error;
mod inpaint;
mod median;
mod repair;
mod tensor;
mod tv;
mod wiener;

pub use blur::{blur, BlurWeighting, BLUR_SIGMA, BLUR_SIZE};
pub use convolve::{convolve_same, Kernel};
pub use error::UnmeasureError;
pub use inpaint::{inpaint, InpaintOptions};
pub use median::median;
pub use repair::{repair_batch, theta_batch, Repair, RepairOptions, UnknownRepair};
pub use tensor::TensorRepair;
pub use tv::{total_variation, tv_inpaint, KeptValues, TvOptions};
pub use wiener::{
    estimate_signal_power, noise_to_signal, wiener, CELEBA_SIGNAL_POWER, MNIST_SIGNAL_POWER,
};
