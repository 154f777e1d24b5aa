//! The result of one finished run: a small JSON file per run in `OUT/results/`, written
//! atomically once the run is trained and scored. A sweep skips every run whose result is
//! there, so an interrupted grid resumes where it stopped.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::grid::RunSpec;
use super::SweepError;
use crate::eval::EvalReport;

/// The stored result of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The run's settings.
    pub spec: RunSpec,
    /// Wall-clock seconds of the `train` commands that finished the run in the sweep that
    /// finished it (a resumed run leaves out the time spent before the interruption).
    pub train_seconds: f64,
    /// Whether the run continued from a checkpoint left by an interrupted sweep.
    pub resumed: bool,
    /// Seconds since the Unix epoch when the result was written.
    pub finished_unix: u64,
    /// `git describe --always --dirty` of the source tree, when it could be read.
    pub commit: Option<String>,
    /// The scores.
    pub eval: EvalReport,
}

/// Returns the folder of result files of the sweep folder `out`.
pub fn results_dir(out: &Path) -> PathBuf {
    out.join("results")
}

/// Returns the result file of run `id`.
pub fn result_path(out: &Path, id: &str) -> PathBuf {
    results_dir(out).join(format!("{id}.json"))
}

/// Reads the result of `spec` if one is stored. Fails when the stored result was made
/// with other settings, so that a changed grid never mixes old and new numbers silently.
/// The thread count is not a setting: a grid may be finished with another `--threads`.
pub fn read_result(out: &Path, spec: &RunSpec) -> Result<Option<RunResult>, SweepError> {
    let path = result_path(out, &spec.id);
    if !path.exists() {
        return Ok(None);
    }
    let result = read_result_file(&path)?;
    if !same_settings(&result.spec, spec) {
        let stored = serde_json::to_value(&result.spec).unwrap_or_default();
        let expected = serde_json::to_value(spec).unwrap_or_default();
        let difference = first_difference(&stored, &expected);
        return Err(SweepError::StaleResult { path, difference });
    }
    Ok(Some(result))
}

/// Returns whether two specs differ at most in their `--threads` arguments. Threads change
/// the speed and the rounding of libtorch's parallel sums, not the run's settings, and a
/// resumed `train` run may change them too.
pub fn same_settings(a: &RunSpec, b: &RunSpec) -> bool {
    without_threads(a) == without_threads(b)
}

fn without_threads(spec: &RunSpec) -> RunSpec {
    let mut others = Vec::new();
    let mut args = spec.train_args.iter();
    while let Some(arg) = args.next() {
        if arg == "--threads" {
            args.next();
        } else if !arg.starts_with("--threads=") {
            others.push(arg.clone());
        }
    }
    RunSpec {
        train_args: others,
        ..spec.clone()
    }
}

/// Reads one result file.
pub fn read_result_file(path: &Path) -> Result<RunResult, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| SweepError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the result of a run atomically.
pub fn write_result(out: &Path, result: &RunResult) -> Result<(), SweepError> {
    let dir = results_dir(out);
    std::fs::create_dir_all(&dir).map_err(|e| SweepError::io(&dir, e))?;
    let path = result_path(out, &result.spec.id);
    let mut text = serde_json::to_string_pretty(result).map_err(|source| SweepError::Json {
        path: path.clone(),
        source,
    })?;
    text.push('\n');
    crate::train::run_dir::write_atomic(&path, text.as_bytes()).map_err(|e| SweepError::Io {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })
}

/// Describes the first field that differs between two specs, with both values.
fn first_difference(stored: &serde_json::Value, expected: &serde_json::Value) -> String {
    if let (Some(a), Some(b)) = (stored.as_object(), expected.as_object()) {
        for (key, value) in b {
            if a.get(key) != Some(value) {
                let old = a.get(key).map_or("none".into(), |v| v.to_string());
                return format!("{key}: {old} there, {value} now");
            }
        }
    }
    "the run settings differ".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::EvalSettings;

    fn spec(train_args: &[&str]) -> RunSpec {
        RunSpec {
            id: "block-pixels_p=0.9_ambient_s0".into(),
            measurement: "block-pixels".into(),
            strength: "p".into(),
            value: 0.9,
            params: [("p".to_string(), "0.9".to_string())].into(),
            label: "ambient".into(),
            mode: "ambient".into(),
            seed: 0,
            preset: "cpu".into(),
            steps: None,
            data: None,
            train_args: train_args.iter().map(|a| a.to_string()).collect(),
            eval: EvalSettings {
                samples: 1000,
                splits: 10,
                seed: 0,
            },
        }
    }

    #[test]
    fn thread_count_is_not_a_setting() {
        let two = spec(&["--threads", "2", "--lr-d", "6e-4"]);
        assert!(same_settings(
            &two,
            &spec(&["--threads", "1", "--lr-d", "6e-4"])
        ));
        assert!(same_settings(
            &two,
            &spec(&["--threads=1", "--lr-d", "6e-4"])
        ));
        assert!(same_settings(&two, &spec(&["--lr-d", "6e-4"])));
    }

    #[test]
    fn other_arguments_still_differ() {
        let two = spec(&["--threads", "2", "--lr-d", "6e-4"]);
        assert!(!same_settings(
            &two,
            &spec(&["--threads", "2", "--lr-d", "2e-4"])
        ));
        assert!(!same_settings(&two, &spec(&["--threads", "2"])));
    }
}
