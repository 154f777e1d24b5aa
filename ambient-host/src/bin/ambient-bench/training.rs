//! One training step of the CPU preset (ambient mode, Block-Pixels p = 0.9): the
//! `ambient-host train` program against the PyTorch script beside this benchmark, each run
//! as a child process under `/usr/bin/time`, which also gives its peak resident memory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// What one child run measured.
struct Outcome {
    /// Median milliseconds per step, the first [`WARM_UP`] steps excluded.
    step_ms: f64,
    /// Peak resident memory in bytes.
    peak_rss: u64,
}

/// Steps left out of the median: the first steps allocate libtorch's caches.
const WARM_UP: usize = 5;

/// The repository root (the bench reads the data and the script from it).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs `program args` under `/usr/bin/time` and returns its stdout and peak RSS.
fn timed_child(program: &Path, args: &[String], scratch: &Path) -> Result<(String, u64)> {
    let rss_file = scratch.join("rss.txt");
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(program)
        .args(args)
        .output()
        .with_context(|| format!("running {}", program.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let kib: u64 = fs::read_to_string(&rss_file)?
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .parse()
        .context("reading the peak RSS")?;
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        kib * 1024,
    ))
}

/// The options of `ambient-host train` that select the 15-minute recipe of
/// `docs/results.md` (the paper's critic, WGAN-GP with the penalty on every 4th update),
/// without the precision.
const RECIPE: [&str; 12] = [
    "--preset",
    "paper",
    "--model",
    "dcgan28",
    "--critic-steps",
    "1",
    "--beta2",
    "0.9",
    "--ema",
    "0.999",
    "--gp-every",
    "4",
];

/// Runs `ambient-host train` in ambient mode under Block-Pixels p = 0.9 with `options`
/// (the preset and what follows it) and returns its median step time.
fn rust_step(
    exe: &Path,
    options: &[&str],
    steps: usize,
    threads: usize,
    scratch: &Path,
) -> Result<Outcome> {
    let out = scratch.join("rust-run");
    let _ = fs::remove_dir_all(&out);
    let data = repo().join("data/mnist-10k");
    let args: Vec<String> = [
        "train",
        "--measurement",
        "block-pixels",
        "--param",
        "p=0.9",
        "--mode",
        "ambient",
        "--device",
        "cpu",
        "--progress",
        "quiet",
    ]
    .iter()
    .chain(options)
    .map(|s| s.to_string())
    .chain([
        "--data".into(),
        data.display().to_string(),
        "--steps".into(),
        steps.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--sample-every".into(),
        (steps + 1).to_string(),
        "--checkpoint-every".into(),
        (steps + 1).to_string(),
        "--out".into(),
        out.display().to_string(),
    ])
    .collect();
    let (_, peak_rss) = timed_child(exe, &args, scratch)?;
    let metrics = fs::read_to_string(out.join("metrics.jsonl"))?;
    let times: Vec<f64> = metrics
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("step_ms").and_then(|t| t.as_f64()))
        .skip(WARM_UP)
        .collect();
    Ok(Outcome {
        step_ms: median(times),
        peak_rss,
    })
}

fn python_step(python: &Path, steps: usize, threads: usize, scratch: &Path) -> Result<Outcome> {
    let script = repo().join("ambient-host/benches/pytorch_train_step.py");
    let args = vec![
        script.display().to_string(),
        "--data".into(),
        repo().join("data/mnist-10k").display().to_string(),
        "--steps".into(),
        steps.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--warm-up".into(),
        WARM_UP.to_string(),
    ];
    let (stdout, peak_rss) = timed_child(python, &args, scratch)?;
    let line = stdout.lines().last().unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(line).context("reading the script's result")?;
    let step_ms = v
        .get("median_step_ms")
        .and_then(|t| t.as_f64())
        .context("the script's result has no median_step_ms")?;
    Ok(Outcome { step_ms, peak_rss })
}

/// Prints the training table and returns the peak-RSS rows.
pub fn run(program: &Path, python: &Path, steps: usize, threads: &[usize]) -> Result<Vec<String>> {
    let scratch = std::env::temp_dir().join(format!("ambient-bench-{}", std::process::id()));
    fs::create_dir_all(&scratch)?;
    println!(
        "| threads | ambient-host ms / step | PyTorch ms / step | ratio (PyTorch / ambient-host) |"
    );
    println!("|---:|---:|---:|---:|");
    let mut memory = Vec::new();
    for &t in threads {
        let rust = rust_step(program, &["--preset", "cpu"], steps, t, &scratch)?;
        let torch = python_step(python, steps, t, &scratch)?;
        println!(
            "| {t} | {:.1} | {:.1} | {:.2} |",
            rust.step_ms,
            torch.step_ms,
            torch.step_ms / rust.step_ms
        );
        memory.push(format!(
            "| {t} | {steps} | {:.1} MiB | {:.1} MiB |",
            rust.peak_rss as f64 / 1048576.0,
            torch.peak_rss as f64 / 1048576.0
        ));
    }
    let _ = fs::remove_dir_all(&scratch);
    Ok(memory)
}

/// Prints the table of the 15-minute recipe's step in f32 and in bf16 (`--precision`).
pub fn run_recipe(program: &Path, steps: usize, threads: &[usize]) -> Result<()> {
    let scratch = std::env::temp_dir().join(format!("ambient-bench-{}", std::process::id()));
    fs::create_dir_all(&scratch)?;
    println!("| threads | f32 ms / step | bf16 ms / step | ratio (f32 / bf16) |");
    println!("|---:|---:|---:|---:|");
    for &t in threads {
        let mut times = Vec::new();
        for precision in ["f32", "bf16"] {
            let mut options = RECIPE.to_vec();
            options.extend(["--precision", precision]);
            times.push(rust_step(program, &options, steps, t, &scratch)?.step_ms);
        }
        println!(
            "| {t} | {:.1} | {:.1} | {:.2} |",
            times[0],
            times[1],
            times[0] / times[1]
        );
    }
    let _ = fs::remove_dir_all(&scratch);
    Ok(())
}
