//! `ambient-host measure --data DIR --measurement NAME --param KEY=VALUE -o FILE.ambr`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use ambient_core::measure::{MeasurementKind, MeasurementParams, Operator};
use ambient_host::data::records::{record_images, RecordSet};
use ambient_host::data::{self, MeasurementSet, TrainingData};
use ambient_host::image_io::grid_png;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tch::Tensor;

/// Options of `measure`.
#[derive(Debug, clap::Args)]
pub struct MeasureArgs {
    /// Clean images: an MNIST-style folder of IDX files (plain or .gz); its training split
    /// is measured. Default: the built-in 10,000-digit MNIST subset.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Measurement: block-pixels, drop-row, drop-col, drop-row-col, block-patch,
    /// keep-patch, extract-patch, convolve-noise, pad-rotate-project,
    /// pad-rotate-project-theta or gaussian-projection.
    #[arg(long, value_name = "NAME", default_value = "block-pixels")]
    measurement: String,
    /// A measurement parameter as KEY=VALUE (repeatable): p (drop probability, 0-1),
    /// rescale (true/false), per_channel, k (patch side, pixels), size (blur kernel,
    /// pixels), sigma (blur std, pixels), noise (noise std, image units), pad (pixels or
    /// auto), angles, interp (nearest/bilinear), m (projections). Default: p=0.9.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Output record file; a PNG grid of the first measurements is written beside it, with
    /// the extension .png.
    #[arg(short = 'o', long, value_name = "FILE.ambr")]
    output: PathBuf,
    /// Seed of the measurements: image i is measured with the θ of the per-image seed
    /// derived from SEED and i, which its record stores.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of images to measure, from the first. Default: all.
    #[arg(short = 'n', long, value_name = "N")]
    count: Option<usize>,
    /// Measurements in the PNG grid.
    #[arg(long, value_name = "N", default_value_t = 64)]
    grid_images: usize,
}

/// Measures the images, writes the record file and its grid, and prints a summary.
pub fn run(args: MeasureArgs) -> anyhow::Result<()> {
    if args.output.extension().is_none_or(|e| e != "ambr") {
        bail!("{} must end in .ambr", args.output.display());
    }
    if args.count == Some(0) {
        bail!("-n must be at least 1");
    }
    let data_path = args.data.clone().unwrap_or_else(data::builtin_dir);
    let set = match data::open(&data_path)? {
        TrainingData::Images(set) => set,
        _ => bail!(
            "{} contains measurements, not clean images; measure needs an image folder",
            data_path.display()
        ),
    };
    let kind = parse_kind(&args.measurement)?;
    let params = parse_params(&args.params)?;
    Operator::new(kind, set.shape(), &params)
        .with_context(|| format!("invalid {} parameters", kind.name()))?;

    let total = args.count.map_or(set.len(), |n| n.min(set.len()));
    let bar = progress_bar(total as u64);
    let bytes = record_images(&set, kind, &params, args.seed, args.count, |done| {
        bar.report(done as u64)
    })?;
    bar.finish();
    write_atomic(&args.output, &bytes)?;

    // Reading the file back checks every record and gives the decoded measurements for
    // the grid.
    let records = RecordSet::from_bytes(&args.output, &bytes)?;
    let grid_path = args.output.with_extension("png");
    let shown = args.grid_images.clamp(1, records.len());
    let first = records.measurements().f_narrow(0, 0, shown as i64)?;
    let columns = (shown as f64).sqrt().ceil() as usize;
    write_atomic(&grid_path, &grid_png(&displayable(&first)?, columns)?)?;

    eprintln!(
        "measured {} images of {} with {}: {} ({} bytes, {:.1} values stored per record); \
         grid {}",
        records.len(),
        data_path.display(),
        kind.name(),
        args.output.display(),
        records.file_len(),
        records.stored_values() as f64 / records.len() as f64,
        grid_path.display()
    );
    Ok(())
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("{text} is not KEY=VALUE, for example p=0.9")),
    }
}

fn parse_kind(name: &str) -> anyhow::Result<MeasurementKind> {
    MeasurementKind::from_name(name).map_err(|_| {
        let names: Vec<&str> = MeasurementKind::ALL.iter().map(|k| k.name()).collect();
        anyhow::anyhow!(
            "unknown measurement {name}; the measurements are {}",
            names.join(", ")
        )
    })
}

/// Applies `--param` pairs in order to the defaults; `pad=auto` restores the automatic
/// padding, as `train` accepts.
fn parse_params(pairs: &[(String, String)]) -> anyhow::Result<MeasurementParams> {
    let mut params = MeasurementParams::default();
    for (key, value) in pairs {
        if key == "pad" && value == "auto" {
            params.pad = None;
            continue;
        }
        params.set(key, value).map_err(|e| {
            anyhow::anyhow!(
                "--param {key}={value}: {e}; the keys are {}",
                MeasurementParams::KEYS.join(", ")
            )
        })?;
    }
    Ok(params)
}

/// Returns measurements as images for a grid. Image-shaped ones are divided by their
/// maximum when it exceeds 1, as the trainer's grids are, so that rescaled kept pixels show
/// at their original intensity. 1-D ones become 8-pixel-high strips scaled to [0, 1] by the
/// batch's minimum and maximum.
fn displayable(measurements: &Tensor) -> anyhow::Result<Tensor> {
    if measurements.dim() == 4 {
        let max = measurements.f_max()?.double_value(&[]);
        return Ok(if max > 1.0 {
            measurements.f_div_scalar(max)?
        } else {
            measurements.shallow_clone()
        });
    }
    let size = measurements.size();
    let (count, len) = (size[0], size[1..].iter().product::<i64>());
    let lo = measurements.f_min()?;
    let span = (measurements.f_max()? - &lo).f_clamp_min(1e-12)?;
    let scaled = (measurements - lo).f_div(&span)?;
    Ok(scaled
        .f_view([count, 1, 1, len])?
        .f_expand([count, 1, 8, len], false)?)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so an
/// interrupted run never leaves a partial file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    std::fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, path)
        .with_context(|| format!("cannot rename {} to {}", temp.display(), path.display()))
}

/// Progress of a long recording: a bar on a terminal, a line every tenth otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
}

fn progress_bar(total: u64) -> Progress {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} images {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar
    });
    Progress { bar, total }
}

impl Progress {
    fn report(&self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if done % (self.total / 10).max(1) == 0 || done == self.total => {
                eprintln!("measured {done}/{} images", self.total);
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
