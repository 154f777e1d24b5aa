//! Sweeps: a grid of training runs (measurement × strength × mode × seed), each trained
//! and scored, with a report of score against strength.
//!
//! - [`grid`] expands a grid file into runs.
//! - [`runner`] trains each pending run as a `train` child process of the same program
//!   and scores it in-process with the MNIST classifier.
//! - [`result`] stores one small JSON file per finished run. A sweep skips runs with a
//!   result, so an interrupted sweep resumes, in the same session or a later one.
//! - [`report`] writes a Markdown table and a PNG plot per measurement. [`plot`] draws
//!   the plot with [`canvas`] and a built-in bitmap [`font`].

pub mod canvas;
mod error;
pub mod font;
pub mod grid;
pub mod plot;
pub mod report;
pub mod result;
pub mod runner;

pub use error::SweepError;
pub use grid::{EvalSettings, Grid, MeasurementAxis, ModeSpec, RunSpec};
pub use report::{write_report, ReportFiles};
pub use result::{read_result, result_path, RunResult};
pub use runner::{run_sweep, SweepOptions, SweepSummary};
