//! The subcommands. Adding one: a file here with an `Args` struct (clap derive) and a
//! `run(args) -> anyhow::Result<()>`, a variant in [`Command`] and its arm in
//! [`Command::run`].

mod classifier;
mod doctor;
mod eval;
mod export;
mod inspect;
mod inspect_model;
mod measure;
mod sample;
mod sample_model;
mod sweep;
mod train;

use clap::{Parser, Subcommand};

/// AmbientGAN on libtorch: train generative models from lossy measurements alone.
#[derive(Debug, Parser)]
#[command(name = "ambient-host", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a GAN whose discriminator sees only measurements (default: the CPU preset on
    /// the built-in MNIST set under Block-Pixels p = 0.9).
    Train(Box<train::TrainArgs>),
    /// Generate images from a trained run, as a PNG grid or a .npy array.
    Sample(sample::SampleArgs),
    /// Export a run's generator to the core's weight format (.amb) and check it against
    /// the tch model.
    Export(export::ExportArgs),
    /// Measure a clean image set into a measurement record file (.ambr) and a PNG grid.
    Measure(measure::MeasureArgs),
    /// Describe a measurement record file (.ambr): its header and a summary of its records.
    Inspect(inspect::InspectArgs),
    /// Score generated samples: inception score, Fréchet distance, class histogram.
    Eval(Box<eval::EvalArgs>),
    /// Train the MNIST classifier that `eval` scores samples with.
    Classifier(classifier::ClassifierArgs),
    /// Train and score a grid of runs and report score against measurement strength.
    Sweep(Box<sweep::SweepArgs>),
    /// Report the libtorch build, CUDA and cuDNN, the training device and the data sets.
    Doctor(doctor::DoctorArgs),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Self::Train(args) => train::run(*args),
            Self::Sample(args) => sample::run(args),
            Self::Export(args) => export::run(args),
            Self::Measure(args) => measure::run(args),
            Self::Inspect(args) => inspect::run(args),
            Self::Eval(args) => eval::run(*args),
            Self::Classifier(args) => classifier::run(args),
            Self::Sweep(args) => sweep::run(*args),
            Self::Doctor(args) => doctor::run(args),
        }
    }
}

/// Sets libtorch's CPU thread count: `threads`, or every core when `None`.
pub fn set_threads(threads: Option<i32>) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get() as i32);
    tch::set_num_threads(threads.unwrap_or(all).max(1));
}
