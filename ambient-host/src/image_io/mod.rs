//! Image output: PNG sample grids and `.npy` arrays.

mod grid;
mod npy;

use std::path::PathBuf;

pub use grid::{grid_png, GRID_BORDER};
pub use npy::{encode_npy, write_npy};

/// An error producing or writing an image or array.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageIoError {
    /// The tensor does not have the shape the writer needs.
    #[error("cannot write a tensor of shape {shape:?}: {reason}")]
    Shape {
        /// The tensor's shape.
        shape: Vec<i64>,
        /// The shape required.
        reason: &'static str,
    },
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
    /// libtorch failed while reading the tensor.
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}
