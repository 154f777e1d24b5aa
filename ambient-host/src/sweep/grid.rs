//! The grid of a sweep: measurements, each with a strength parameter and its values, the
//! modes to train at each value, and the seeds. [`Grid::runs`] expands it into one
//! [`RunSpec`] per run.
//!
//! A grid file is JSON:
//!
//! ```json
//! {
//!   "preset": "cpu",
//!   "steps": 3000,
//!   "seeds": [0, 1],
//!   "train_args": ["--threads", "2"],
//!   "eval": { "samples": 1000, "splits": 10, "seed": 0 },
//!   "measurements": [
//!     {
//!       "measurement": "block-pixels",
//!       "strength": "p",
//!       "values": [0, 0.5, 0.9],
//!       "params": { "rescale": "true" },
//!       "modes": [
//!         "ambient",
//!         "ignore",
//!         { "label": "unmeasure-blur", "mode": "unmeasure", "args": ["--unmeasure", "blur"] }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! Every field but `measurements` has a default. A measurement's `modes` default to the
//! grid's top-level `modes`, and one of the two must be given. A mode is a `train --mode`
//! name, or an object with a label (the column of the report), the mode and extra `train`
//! arguments.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SweepError;

/// A whole grid, as read from JSON or built from command-line options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// The training preset (`train --preset`).
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Generator steps per run; `None` takes the preset's.
    #[serde(default)]
    pub steps: Option<u64>,
    /// Training data (`train --data`); `None` takes the built-in set.
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// Seeds; each (measurement, value, mode) is trained once per seed.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Extra arguments for every `train`.
    #[serde(default)]
    pub train_args: Vec<String>,
    /// The modes of measurements that list none.
    #[serde(default)]
    pub modes: Vec<ModeSpec>,
    /// The scoring settings of every run.
    #[serde(default)]
    pub eval: EvalSettings,
    /// The measurements.
    pub measurements: Vec<MeasurementAxis>,
}

/// One measurement and the values of its strength parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasurementAxis {
    /// The `train --measurement` name.
    pub measurement: String,
    /// The `--param` key that the values set: the plot's horizontal axis.
    pub strength: String,
    /// The values of `strength`, one run (per mode and seed) each.
    pub values: Vec<f64>,
    /// Fixed `--param` values.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Modes to train; empty takes the grid's.
    #[serde(default)]
    pub modes: Vec<ModeSpec>,
}

/// A mode of a grid: a name, or a labelled mode with extra `train` arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModeSpec {
    /// `train --mode NAME`, labelled NAME.
    Name(String),
    /// A labelled mode with extra arguments.
    Detailed {
        /// The report's name for it.
        label: String,
        /// `train --mode`.
        mode: String,
        /// Extra `train` arguments, for example `["--unmeasure", "blur"]`.
        #[serde(default)]
        args: Vec<String>,
    },
}

impl ModeSpec {
    /// Returns the report's name of the mode.
    pub fn label(&self) -> &str {
        match self {
            Self::Name(name) => name,
            Self::Detailed { label, .. } => label,
        }
    }

    /// Returns the `train --mode` value.
    pub fn mode(&self) -> &str {
        match self {
            Self::Name(name) => name,
            Self::Detailed { mode, .. } => mode,
        }
    }

    /// Returns the extra `train` arguments.
    pub fn args(&self) -> &[String] {
        match self {
            Self::Name(_) => &[],
            Self::Detailed { args, .. } => args,
        }
    }
}

/// The scoring settings of a run's generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSettings {
    /// Generated samples.
    #[serde(default = "default_samples")]
    pub samples: usize,
    /// Splits of the inception score.
    #[serde(default = "default_splits")]
    pub splits: usize,
    /// Seed of the latent vectors.
    #[serde(default)]
    pub seed: u64,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            samples: default_samples(),
            splits: default_splits(),
            seed: 0,
        }
    }
}

fn default_preset() -> String {
    "cpu".into()
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

fn default_samples() -> usize {
    crate::eval::DEFAULT_SAMPLES
}

fn default_splits() -> usize {
    crate::eval::DEFAULT_SPLITS
}

/// Everything that determines one run of a grid; a stored result counts for a run only
/// when its spec is equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The run's name: its result file and run folder.
    pub id: String,
    /// `train --measurement`.
    pub measurement: String,
    /// The strength parameter's key.
    pub strength: String,
    /// Its value.
    pub value: f64,
    /// Every `--param` of the run, the strength included.
    pub params: BTreeMap<String, String>,
    /// The mode's label.
    pub label: String,
    /// `train --mode`.
    pub mode: String,
    /// `train --seed`.
    pub seed: u64,
    /// `train --preset`.
    pub preset: String,
    /// `train --steps`, or the preset's.
    pub steps: Option<u64>,
    /// `train --data`, or the built-in set.
    pub data: Option<PathBuf>,
    /// Extra `train` arguments: the grid's, then the mode's.
    pub train_args: Vec<String>,
    /// The scoring settings.
    pub eval: EvalSettings,
}

impl RunSpec {
    /// Returns the `train` arguments of the run (without `--out`, `--resume` or progress
    /// options).
    pub fn train_arguments(&self) -> Vec<String> {
        let mut args = vec![
            "--measurement".to_string(),
            self.measurement.clone(),
            "--mode".into(),
            self.mode.clone(),
            "--preset".into(),
            self.preset.clone(),
            "--seed".into(),
            self.seed.to_string(),
        ];
        for (key, value) in &self.params {
            args.push("--param".into());
            args.push(format!("{key}={value}"));
        }
        if let Some(steps) = self.steps {
            args.extend(["--steps".into(), steps.to_string()]);
        }
        if let Some(data) = &self.data {
            args.extend(["--data".into(), data.display().to_string()]);
        }
        args.extend(self.train_args.iter().cloned());
        args
    }
}

impl Grid {
    /// Checks the grid and expands it into its runs: for each measurement, value, mode and
    /// seed in that order.
    pub fn runs(&self) -> Result<Vec<RunSpec>, SweepError> {
        if self.measurements.is_empty() {
            return Err(invalid("the grid has no measurements"));
        }
        if self.seeds.is_empty() {
            return Err(invalid("the grid has no seeds"));
        }
        let min_samples = crate::eval::DEFAULT_SAMPLES;
        if self.eval.samples < min_samples {
            return Err(invalid(format!(
                "eval samples must be at least {min_samples}, not {}",
                self.eval.samples
            )));
        }
        if self.eval.splits == 0 || self.eval.splits > self.eval.samples {
            return Err(invalid(format!(
                "eval splits must be between 1 and the samples, not {}",
                self.eval.splits
            )));
        }
        let mut runs = Vec::new();
        for axis in &self.measurements {
            let modes = self.modes_of(axis);
            check_axis(axis, modes)?;
            for &value in &axis.values {
                for mode in modes {
                    for &seed in &self.seeds {
                        runs.push(self.spec(axis, value, mode, seed));
                    }
                }
            }
        }
        check_unique(&runs)?;
        Ok(runs)
    }

    /// Returns the modes trained for `axis`.
    pub fn modes_of<'a>(&'a self, axis: &'a MeasurementAxis) -> &'a [ModeSpec] {
        if axis.modes.is_empty() {
            &self.modes
        } else {
            &axis.modes
        }
    }

    fn spec(&self, axis: &MeasurementAxis, value: f64, mode: &ModeSpec, seed: u64) -> RunSpec {
        let mut params = axis.params.clone();
        params.insert(axis.strength.clone(), format_value(value));
        let mut train_args = self.train_args.clone();
        train_args.extend(mode.args().iter().cloned());
        RunSpec {
            id: run_id(&axis.measurement, &axis.strength, value, mode.label(), seed),
            measurement: axis.measurement.clone(),
            strength: axis.strength.clone(),
            value,
            params,
            label: mode.label().to_string(),
            mode: mode.mode().to_string(),
            seed,
            preset: self.preset.clone(),
            steps: self.steps,
            data: self.data.clone(),
            train_args,
            eval: self.eval.clone(),
        }
    }
}

fn check_axis(axis: &MeasurementAxis, modes: &[ModeSpec]) -> Result<(), SweepError> {
    let name = &axis.measurement;
    if axis.values.is_empty() {
        return Err(invalid(format!("measurement {name} has no values")));
    }
    if let Some(v) = axis.values.iter().find(|v| !v.is_finite()) {
        return Err(invalid(format!(
            "measurement {name} has a value {v} that is not finite"
        )));
    }
    if modes.is_empty() {
        return Err(invalid(format!(
            "measurement {name} has no modes; give \"modes\" in the grid or in the measurement"
        )));
    }
    if axis.params.contains_key(&axis.strength) {
        return Err(invalid(format!(
            "measurement {name} fixes its strength parameter {} in \"params\"",
            axis.strength
        )));
    }
    Ok(())
}

fn check_unique(runs: &[RunSpec]) -> Result<(), SweepError> {
    let mut ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    match ids.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(invalid(format!(
            "two runs of the grid are both named {}; values, modes or seeds repeat",
            w[0]
        ))),
        None => Ok(()),
    }
}

fn invalid(reason: impl Into<String>) -> SweepError {
    SweepError::InvalidGrid {
        reason: reason.into(),
    }
}

/// Formats a strength value for `--param` and run names: the shortest decimal that reads
/// back as the same f64 (`0.9`, `2`, `0.05`).
pub fn format_value(value: f64) -> String {
    format!("{value}")
}

/// Returns the run name `MEASUREMENT_KEY=VALUE_LABEL_sSEED`, with every character other
/// than ASCII letters, digits, `.`, `-`, `=` and `_` replaced by `-`.
pub fn run_id(measurement: &str, strength: &str, value: f64, label: &str, seed: u64) -> String {
    let raw = format!(
        "{measurement}_{strength}={}_{label}_s{seed}",
        format_value(value)
    );
    raw.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '=' | '_' => c,
            _ => '-',
        })
        .collect()
}
