//! The sweep's report. For each measurement it has a PNG plot of the inception score
//! against the strength, one line per mode, and Markdown tables of the inception score and
//! the Fréchet distance at each strength and mode. A cell is the mean and standard
//! deviation over seeds of each run's score (for the inception score, its 10-split mean).
//! A table of every finished run ends the report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::grid::{format_value, Grid, MeasurementAxis, RunSpec};
use super::plot::{render_png, Plot, Point, Series};
use super::result::{read_result, RunResult};
use super::SweepError;

/// The files a report wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    /// The Markdown report.
    pub markdown: PathBuf,
    /// One plot per measurement.
    pub plots: Vec<PathBuf>,
}

/// The mean and spread of one score over the seeds of a (value, mode) cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    /// Mean over seeds.
    pub mean: f64,
    /// Sample standard deviation over seeds (0 for one seed).
    pub std: f64,
    /// Seeds with a result.
    pub count: usize,
}

/// Returns the mean and sample standard deviation of `values`, or `None` when empty.
pub fn aggregate(values: &[f64]) -> Option<Aggregate> {
    let count = values.len();
    if count == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / count as f64;
    let std = if count > 1 {
        let sum: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        (sum / (count - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(Aggregate { mean, std, count })
}

/// Writes `OUT/report.md` and one `OUT/MEASUREMENT.png` per measurement from the results
/// stored for `grid`; runs without a result show as missing.
pub fn write_report(grid: &Grid, out: &Path) -> Result<ReportFiles, SweepError> {
    let runs = grid.runs()?;
    let mut results = Vec::new();
    for spec in &runs {
        if let Some(result) = read_result(out, spec)? {
            results.push(result);
        }
    }

    let mut markdown = String::from("# Sweep report\n\n");
    let _ = writeln!(
        markdown,
        "{} of {} runs finished. Scores: the inception score (IS) of {} generated samples \
         under the MNIST classifier, as the mean of {} splits, then mean ± standard deviation \
         over seeds; FID: the Fréchet distance of classifier features to the real test \
         digits.\n",
        results.len(),
        runs.len(),
        grid.eval.samples,
        grid.eval.splits
    );
    let mut plots = Vec::new();
    for axis in &grid.measurements {
        let labels: Vec<&str> = grid.modes_of(axis).iter().map(|m| m.label()).collect();
        let cells = |score: fn(&RunResult) -> f64| table_cells(axis, &labels, &results, score);

        let _ = writeln!(markdown, "## {}\n", axis.measurement);
        let plot_path = out.join(format!("{}.png", file_stem(&axis.measurement)));
        write_plot(axis, &labels, &cells(is_mean), &plot_path)?;
        let name = plot_path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        let _ = writeln!(
            markdown,
            "![IS against {} for {}]({name})\n",
            axis.strength, axis.measurement
        );
        let _ = writeln!(markdown, "Inception score:\n");
        markdown.push_str(&table(axis, &labels, &cells(is_mean), 2));
        let _ = writeln!(markdown, "\nFréchet distance:\n");
        markdown.push_str(&table(axis, &labels, &cells(fid), 3));
        markdown.push('\n');
        plots.push(plot_path);
    }
    markdown.push_str(&run_table(&results));

    let path = out.join("report.md");
    std::fs::write(&path, markdown).map_err(|e| SweepError::io(&path, e))?;
    Ok(ReportFiles {
        markdown: path,
        plots,
    })
}

fn is_mean(result: &RunResult) -> f64 {
    result.eval.inception_score.mean
}

fn fid(result: &RunResult) -> f64 {
    result.eval.frechet_distance
}

/// Returns `cells[value][mode]`: the aggregate of `score` over the seeds of that cell.
fn table_cells(
    axis: &MeasurementAxis,
    labels: &[&str],
    results: &[RunResult],
    score: fn(&RunResult) -> f64,
) -> Vec<Vec<Option<Aggregate>>> {
    let belongs = |spec: &RunSpec, value: f64, label: &str| {
        spec.measurement == axis.measurement
            && spec.strength == axis.strength
            && spec.value == value
            && spec.label == label
    };
    axis.values
        .iter()
        .map(|&value| {
            labels
                .iter()
                .map(|label| {
                    let scores: Vec<f64> = results
                        .iter()
                        .filter(|r| belongs(&r.spec, value, label))
                        .map(score)
                        .collect();
                    aggregate(&scores)
                })
                .collect()
        })
        .collect()
}

fn table(
    axis: &MeasurementAxis,
    labels: &[&str],
    cells: &[Vec<Option<Aggregate>>],
    decimals: usize,
) -> String {
    let mut text = format!("| {} | {} |\n", axis.strength, labels.join(" | "));
    let _ = writeln!(text, "|---|{}", "---|".repeat(labels.len()));
    for (value, row) in axis.values.iter().zip(cells) {
        let entries: Vec<String> = row
            .iter()
            .map(|cell| match cell {
                None => "–".to_string(),
                Some(a) if a.count == 1 => format!("{:.decimals$} (1 seed)", a.mean),
                Some(a) => format!(
                    "{:.decimals$} ± {:.decimals$} ({} seeds)",
                    a.mean, a.std, a.count
                ),
            })
            .collect();
        let _ = writeln!(
            text,
            "| {} | {} |",
            format_value(*value),
            entries.join(" | ")
        );
    }
    text
}

fn write_plot(
    axis: &MeasurementAxis,
    labels: &[&str],
    cells: &[Vec<Option<Aggregate>>],
    path: &Path,
) -> Result<(), SweepError> {
    let series = labels
        .iter()
        .enumerate()
        .map(|(m, label)| Series {
            label: (*label).to_string(),
            points: axis
                .values
                .iter()
                .zip(cells)
                .filter_map(|(&x, row)| {
                    row[m].map(|a| Point {
                        x,
                        y: a.mean,
                        spread: a.std,
                    })
                })
                .collect(),
        })
        .collect();
    let plot = Plot {
        title: format!(
            "{}: inception score against {}",
            axis.measurement, axis.strength
        ),
        x_label: axis.strength.clone(),
        y_label: "inception score".into(),
        y_floor: 0.0,
        y_ceiling: 10.0,
        series,
    };
    let png = render_png(&plot).map_err(|source| SweepError::Png {
        path: path.to_path_buf(),
        source,
    })?;
    std::fs::write(path, png).map_err(|e| SweepError::io(path, e))
}

fn run_table(results: &[RunResult]) -> String {
    let mut text = String::from("## Runs\n\n");
    text.push_str(
        "| run | IS (10 splits) | IS (first 64) | FID | train s | resumed | commit |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in results {
        let first_64 = r
            .eval
            .inception_score_first_64
            .map_or("–".into(), |s| format!("{s:.2}"));
        let _ = writeln!(
            text,
            "| {} | {:.2} ± {:.2} | {first_64} | {:.3} | {:.0} | {} | {} |",
            r.spec.id,
            r.eval.inception_score.mean,
            r.eval.inception_score.std,
            r.eval.frechet_distance,
            r.train_seconds,
            if r.resumed { "yes" } else { "no" },
            r.commit.as_deref().unwrap_or("unknown")
        );
    }
    text
}

/// Returns `name` with every character other than ASCII letters, digits, `-` and `_`
/// replaced by `-`, for a file name.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_by_hand() {
        let a = aggregate(&[7.0, 8.0, 9.0]).unwrap();
        assert_eq!(a.mean, 8.0);
        assert_eq!(a.std, 1.0);
        assert_eq!(a.count, 3);
        assert_eq!(aggregate(&[5.0]).unwrap().std, 0.0);
        assert!(aggregate(&[]).is_none());
    }
}
