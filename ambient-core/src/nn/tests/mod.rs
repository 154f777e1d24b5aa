//! Tests of the layers, the generators of the paper, the int8 path and the GEMM routes.

mod format_1_1;
mod generators;
mod int8;
mod layers;
pub(crate) mod support;
