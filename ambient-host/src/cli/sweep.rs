//! `ambient-host sweep`: trains and scores a grid of runs and writes a report; an
//! interrupted sweep resumes where it stopped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ambient_host::data::builtin_dir;
use ambient_host::device::{self, DeviceChoice};
use ambient_host::eval::{default_classifier_path, DEFAULT_SAMPLES, DEFAULT_SPLITS};
use ambient_host::sweep::{
    read_result, run_sweep, write_report, EvalSettings, Grid, MeasurementAxis, ModeSpec,
    SweepOptions,
};
use anyhow::{bail, Context};

/// Options of `sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep folder: run folders, logs, one result JSON per finished run, the report.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A grid file (JSON). Without it and without --measurement, the folder's grid.json
    /// from an earlier sweep is used.
    #[arg(long, value_name = "FILE.json", conflicts_with = "measurement")]
    grid: Option<PathBuf>,
    /// One measurement to sweep, instead of a grid file (`train --measurement` names).
    #[arg(long, value_name = "NAME", requires_all = ["strength", "values", "modes"])]
    measurement: Option<String>,
    /// The --param key whose values are swept (p, noise, angles...).
    #[arg(long, value_name = "KEY")]
    strength: Option<String>,
    /// The strength values, comma-separated.
    #[arg(long, value_name = "V,V,...", value_delimiter = ',')]
    values: Vec<f64>,
    /// Modes to train at each value, comma-separated (`train --mode` names).
    #[arg(long, value_name = "MODE,...", value_delimiter = ',')]
    modes: Vec<String>,
    /// Seeds, comma-separated.
    #[arg(
        long,
        value_name = "S,S,...",
        value_delimiter = ',',
        default_value = "0"
    )]
    seeds: Vec<u64>,
    /// Fixed measurement parameters as KEY=VALUE (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The training preset.
    #[arg(long, default_value = "cpu")]
    preset: String,
    /// Generator steps per run. Default: the preset's.
    #[arg(long, value_name = "N")]
    steps: Option<u64>,
    /// Training data folder. Default: the built-in MNIST subset.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// An extra argument for every `train` (repeatable), e.g. --train-arg=--threads
    /// --train-arg=2.
    #[arg(long = "train-arg", value_name = "ARG", allow_hyphen_values = true)]
    train_args: Vec<String>,
    /// Samples generated per run for scoring.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLES)]
    samples: usize,
    /// Splits of the inception score.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SPLITS)]
    splits: usize,
    /// Classifier weights. Default: data/classifier/mnist-cnn.safetensors in the source
    /// tree.
    #[arg(long, value_name = "FILE")]
    classifier: Option<PathBuf>,
    /// MNIST-style folder whose test split is the real reference. Default: the built-in
    /// MNIST subset.
    #[arg(long, value_name = "DIR")]
    real: Option<PathBuf>,
    /// Device runs are scored on (pass --train-arg=--device ... for training).
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// Train at most N pending runs, then write the report and stop.
    #[arg(long, value_name = "N")]
    max_runs: Option<usize>,
    /// Only list the runs and whether each is finished.
    #[arg(long, conflicts_with = "report_only")]
    dry_run: bool,
    /// Only write the report from the results already stored.
    #[arg(long)]
    report_only: bool,
}

/// Runs the sweep (or lists it, or reports it).
pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    let grid = grid_of(&args)?;
    if args.dry_run {
        for spec in grid.runs()? {
            let done = read_result(&args.out, &spec)?.is_some();
            println!("{} {}", if done { "finished" } else { "pending " }, spec.id);
        }
        return Ok(());
    }

    if !args.report_only {
        super::set_threads(None);
        let options = SweepOptions {
            out: args.out.clone(),
            program: std::env::current_exe().context("cannot locate the ambient-host program")?,
            classifier: args
                .classifier
                .clone()
                .unwrap_or_else(default_classifier_path),
            real: args.real.clone().unwrap_or_else(builtin_dir),
            device: device::resolve(args.device)?,
            max_runs: args.max_runs,
        };
        let summary = run_sweep(&grid, &options)?;
        eprintln!(
            "sweep: {} runs, {} finished earlier, {} finished now, {} pending",
            summary.total, summary.skipped, summary.finished, summary.pending
        );
    }
    let files = write_report(&grid, &args.out)?;
    eprintln!("report: {}", files.markdown.display());
    for plot in files.plots {
        eprintln!("plot: {}", plot.display());
    }
    Ok(())
}

/// Returns the grid from --grid, from the inline options, or from OUT/grid.json.
fn grid_of(args: &SweepArgs) -> anyhow::Result<Grid> {
    if let Some(path) = &args.grid {
        return read_grid(path);
    }
    let Some(measurement) = &args.measurement else {
        let stored = args.out.join("grid.json");
        if stored.is_file() {
            return read_grid(&stored);
        }
        bail!(
            "give a grid: --grid FILE.json, or --measurement with --strength, --values and \
             --modes ({} has no grid.json from an earlier sweep)",
            args.out.display()
        );
    };

    let mut params = BTreeMap::new();
    for pair in &args.params {
        let Some((key, value)) = pair.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            bail!("--param {pair} is not KEY=VALUE, for example rescale=true");
        };
        params.insert(key.to_string(), value.to_string());
    }
    Ok(Grid {
        preset: args.preset.clone(),
        steps: args.steps,
        data: args.data.clone(),
        seeds: args.seeds.clone(),
        train_args: args.train_args.clone(),
        modes: Vec::new(),
        eval: EvalSettings {
            samples: args.samples,
            splits: args.splits,
            seed: 0,
        },
        measurements: vec![MeasurementAxis {
            measurement: measurement.clone(),
            strength: args.strength.clone().unwrap_or_default(),
            values: args.values.clone(),
            params,
            modes: args.modes.iter().cloned().map(ModeSpec::Name).collect(),
        }],
    })
}

fn read_grid(path: &std::path::Path) -> anyhow::Result<Grid> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid grid", path.display()))
}
