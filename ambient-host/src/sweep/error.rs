//! Errors of running a sweep and writing its report.

use std::path::PathBuf;

use crate::eval::EvalError;

/// An error of running, resuming or reporting a sweep.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The grid is inconsistent.
    #[error("invalid grid: {reason}")]
    InvalidGrid {
        /// The reason.
        reason: String,
    },
    /// A file or folder could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A JSON file is malformed.
    #[error("{path} is not a valid sweep file: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A stored result belongs to another configuration of the same run name.
    #[error(
        "{path} was produced with other settings ({difference}); use another --out folder \
         or delete that file to run it again"
    )]
    StaleResult {
        /// The result file.
        path: PathBuf,
        /// The first setting that differs.
        difference: String,
    },
    /// A `train` child process failed.
    #[error("training run {id} failed ({status}); its log is {log}")]
    TrainFailed {
        /// The run's name.
        id: String,
        /// The exit status.
        status: String,
        /// The log file.
        log: PathBuf,
    },
    /// Scoring a run failed.
    #[error("cannot score run {id}: {source}")]
    Eval {
        /// The run's name.
        id: String,
        /// The scoring error (boxed, because it is large and rare).
        source: Box<EvalError>,
    },
    /// The plot could not be encoded.
    #[error("cannot encode the plot {path}: {source}")]
    Png {
        /// The plot file.
        path: PathBuf,
        /// The encoder's error.
        source: image::ImageError,
    },
}

impl SweepError {
    /// Wraps an I/O error with its path.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
