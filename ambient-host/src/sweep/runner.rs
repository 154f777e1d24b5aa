//! Running the pending runs of a grid. Each run is trained by a `train` child process of
//! the same program, then scored in this process. A crash or an out-of-memory kill
//! therefore ends one run, not the sweep, and an interrupted run resumes from its
//! checkpoint.
//!
//! The sweep folder:
//!
//! ```text
//! OUT/grid.json           the grid of the last sweep
//! OUT/runs/ID/            each run's folder, as `train --out` writes it
//! OUT/logs/ID.log         each run's `train` output
//! OUT/results/ID.json     each finished run's result (the resume marker)
//! OUT/report.md, *.png    the report
//! ```

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tch::Device;

use super::grid::{Grid, RunSpec};
use super::result::{read_result, write_result, RunResult};
use super::SweepError;
use crate::eval::{evaluate, samples_from_run, Classifier, EvalError, RealReference};

/// The settings of a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The sweep folder.
    pub out: PathBuf,
    /// The `ambient-host` program whose `train` subcommand trains each run.
    pub program: PathBuf,
    /// The classifier weights that score each run.
    pub classifier: PathBuf,
    /// The MNIST-style folder whose test split is the real reference.
    pub real: PathBuf,
    /// The device runs are scored on (training takes `--device` from the train arguments).
    pub device: Device,
    /// Train at most this many pending runs, then stop (`None`: all of them).
    pub max_runs: Option<usize>,
}

/// The counts of runs a sweep skipped, finished and left pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// Runs in the grid.
    pub total: usize,
    /// Runs whose result was already stored.
    pub skipped: usize,
    /// Runs trained and scored by this sweep.
    pub finished: usize,
    /// Runs left for a later sweep (because of `max_runs`).
    pub pending: usize,
}

/// The classifier and the real reference, loaded once per sweep when a run needs them.
struct Scorer {
    classifier: Classifier,
    reference: RealReference,
}

/// Trains and scores every run of `grid` that has no stored result, at most
/// `options.max_runs` of them. The classifier is loaded before the first training starts,
/// so a missing classifier fails at once rather than after a run's training.
pub fn run_sweep(grid: &Grid, options: &SweepOptions) -> Result<SweepSummary, SweepError> {
    let runs = grid.runs()?;
    let out = &options.out;
    let mut todo = Vec::new();
    for (index, spec) in runs.iter().enumerate() {
        if read_result(out, spec)?.is_some() {
            eprintln!(
                "[{}/{}] {}: finished earlier, skipped",
                index + 1,
                runs.len(),
                spec.id
            );
        } else {
            todo.push((index, spec));
        }
    }
    // Written only once every stored result matched the grid, so that a refused grid
    // does not replace the folder's grid.json.
    fs::create_dir_all(out).map_err(|e| SweepError::io(out, e))?;
    write_grid(grid, out)?;

    let selected = options.max_runs.unwrap_or(usize::MAX).min(todo.len());
    let summary = SweepSummary {
        total: runs.len(),
        skipped: runs.len() - todo.len(),
        finished: selected,
        pending: todo.len() - selected,
    };
    if selected == 0 {
        return Ok(summary);
    }

    let scorer = load_scorer(options).map_err(|source| SweepError::Eval {
        id: todo[0].1.id.clone(),
        source: Box::new(source),
    })?;
    let commit = source_commit();
    for &(index, spec) in &todo[..selected] {
        let tag = format!("[{}/{}] {}", index + 1, runs.len(), spec.id);
        finish_run(spec, options, &scorer, commit.clone(), &tag)?;
    }
    Ok(summary)
}

/// Trains, scores and stores one run.
fn finish_run(
    spec: &RunSpec,
    options: &SweepOptions,
    scorer: &Scorer,
    commit: Option<String>,
    tag: &str,
) -> Result<(), SweepError> {
    let (train_seconds, resumed) = train_run(spec, options, tag)?;
    let report = score_run(spec, options, scorer).map_err(|source| SweepError::Eval {
        id: spec.id.clone(),
        source: Box::new(source),
    })?;
    eprintln!(
        "{tag}: {}; trained in {train_seconds:.0} s",
        report.human_line()
    );
    let result = RunResult {
        spec: spec.clone(),
        train_seconds,
        resumed,
        finished_unix: unix_now(),
        commit,
        eval: report,
    };
    write_result(&options.out, &result)
}

fn write_grid(grid: &Grid, out: &Path) -> Result<(), SweepError> {
    let path = out.join("grid.json");
    let text = serde_json::to_string_pretty(grid).map_err(|source| SweepError::Json {
        path: path.clone(),
        source,
    })? + "\n";
    fs::write(&path, text).map_err(|e| SweepError::io(&path, e))
}

/// Returns the folder of run `id`.
pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Trains one run to its last step, resuming a run an earlier sweep left half-trained.
/// Returns the wall-clock seconds and whether it resumed.
fn train_run(spec: &RunSpec, options: &SweepOptions, tag: &str) -> Result<(f64, bool), SweepError> {
    let dir = run_dir(&options.out, &spec.id);
    let has_config = dir.join("config.json").is_file();
    let resume = has_config && dir.join("checkpoint.safetensors").is_file();
    if has_config && !resume {
        // Interrupted before its first checkpoint: nothing to continue from, and `train`
        // refuses a new run in a folder that already has a config.
        fs::remove_dir_all(&dir).map_err(|e| SweepError::io(&dir, e))?;
    }
    let parent = dir.parent().unwrap_or(&options.out);
    fs::create_dir_all(parent).map_err(|e| SweepError::io(parent, e))?;

    let logs = options.out.join("logs");
    fs::create_dir_all(&logs).map_err(|e| SweepError::io(&logs, e))?;
    let log_path = logs.join(format!("{}.log", spec.id));
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| SweepError::io(&log_path, e))?;
    let log_err = log.try_clone().map_err(|e| SweepError::io(&log_path, e))?;

    let mut command = Command::new(&options.program);
    command
        .arg("train")
        .arg("--out")
        .arg(&dir)
        .args(["--progress", "lines"])
        .args(spec.train_arguments());
    if resume {
        command.arg("--resume");
    }
    eprintln!(
        "{tag}: {} ({})",
        if resume {
            "resuming training"
        } else {
            "training"
        },
        log_path.display()
    );
    // NOTE: a sweep killed with SIGKILL leaves this child training. Ctrl-C on a terminal
    // reaches both, because they share the process group.
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .status()
        .map_err(|e| SweepError::io(&options.program, e))?;
    if !status.success() {
        return Err(SweepError::TrainFailed {
            id: spec.id.clone(),
            status: status.to_string(),
            log: log_path,
        });
    }
    Ok((started.elapsed().as_secs_f64(), resume))
}

fn load_scorer(options: &SweepOptions) -> Result<Scorer, EvalError> {
    let classifier = Classifier::load(&options.classifier, options.device)?;
    let reference = RealReference::from_test_split(&classifier, &options.real)?;
    Ok(Scorer {
        classifier,
        reference,
    })
}

fn score_run(
    spec: &RunSpec,
    options: &SweepOptions,
    scorer: &Scorer,
) -> Result<crate::eval::EvalReport, EvalError> {
    let dir = run_dir(&options.out, &spec.id);
    let samples = samples_from_run(&dir, spec.eval.samples, spec.eval.seed, options.device)?;
    evaluate(
        &samples,
        &scorer.classifier,
        &scorer.reference,
        spec.eval.splits,
    )
}

/// Returns `git describe --always --dirty` of the source tree the program was built from,
/// or `None` when git or the tree is not there.
fn source_commit() -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(["describe", "--always", "--dirty"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
