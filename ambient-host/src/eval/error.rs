//! Errors of training the classifier and of scoring samples.

use std::path::PathBuf;

use crate::data::DataError;
use crate::train::TrainError;

/// An error of training, saving or loading the classifier, or of scoring a sample set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The images or their labels could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The generator of a run could not be loaded or run.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A weight file could not be parsed or run by the core.
    #[error("cannot generate from {path}: {source}")]
    Model {
        /// The weight file.
        path: PathBuf,
        /// The core's or the exporter's error.
        source: crate::export::ExportError,
    },
    /// libtorch failed.
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A JSON file is malformed or could not be encoded.
    #[error("{path} is not valid JSON of the expected kind: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The training or test split has no labels.
    #[error("{path} has no labels file; the classifier needs labelled images")]
    NoLabels {
        /// The data folder.
        path: PathBuf,
    },
    /// The classifier file does not hold this build's classifier.
    #[error("{path} is not a classifier this build can load: {reason}")]
    ClassifierMismatch {
        /// The weights file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The classifier file is missing.
    #[error(
        "no classifier at {path}; train one with `ambient-host classifier train` or pass \
         --classifier FILE"
    )]
    NoClassifier {
        /// The expected weights file.
        path: PathBuf,
    },
    /// The images to score do not have the classifier's input shape.
    #[error("cannot score images of shape {shape:?}: the classifier takes [N, 1, 28, 28]")]
    ImageShape {
        /// The shape found.
        shape: Vec<i64>,
    },
    /// A `.npy` file is malformed or not an f32 array.
    #[error("{path} is not a usable .npy array: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: String,
    },
    /// The input is neither a run folder, a `.amb` model nor a `.npy` array.
    #[error("{path} is not a run folder (with config.json), a .amb model or a .npy array")]
    UnknownInput {
        /// The path given.
        path: PathBuf,
    },
    /// Too few samples, or an invalid split count.
    #[error("invalid {option}: {reason}")]
    InvalidOption {
        /// The option (`-n`, `--splits`...).
        option: &'static str,
        /// The reason and what would work.
        reason: String,
    },
    /// The scores could not be computed from the given values.
    #[error("invalid scoring input: {0}")]
    Math(#[from] MathError),
}

/// An error in the probabilities or features a score is computed from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MathError {
    /// A buffer's length is not a multiple of its row width, or a width is zero.
    #[error("{what}: {len} values do not form rows of {width}")]
    Ragged {
        /// The buffer.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The row width.
        width: usize,
    },
    /// Fewer rows than the computation needs.
    #[error("{what}: {rows} rows, at least {needed} needed")]
    TooFewRows {
        /// The buffer.
        what: &'static str,
        /// Rows given.
        rows: usize,
        /// Rows needed.
        needed: usize,
    },
    /// Two feature sets have different widths.
    #[error("feature widths differ: {left} and {right}")]
    WidthMismatch {
        /// Width of the first set.
        left: usize,
        /// Width of the second set.
        right: usize,
    },
    /// A probability is negative or not finite, or a feature is not finite.
    #[error("{what} contains a value that is not finite or is negative: {value}")]
    BadValue {
        /// The buffer.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
}
