//! Errors of sampling θ and applying a measurement to tensors.

use tch::{Device, Kind, TchError};

/// An error of building θ or of applying a measurement to tensors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeasureError {
    /// The core rejected the operator's parameters or a buffer length.
    #[error("measurement error: {0}")]
    Core(#[from] ambient_core::measure::MeasureError),
    /// A tensor handle that holds no tensor (`Tensor::new()`).
    #[error("{what} is an undefined tensor; pass a batch of images")]
    Undefined {
        /// Name of the tensor.
        what: &'static str,
    },
    /// A tensor has the wrong shape.
    #[error("{what} has shape {actual:?}, expected {expected:?}")]
    Shape {
        /// Name of the tensor (`"x"`, `"theta"`).
        what: &'static str,
        /// The shape the operator needs.
        expected: Vec<i64>,
        /// The shape given.
        actual: Vec<i64>,
    },
    /// A tensor has an element type other than the one the operator needs.
    #[error("{what} has element type {actual:?}, expected {expected:?}")]
    Kind {
        /// Name of the tensor.
        what: &'static str,
        /// The element type the operator needs.
        expected: Kind,
        /// The element type given.
        actual: Kind,
    },
    /// The image batch and θ are on different devices.
    #[error("x is on {x:?} but theta is on {theta:?}; move both to one device")]
    Device {
        /// Device of the image batch.
        x: Device,
        /// Device of θ.
        theta: Device,
    },
    /// θ was built for a different measurement, or the same one with other parameters or
    /// another image shape, than the one applying it.
    #[error(
        "theta was built for another operator ({theta}) than the one applying it \
         ({operator}); build theta with the same operator, parameters and image shape"
    )]
    ThetaMismatch {
        /// Name of the measurement θ was built for.
        theta: &'static str,
        /// Name of the measurement applying it.
        operator: &'static str,
    },
    /// A θ value given explicitly (for example read from a record) is out of range.
    #[error("theta value {value} at index {index} is invalid: {reason}")]
    InvalidTheta {
        /// Position of the value in one image's θ.
        index: usize,
        /// The value given.
        value: f32,
        /// The condition the value must satisfy.
        reason: &'static str,
    },
    /// A batch too large to index.
    #[error("a batch of {batch} images is too large for this measurement")]
    BatchTooLarge {
        /// The number of images requested.
        batch: usize,
    },
    /// A thread to build θ could not be started.
    #[error("failed to start a thread to build theta: {0}")]
    ThreadSpawn(#[source] std::io::Error),
    /// libtorch reported an error.
    #[error("libtorch error: {0}")]
    Torch(#[from] TchError),
}
