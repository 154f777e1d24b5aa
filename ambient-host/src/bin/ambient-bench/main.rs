//! `ambient-bench`: times the core's generators and measurement operators against libtorch
//! through tch, the trainer's step against a plain PyTorch script, and the step of the
//! 15-minute recipe in f32 and bf16, on one machine in one run, and prints the tables of
//! `docs/performance.md` in Markdown.
//!
//! Run from the repository root, after `. scripts/env.sh`:
//! `cargo run --release -p ambient-host --bin ambient-bench` (it runs the `ambient-host`
//! binary of the same build folder, which `cargo build --release -p ambient-host` makes).

mod cpu;
mod generators;
mod measurements;
mod timing;
mod training;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;

/// Benchmarks against libtorch and PyTorch.
#[derive(Debug, Parser)]
struct Args {
    /// Timing rounds per case (the fastest is reported).
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Minimum milliseconds of one timing round.
    #[arg(long, default_value_t = 200)]
    round_ms: u64,
    /// Training steps of each child run (the first 5 are left out of the median).
    #[arg(long, default_value_t = 60)]
    steps: usize,
    /// Thread counts of the training comparison, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Python of the libtorch 2.13.0 venv. Default: $AMBIENT_TORCH_VENV/bin/python.
    #[arg(long)]
    python: Option<PathBuf>,
    /// The `ambient-host` program the training comparison runs. Default: the one beside
    /// this program.
    #[arg(long)]
    ambient_host: Option<PathBuf>,
    /// Sections to run: generators, measurements, training, recipe (default: all).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let budget = timing::Budget {
        rounds: args.rounds,
        round: Duration::from_millis(args.round_ms),
    };
    let wants = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let cpu = cpu::Cpu::detect();
    header(&cpu);

    let mut memory = Vec::new();
    if wants("generators") {
        println!("\n### Generators, single thread\n");
        memory = generators::run(&cpu, &budget)?;
    }
    if wants("measurements") {
        println!("\n### Measurement operators, single thread\n");
        measurements::run(&budget)?;
    }
    let mut rss = Vec::new();
    if wants("training") {
        println!("\n### Training step, CPU preset, ambient mode, Block-Pixels p = 0.9, batch 64\n");
        let python = args.python.clone().unwrap_or_else(|| {
            let venv = std::env::var("AMBIENT_TORCH_VENV")
                .unwrap_or_else(|_| "/opt/ambient/torch-2.13.0".into());
            PathBuf::from(venv).join("bin/python")
        });
        rss = training::run(&ambient_host(&args)?, &python, args.steps, &args.threads)?;
    }
    if wants("recipe") {
        println!("\n### Training step, the 15-minute recipe of results.md, f32 and bf16\n");
        training::run_recipe(&ambient_host(&args)?, args.steps, &args.threads)?;
    }
    if !memory.is_empty() {
        println!("\n### Generator memory (bytes)\n");
        println!("| generator | dtype | weight file | scratch, batch 1 | scratch, batch 64 | MACs / image |");
        println!("|---|---|---:|---:|---:|---:|");
        memory.iter().for_each(|r| println!("{r}"));
    }
    if !rss.is_empty() {
        println!("\n### Peak resident memory of a training run\n");
        println!("| threads | steps | ambient-host train | PyTorch script |");
        println!("|---:|---:|---:|---:|");
        rss.iter().for_each(|r| println!("{r}"));
    }
    println!("\nLoad average at the end: {}", cpu::load());
    Ok(())
}

/// Returns the `ambient-host` program the training sections run.
fn ambient_host(args: &Args) -> Result<PathBuf> {
    match &args.ambient_host {
        Some(p) => Ok(p.clone()),
        None => Ok(std::env::current_exe()?.with_file_name("ambient-host")),
    }
}

fn header(cpu: &cpu::Cpu) {
    println!("Date: {}", cpu::run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    println!(
        "Commit: {}",
        cpu::run("git", &["rev-parse", "--short", "HEAD"])
    );
    println!("CPU: {} ({})", cpu.model, cpu.simd.join(", "));
    println!(
        "Peak, one core, f32: {:.1} GFLOP/s = {} flops/cycle (2 FMA pipes × lanes × 2) × {:.3} GHz \
         (`cpu MHz` of /proc/cpuinfo)",
        cpu.peak_gflops(),
        cpu.flops_per_cycle,
        cpu.ghz
    );
    println!(
        "libtorch: the venv's torch (LIBTORCH_USE_PYTORCH); 1 thread for generators and operators"
    );
    println!("Load average at the start: {}", cpu::load());
}
