//! Export: a trained generator to the core's weight format (`.amb`), checked against the
//! tch model it came from.
//!
//! The path from a run folder to a file:
//!
//! 1. [`LoadedRun::open`] loads the run's last checkpoint into the generator, on the CPU.
//! 2. [`arch::graph_of`] describes the generator as a [`Graph`] of inference layers with
//!    its tensors, read from the variables by name.
//! 3. [`lower()`] maps the graph onto the core's layer list, folding each batch norm into
//!    the layer before it where it can ([`lower`](mod@lower) lists where).
//! 4. [`FloatModel::encode`] writes the file through the core's writer: f32, f16 weights,
//!    or int8 through the core's quantisation, with activation ranges calibrated on a fixed
//!    latent batch ([`latents`]) and narrowed before saturating activations
//!    ([`calibrate`]).
//! 5. [`LoadedRun::check`] runs the file in `ambient-core` and the tch generator in eval
//!    mode on another fixed batch and compares them against the dtype's bound ([`check`]).
//!
//! Every step is deterministic, so exporting a run twice gives the same bytes.
//! [`summarize`] describes a weight file and [`generate::sample_images`] generates with
//! one, for `inspect` and `sample`.

pub mod arch;
pub mod calibrate;
pub mod check;
mod encode;
mod error;
pub mod generate;
mod graph;
pub mod latents;
pub mod layer_error;
pub mod lower;
mod reference;
mod run;
mod summary;
#[cfg(test)]
mod tests;

pub use encode::WeightDtype;
pub use error::ExportError;
pub use graph::{BatchNormStats, CondBatchNormStats, Graph, Layer, Node};
pub use lower::{lower, BatchNormFolding, FloatLayer, FloatModel};
pub use run::{CheckReport, LoadedRun};
pub use summary::summarize;
