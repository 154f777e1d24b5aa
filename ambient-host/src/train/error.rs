//! Errors of configuring, running and resuming training.

use std::path::PathBuf;

use crate::data::DataError;
use crate::image_io::ImageIoError;
use crate::model::ModelError;

/// An error starting, continuing or finishing training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The training data could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The model does not fit the data.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The measurement rejected its parameters or its input.
    #[error(transparent)]
    Measure(#[from] crate::measure::MeasureError),
    /// The core rejected the measurement or its parameters.
    #[error("invalid measurement: {0}")]
    CoreMeasure(#[from] ambient_core::measure::MeasureError),
    /// A sample grid or array could not be written.
    #[error(transparent)]
    Image(#[from] ImageIoError),
    /// A classical repair of `unmeasure` mode failed.
    #[error("cannot repair the real measurements: {0}")]
    Unmeasure(#[from] crate::unmeasure::UnmeasureError),
    /// libtorch failed.
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
    /// A file of the run folder could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A JSON file of the run folder is malformed.
    #[error("{path} is not a valid run file: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// Two options, or an option and the data, do not fit together.
    #[error("invalid {option}: {reason}")]
    InvalidOption {
        /// The option (`--mode`, `--batch`...).
        option: &'static str,
        /// The problem and how to fix it.
        reason: String,
    },
    /// A feature that is planned but not built yet.
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
    /// `--resume` was asked with an option that changes the training curve.
    #[error(
        "cannot resume {run}: option {option} was {stored} in the run and is {requested} \
         now; drop the option to keep the run's value, or start a new run with another --out"
    )]
    ResumeMismatch {
        /// The run folder.
        run: PathBuf,
        /// The option's name in config.json.
        option: String,
        /// The value in the run's config.json.
        stored: String,
        /// The value requested now.
        requested: String,
    },
    /// `--resume` was asked for a folder that holds no run.
    #[error("cannot resume {run}: it holds no config.json; start it without --resume")]
    NoRun {
        /// The folder given.
        run: PathBuf,
    },
    /// A new run would overwrite an existing one.
    #[error("{run} already holds a run; pass --resume to continue it, or choose another --out")]
    RunExists {
        /// The run folder.
        run: PathBuf,
    },
    /// The checkpoint does not belong to this model.
    #[error("checkpoint {path} does not match the model: {reason}")]
    CheckpointMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// The first difference found.
        reason: String,
    },
    /// The run folder holds no checkpoint to sample from.
    #[error("{path} does not exist; the run has not written a checkpoint yet")]
    NoCheckpoint {
        /// The checkpoint path looked for.
        path: PathBuf,
    },
}

impl TrainError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
