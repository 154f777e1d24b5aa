//! `ambient-core`: the device side of AmbientGAN, with no heap and no standard library.
//!
//! AmbientGAN trains a generative adversarial network from lossy measurements alone: the
//! generator produces clean images `x = G(z)`, a known random measurement `y = f_θ(x)` is
//! applied to them, and the discriminator compares those with real measurements. This crate
//! holds everything a device needs:
//!
//! - [`measure`]: the measurement operators (Block-Pixels, Drop-Row, Convolve+Noise,
//!   Pad-Rotate-Project, ...). Each is a small value type constructed for one image
//!   [`Shape`], with `measure(x, seed, y)` that draws θ on the fly and `theta(seed, out)`
//!   that writes θ explicitly for the host trainer.
//! - [`nn`]: generator inference. [`nn::Model`] parses a weight file into a fixed-capacity
//!   layer table that borrows the bytes, reports the exact scratch a batch needs and runs
//!   `generate(z, labels, out, scratch)` in f32 (f32 or f16 weights) or int8.
//! - [`format`]: the weight format (`.amb`): constants, tensor and layer types, the CRC-32,
//!   f16 conversion, and with the `writer` feature the writer.
//! - [`gemm`]: the f32 matrix product of the lowered layers: the crate's own blocked kernel
//!   packing into caller scratch, or `matrixmultiply` with the `alloc` feature.
//! - [`sampler`]: the one θ sampler. Every random draw of a measurement comes from it, so a
//!   device and the host agree to the bit given a 64-bit seed.
//! - [`record`]: the measurement record format (`.ambr`) a device streams to the trainer.
//!
//! # Features
//!
//! - no default features: `#![no_std]`, no allocator, every function works on caller
//!   slices. This is the build for microcontrollers (`thumbv7em-none-eabihf`).
//! - `alloc`: f32 GEMM through `matrixmultiply`, which allocates its packing buffers.
//! - `std`: implies `alloc`; adds `std::error::Error` for the error types.
//! - `writer`: the weight-format writer used by the exporter and by tests.
//!
//! # Conventions
//!
//! Images are `f32`, `[channels, height, width]`, in the model's value range (`[0, 1]` for
//! MNIST, `[-1, 1]` for colour data sets). "Zero" always means 0 in that range. No function
//! panics on input a caller controls: wrong slice lengths and invalid parameters are errors.

#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod crc32;
pub mod format;
pub mod gemm;
pub mod measure;
pub mod nn;
pub mod record;
pub mod sampler;
mod shape;

pub use shape::Shape;
