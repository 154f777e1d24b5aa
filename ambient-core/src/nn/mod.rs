//! Generator inference: the layers, the model graph and the forward pass, in f32 (weights
//! stored as f32 or f16) and in int8.
//!
//! [`Model::parse`] validates a weight file and plans its scratch; [`Model::scratch_len`]
//! and [`Model::scratch_align`] return exactly the caller memory a batch needs, and
//! [`Model::generate`] runs the batch without allocating. The heavy layers are lowered to
//! matrix products (im2col for convolutions, col2im for transposed convolutions) computed
//! by [`crate::gemm`] in f32, or by the integer kernels of [`int8`] in int8.
//!
//! The graph: value 0 is the latent input `z`, value `k + 1` the output of layer `k`. Every
//! layer names the value it reads, and a residual add names its second operand the same
//! way ("add the output of layer `j`" is `Op::Add { other: j + 1 }`), so a residual block's
//! shortcut branch is a run of layers that reads the block's input value.
//!
//! [`quant`] holds the quantisation arithmetic that both the device and the exporter use;
//! [`batch_norm_affine`] and [`fold_affine_into`] turn batch-norm statistics into the stored
//! form and fold them into the layer before.

mod activation;
mod conv;
mod conv_transpose;
mod dense;
mod error;
mod forward;
mod forward_int8;
pub mod int8;
#[cfg(all(any(feature = "std", test), target_arch = "x86_64"))]
mod int8_avx2;
mod model;
mod norm;
mod plan;
pub mod quant;
mod scratch;
mod shape_ops;
#[cfg(test)]
pub(crate) mod tests;

pub use crate::format::reader::{Header, Layer};
pub use crate::gemm::GemmRoute;
pub use error::InferError;
pub use model::Model;
pub use norm::{batch_norm_affine, fold_affine_into};
