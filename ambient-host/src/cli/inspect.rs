//! `ambient-host inspect FILE.ambr`: what a measurement record file contains.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use ambient_core::measure::{Interpolation, Measurement, MeasurementKind, MeasurementParams};
use ambient_core::record::{MAGIC, RECORD_OVERHEAD};
use ambient_host::data::records::RecordSet;
use ambient_host::data::MeasurementSet;
use anyhow::{bail, Context};
use tch::Kind;

/// Options of `inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The file to describe: a measurement record file (.ambr) or a weight file (.amb).
    file: PathBuf,
}

/// Reads the file, checking every record, and prints its header and a summary.
pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if super::inspect_model::is_weight_file(&args.file, &bytes) {
        return super::inspect_model::run(&args.file, &bytes);
    }
    if !bytes.starts_with(&MAGIC) {
        bail!(
            "{} is not a measurement record file (it does not start with AMBR); inspect \
             reads .ambr and .amb files",
            args.file.display()
        );
    }
    let records = RecordSet::from_bytes(&args.file, &bytes)?;
    print!("{}", describe(&records)?);
    Ok(())
}

/// Formats the header and a summary of the records.
fn describe(records: &RecordSet) -> anyhow::Result<String> {
    let header = records.header();
    let op = records.operator();
    let count = records.len();
    let shape = header.shape;
    let mut out = String::new();

    let version = records.version();
    writeln!(
        out,
        "{}: measurement records, format {}.{}, {} bytes",
        records.source().display(),
        version.major,
        version.minor,
        records.file_len()
    )?;
    writeln!(out, "measurement   {}", header.kind.name())?;
    writeln!(
        out,
        "parameters    {}",
        used_params(header.kind, &header.params)
    )?;
    writeln!(
        out,
        "images        [{}, {}, {}], values in [{}, {}]",
        shape.channels, shape.height, shape.width, header.range.lo, header.range.hi
    )?;
    let classes = match header.classes {
        0 => "none (unlabelled)".to_string(),
        n => n.to_string(),
    };
    writeln!(out, "classes       {classes}")?;
    writeln!(out, "records       {count}")?;

    let stored = records.stored_values() as f64 / count as f64;
    writeln!(
        out,
        "values        {} per measurement, {:.1} stored per record on average ({:.1} %)",
        op.output_len(),
        stored,
        100.0 * stored / op.output_len() as f64
    )?;
    writeln!(
        out,
        "bytes         {:.1} per record on average",
        RECORD_OVERHEAD as f64 + 4.0 * stored
    )?;
    let all = records.measurements();
    writeln!(
        out,
        "measured      min {:.4}, max {:.4}, mean {:.4}",
        all.f_min()?.double_value(&[]),
        all.f_max()?.double_value(&[]),
        all.f_mean(Kind::Double)?.double_value(&[])
    )?;
    let seeds = records.seeds();
    writeln!(
        out,
        "seeds         first {:#018x}, last {:#018x}",
        seeds[0],
        seeds[count - 1]
    )?;
    if let Some(labels) = records.labels() {
        writeln!(out, "labels        {}", label_counts(labels))?;
    }
    Ok(out)
}

/// Returns `key=value` for each parameter `kind` reads, with the command-line keys.
fn used_params(kind: MeasurementKind, p: &MeasurementParams) -> String {
    let pad = p.pad.map_or_else(|| "auto".to_string(), |v| v.to_string());
    let interp = match p.interpolation {
        Interpolation::Bilinear => "bilinear",
        _ => "nearest",
    };
    let pairs: Vec<(&str, String)> = match kind {
        MeasurementKind::BlockPixels
        | MeasurementKind::DropRow
        | MeasurementKind::DropCol
        | MeasurementKind::DropRowCol => vec![
            ("p", p.p.to_string()),
            ("rescale", p.rescale.to_string()),
            ("per_channel", p.per_channel.to_string()),
        ],
        MeasurementKind::BlockPatch
        | MeasurementKind::KeepPatch
        | MeasurementKind::ExtractPatch => {
            vec![("k", p.patch.to_string())]
        }
        MeasurementKind::ConvolveNoise => vec![
            ("size", p.kernel_size.to_string()),
            ("sigma", p.sigma.to_string()),
            ("noise", p.noise_std.to_string()),
        ],
        MeasurementKind::PadRotateProject | MeasurementKind::PadRotateProjectTheta => vec![
            ("pad", pad),
            ("angles", p.angles.to_string()),
            ("interp", interp.to_string()),
        ],
        MeasurementKind::GaussianProjection => vec![("m", p.projections.to_string())],
        _ => vec![],
    };
    let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    text.join(" ")
}

/// Returns `label: count` for every label present, in label order.
fn label_counts(labels: &[u32]) -> String {
    let mut counts = BTreeMap::new();
    for &label in labels {
        *counts.entry(label).or_insert(0usize) += 1;
    }
    let text: Vec<String> = counts.iter().map(|(l, n)| format!("{l}: {n}")).collect();
    text.join(", ")
}
