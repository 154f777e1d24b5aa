//! `ambient-host eval RUN|MODEL.amb|SAMPLES.npy`: the inception score, the Fréchet distance
//! of classifier features and the class histogram of a sample set.

use std::path::PathBuf;

use ambient_host::data::builtin_dir;
use ambient_host::device::{self, DeviceChoice};
use ambient_host::eval::{
    default_classifier_path, evaluate, samples_from_model, samples_from_npy, samples_from_run,
    Classifier, InputKind, RealReference, DEFAULT_SAMPLES, DEFAULT_SPLITS,
};
use ambient_host::model::LatentDistribution;
use anyhow::{bail, Context};

/// Options of `eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A run folder (its last checkpoint generates the samples), a weight file (.amb, run
    /// by ambient-core) or a .npy array [N, 1, 28, 28] of f32 in [0, 1], as
    /// `sample -o FILE.npy` writes.
    input: PathBuf,
    /// Samples to score: generated from a run or a weight file, or the first N of an
    /// array (default: all of an array). At least 1,000.
    #[arg(short = 'n', long, value_name = "N")]
    count: Option<usize>,
    /// Splits for the inception score's mean and standard deviation.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SPLITS)]
    splits: usize,
    /// Seed of the latent vectors of generated samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Latent distribution of a weight file's model, which the file does not record.
    /// Models of the cpu preset take normal, those of the paper preset uniform.
    #[arg(long, value_enum, default_value = "normal")]
    latent: LatentArg,
    /// Classifier weights. Default: data/classifier/mnist-cnn.safetensors in the source
    /// tree (made by `ambient-host classifier train`).
    #[arg(long, value_name = "FILE")]
    classifier: Option<PathBuf>,
    /// MNIST-style folder whose test split is the real reference of the Fréchet distance.
    /// Default: the built-in MNIST subset (1,000 test digits).
    #[arg(long, value_name = "DIR")]
    real: Option<PathBuf>,
    /// Also write the JSON report to FILE. For a run folder the report always goes to
    /// RUN/eval.json as well.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
}

/// The latent distribution of a weight file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LatentArg {
    /// Standard normal.
    Normal,
    /// Uniform in [-1, 1].
    Uniform,
}

/// Scores the samples, prints a line on stderr and the JSON report on stdout.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if args.count.is_some_and(|n| n < DEFAULT_SAMPLES) {
        bail!("-n must be at least {DEFAULT_SAMPLES}: smaller sets bias the inception score");
    }
    super::set_threads(None);
    let device = device::resolve(args.device)?;
    let classifier_path = args.classifier.unwrap_or_else(default_classifier_path);
    let classifier = Classifier::load(&classifier_path, device)?;
    let real = args.real.unwrap_or_else(builtin_dir);
    let reference = RealReference::from_test_split(&classifier, &real)
        .with_context(|| format!("cannot score the real test images of {}", real.display()))?;

    let kind = InputKind::of(&args.input)?;
    let samples = match kind {
        InputKind::Run => {
            let count = args.count.unwrap_or(DEFAULT_SAMPLES);
            samples_from_run(&args.input, count, args.seed, device)?
        }
        InputKind::Amb => {
            let count = args.count.unwrap_or(DEFAULT_SAMPLES);
            let latent = match args.latent {
                LatentArg::Normal => LatentDistribution::Normal,
                LatentArg::Uniform => LatentDistribution::Uniform,
            };
            samples_from_model(&args.input, count, args.seed, latent)?
        }
        InputKind::Npy => samples_from_npy(&args.input, args.count)?,
        _ => bail!("{} is not an input eval can score", args.input.display()),
    };
    let count = samples.images.size()[0] as usize;
    if count < DEFAULT_SAMPLES {
        bail!(
            "{} contains {count} images; eval needs at least {DEFAULT_SAMPLES}",
            args.input.display()
        );
    }

    let report = evaluate(&samples, &classifier, &reference, args.splits)?;
    let text = serde_json::to_string_pretty(&report)? + "\n";
    let mut targets = args.json.into_iter().collect::<Vec<_>>();
    if kind == InputKind::Run {
        targets.push(args.input.join("eval.json"));
    }
    for target in targets {
        std::fs::write(&target, &text)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    eprintln!("{}", report.human_line());
    print!("{text}");
    Ok(())
}
