//! `ambient-host classifier train`: the MNIST classifier that `eval` scores samples with.

use std::path::PathBuf;

use ambient_host::data::builtin_dir;
use ambient_host::device::{self, DeviceChoice};
use ambient_host::eval::{default_classifier_path, train_classifier, ClassifierTraining};
use ambient_host::train::ProgressKind;
use anyhow::{bail, Context};

/// Options of `classifier`.
#[derive(Debug, clap::Args)]
pub struct ClassifierArgs {
    /// The classifier action.
    #[command(subcommand)]
    action: ClassifierAction,
}

#[derive(Debug, clap::Subcommand)]
enum ClassifierAction {
    /// Train the classifier on the clean training split and measure it on the test split.
    Train(TrainClassifierArgs),
}

/// Options of `classifier train`.
#[derive(Debug, clap::Args)]
struct TrainClassifierArgs {
    /// An MNIST-style folder of IDX files with labels for both splits. Default: the
    /// built-in 10,000-digit MNIST subset.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Adam steps.
    #[arg(long, value_name = "N", default_value_t = ClassifierTraining::DEFAULT_STEPS)]
    steps: u64,
    /// Images per step.
    #[arg(long, value_name = "N", default_value_t = ClassifierTraining::DEFAULT_BATCH)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, value_name = "RATE", default_value_t = ClassifierTraining::DEFAULT_LEARNING_RATE)]
    lr: f64,
    /// Seed of the initial weights, the batch order and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CPU threads for libtorch; CPU results repeat exactly for a fixed count. Default:
    /// every core.
    #[arg(long, value_name = "N")]
    threads: Option<i32>,
    /// Compute device.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// Weights file (safetensors); the JSON summary goes beside it with `.json`. Default:
    /// data/classifier/mnist-cnn.safetensors in the source tree, where `eval` looks.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print no progress.
    #[arg(long)]
    quiet: bool,
}

/// Runs the `classifier` subcommand.
pub fn run(args: ClassifierArgs) -> anyhow::Result<()> {
    match args.action {
        ClassifierAction::Train(args) => train(args),
    }
}

fn train(args: TrainClassifierArgs) -> anyhow::Result<()> {
    if args.threads.is_some_and(|n| n < 1) {
        bail!("--threads must be at least 1");
    }
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        bail!("--lr must be a positive number, not {}", args.lr);
    }
    super::set_threads(args.threads);
    let options = ClassifierTraining {
        data: args.data.unwrap_or_else(builtin_dir),
        steps: args.steps,
        batch: args.batch,
        learning_rate: args.lr,
        seed: args.seed,
        out: args.out.unwrap_or_else(default_classifier_path),
        device: device::resolve(args.device)?,
        progress: if args.quiet {
            ProgressKind::Quiet
        } else {
            ProgressKind::Auto
        },
    };
    eprintln!(
        "training the classifier on {} for {} steps -> {}",
        options.data.display(),
        options.steps,
        options.out.display()
    );
    let classifier = train_classifier(&options).context("classifier training failed")?;
    let summary = classifier.summary();
    eprintln!(
        "test accuracy {:.2} % ({} of {}); real test digits score IS {:.2} ± {:.2}; {:.1} s",
        100.0 * summary.test_accuracy,
        summary.test_correct,
        summary.test_images,
        summary.test_inception_score.mean,
        summary.test_inception_score.std,
        summary.train_seconds
    );
    println!("{}", serde_json::to_string(summary)?);
    Ok(())
}
