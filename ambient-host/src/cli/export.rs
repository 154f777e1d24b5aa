//! `ambient-host export RUN --dtype int8|f16|f32 -o MODEL.amb`.

use std::path::{Path, PathBuf};

use ambient_host::export::latents::{CALIBRATION_BATCH, CHECK_BATCH};
use ambient_host::export::{CheckReport, LoadedRun, WeightDtype};
use ambient_host::train::run_dir::temp_path;
use anyhow::Context;

/// Options of `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The run folder (written by `train --out RUN`); its last checkpoint is exported.
    run: PathBuf,
    /// Weight dtype: f32 (exact), f16 (half the bytes, f32 compute) or int8 (a quarter of
    /// the bytes, integer compute, for microcontrollers).
    #[arg(long, value_enum, default_value = "f32")]
    dtype: WeightDtype,
    /// Output weight file. Default: RUN/generator-DTYPE.amb.
    #[arg(short = 'o', long, value_name = "MODEL.amb")]
    output: Option<PathBuf>,
}

/// Exports the run, checks the written file against the tch model, and keeps it only when
/// its error is within the dtype's bound.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    super::set_threads(None);
    let output = args.output.clone().unwrap_or_else(|| {
        args.run
            .join(format!("generator-{}.amb", args.dtype.name()))
    });
    let run = LoadedRun::open(&args.run)
        .with_context(|| format!("cannot load the generator of {}", args.run.display()))?;
    let bytes = run
        .export(args.dtype)
        .with_context(|| format!("cannot export {}", args.run.display()))?;

    // The check reads the file back, so it covers what was written.
    let temp = temp_path(&output);
    std::fs::write(&temp, &bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    let report = std::fs::read(&temp)
        .with_context(|| format!("cannot read back {}", temp.display()))
        .and_then(|written| Ok(run.check(&written, args.dtype)?));
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    print_report(&args.run, run.step, &report);
    if args.dtype == WeightDtype::Int8 {
        print_value_errors(&run, &bytes)?;
    }
    if let Err(e) = report.within_bound() {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("{} was not written", output.display()));
    }
    std::fs::rename(&temp, &output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!("wrote {}", output.display());
    Ok(())
}

fn print_report(run: &Path, step: u64, report: &CheckReport) {
    let c = &report.comparison;
    println!(
        "exported {} (step {step}) as {}: {} layers, {} bytes",
        run.display(),
        report.dtype.name(),
        report.layers,
        report.file_len,
    );
    println!("checked on {CHECK_BATCH} fixed latent vectors against the tch model in eval mode:");
    println!(
        "  largest absolute error {:.3e} (bound {:.3e}: {})",
        c.max_abs, report.bound.value, report.bound.basis
    );
    println!("  mean absolute error {:.3e}", c.mean_abs);
    println!(
        "  largest relative error {:.3e} (|core - tch| / max(|tch|, {:e}))",
        c.max_rel,
        ambient_host::export::check::RELATIVE_FLOOR
    );
}

/// Prints the error of every value of an int8 export, so that a rejected export shows the
/// layer where the error grows.
fn print_value_errors(run: &LoadedRun, bytes: &[u8]) -> anyhow::Result<()> {
    let errors = run
        .value_errors(bytes)
        .context("cannot compare the int8 layers with the float ones")?;
    println!("int8 against f32, value by value, on the {CALIBRATION_BATCH} calibration latents:");
    for e in errors {
        println!(
            "  {:>2} {:<32} step {:.3e}  largest {:.3e} ({:.1} steps), {:.1} steps in \
             range, mean {:.3e}",
            e.value,
            e.operation,
            e.step,
            e.max_abs,
            e.max_abs / e.step,
            e.max_abs_in_range / e.step,
            e.mean_abs
        );
    }
    Ok(())
}
