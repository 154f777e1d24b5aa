//! `ambient-host train`.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ambient_host::device::{self, DeviceChoice};
use ambient_host::model::{GeneratorArch, Preset};
use ambient_host::train::{
    open_run, CriticBatches, Loss, Mode, Precision, ProgressKind, RunEnd, TrainRequest,
    DEFAULT_MEASUREMENT,
};
use ambient_host::unmeasure::Repair;
use anyhow::{bail, Context};

/// Options of `train`. Options left out take the preset's default, or when resuming the
/// run's stored value.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Training data: an MNIST-style folder of IDX files (plain or .gz), a CIFAR-10 folder
    /// or batch file (.bin), a folder of JPEG/PNG photographs (CelebA: centre crop 108,
    /// 64×64) or a measurement record file (.ambr). Default: the built-in 10,000-digit
    /// MNIST subset.
    #[arg(long, value_name = "DIR|FILE")]
    data: Option<PathBuf>,
    /// Resize the images to N×N after loading (bilinear), for example 64 to train the
    /// 64×64 models on MNIST-style data.
    #[arg(long, value_name = "N")]
    image_size: Option<usize>,
    /// Keep only the first N images of the data set.
    #[arg(long, value_name = "N")]
    max_images: Option<usize>,
    /// Measurement: block-pixels, drop-row, drop-col, drop-row-col, block-patch,
    /// keep-patch, extract-patch, convolve-noise, pad-rotate-project,
    /// pad-rotate-project-theta or gaussian-projection. Default: block-pixels.
    #[arg(long, value_name = "NAME")]
    measurement: Option<String>,
    /// A measurement parameter as KEY=VALUE (repeatable): p (drop probability, 0-1),
    /// rescale (true/false), per_channel, k (patch side, pixels), size (blur kernel,
    /// pixels), sigma (blur std, pixels), noise (noise std, image units), pad (pixels or
    /// auto), angles, interp (nearest/bilinear), m (projections). Default: p=0.9.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// What the discriminator compares: ambient (measured samples vs real measurements),
    /// clean (samples vs clean images), ignore (unmeasured samples vs real measurements),
    /// unmeasure (unmeasured samples vs real measurements repaired by --unmeasure).
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// The repair of --mode unmeasure: blur (5×5 Gaussian of the measurement), median
    /// (3×3 median of the kept pixels), tv (total-variation inpainting), wiener (Wiener
    /// deconvolution, for convolve-noise) or inpaint (diffusion inpainting). Default: blur
    /// for dropped pixels, rows or columns, inpaint for block-patch, wiener for
    /// convolve-noise.
    #[arg(long, value_name = "REPAIR")]
    unmeasure: Option<Repair>,
    /// Model and hyperparameters: cpu (a DCGAN, 3,000 steps) or paper (the reference
    /// MNIST WGAN-GP, 27,000 steps).
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// The model. Default: the preset's (cpu: dcgan28, paper: wgan28; for 64×64 images
    /// dcgan64-small and dcgan64; for 32×32 images acwgan32).
    #[arg(long, value_enum, value_name = "NAME")]
    model: Option<GeneratorArch>,
    /// Total generator updates. When resuming, a larger value extends the run.
    #[arg(long, value_name = "N")]
    steps: Option<u64>,
    /// Images per batch.
    #[arg(long, value_name = "N")]
    batch: Option<usize>,
    /// Discriminator updates per generator update (cpu: 1, paper: 5).
    #[arg(long, value_name = "N")]
    critic_steps: Option<u32>,
    /// Generator updates per step, each on the step's latent vectors and θ (paper preset
    /// with dcgan64 or dcgan64-small: 2, else 1).
    #[arg(long, value_name = "N")]
    generator_steps: Option<u32>,
    /// Batches of the discriminator updates of a step: shared (all reuse the step's real
    /// batch, latent vectors and θ) or fresh (each draws its own). Default: fresh for
    /// acwgan32, else shared.
    #[arg(long, value_enum)]
    critic_batches: Option<CriticBatches>,
    /// Batch normalisation in the discriminator (true or false), each call normalised by
    /// its own batch. Default: true for the fully connected, conditional and 64×64
    /// discriminators with the non-saturating loss, else false.
    #[arg(long, value_name = "BOOL")]
    discriminator_batch_norm: Option<bool>,
    /// Channels of the first convolution of the paper preset's critic, the one --preset
    /// paper trains on image-shaped measurements with every generator but cond-dcgan28,
    /// dcgan64 and acwgan32. The second and third convolutions have 2 and 4 times as many.
    /// Default 64. Width 96 costs about 2.2 times the multiply-adds of width 64.
    #[arg(long, value_name = "N")]
    critic_width: Option<i64>,
    /// The adversarial loss: non-saturating (sigmoid cross-entropy), wgan-gp (Wasserstein
    /// with a gradient penalty on the discriminator's input, which is the measurement in
    /// ambient mode) or ac-wgan-gp (wgan-gp with an auxiliary classifier, for acwgan32
    /// only). Default: the preset's. The cpu preset trains with non-saturating. The paper
    /// preset trains wgan28 with wgan-gp and the conditional and 64×64 DCGANs with
    /// non-saturating, and acwgan32 always trains with ac-wgan-gp.
    #[arg(long, value_enum, value_name = "LOSS")]
    loss: Option<Loss>,
    /// Adam learning rate of the generator (and of the discriminator unless --lr-d is
    /// given). Default 2e-4.
    #[arg(long, value_name = "RATE")]
    lr: Option<f64>,
    /// Adam learning rate of the discriminator.
    #[arg(long = "lr-d", value_name = "RATE")]
    lr_discriminator: Option<f64>,
    /// Steps over which both learning rates decay linearly to 0; 0 keeps them constant.
    /// Default: 100,000 for acwgan32, else 0.
    #[arg(long, value_name = "N")]
    lr_decay_steps: Option<u64>,
    /// Adam β1. Default 0.5.
    #[arg(long)]
    beta1: Option<f64>,
    /// Adam β2 (cpu: 0.999, paper: 0.9999).
    #[arg(long)]
    beta2: Option<f64>,
    /// Weight λ of the gradient penalty of the wgan-gp and ac-wgan-gp losses. Default 10.
    #[arg(long, value_name = "LAMBDA")]
    gp_lambda: Option<f64>,
    /// Take the gradient penalty on every N-th critic update only, weighted N·λ ("lazy"
    /// regularisation). Its second backward pass is about half of a critic update. With
    /// the paper's critic, N = 4 shortens a step from 319 to 225 ms (2 threads). Default
    /// 1: every update.
    #[arg(long, value_name = "N")]
    gp_every: Option<u32>,
    /// Arithmetic of the forward passes: f32, or bf16. bf16 runs convolutions and matrix
    /// products in bf16 under libtorch's CPU autocast, and keeps weights, optimiser state,
    /// losses and measurements in f32. bf16 is CPU-only. On an AMD EPYC with AVX512-BF16 the
    /// median step took 1.6 to 1.8 times less time than in f32. Default: f32.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
    /// Measure image i of each generated batch with the θ of image i of the real batch
    /// (true or false), `ambient` mode on clean images only. The two batches then differ
    /// in content only, not in which pixels or angles were kept. That makes the
    /// difference of the critic's means less noisy. Each batch alone is measured as
    /// before. Default: false, each batch draws its own θ.
    #[arg(long, value_name = "BOOL")]
    shared_theta: Option<bool>,
    /// The discriminator's target for real examples with the non-saturating loss; below 1
    /// is one-sided label smoothing. Default 1.
    #[arg(long, value_name = "TARGET")]
    real_label: Option<f64>,
    /// Decay of a moving average of the generator's weights, which the sample grids,
    /// `eval`, `sample` and `export` use; 0 keeps none. It averages over about
    /// 1 / (1 − DECAY) steps. Default 0.
    #[arg(long, value_name = "DECAY")]
    ema: Option<f64>,
    /// Seed of the run: initial weights, batches, latent vectors and every θ. Default 0.
    #[arg(long)]
    seed: Option<u64>,
    /// Compute device.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// CPU threads for libtorch. Default: every core.
    #[arg(long, value_name = "N")]
    threads: Option<i32>,
    /// Run folder. Default: runs/<measurement>-<mode>-<UTC time>.
    #[arg(long, value_name = "RUN")]
    out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Stop after the first step that ends this long after training began: seconds, or a
    /// number with s, m or h (900, 15m, 1.5h). The run writes its samples and a checkpoint
    /// and can be continued with --resume, whose limit starts from zero again. Grids and
    /// checkpoints count toward the limit; loading the data and building the models do
    /// not. Default: none, train every step.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Steps between sample grids. Default 500.
    #[arg(long, value_name = "N")]
    sample_every: Option<u64>,
    /// Steps between checkpoints. Default 500.
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<u64>,
    /// Steps between progress lines when stderr is not a terminal. Default 100.
    #[arg(long, value_name = "N")]
    log_every: Option<u64>,
    /// Images in each sample grid. Default 64.
    #[arg(long, value_name = "N")]
    grid_images: Option<usize>,
    /// Progress display: auto (a bar on a terminal, lines otherwise), lines or quiet.
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressArg,
}

/// The progress display.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ProgressArg {
    Auto,
    Lines,
    Quiet,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("{text} is not KEY=VALUE, for example p=0.9")),
    }
}

/// Parses `--time-limit`: seconds, or a number followed by `s`, `m` or `h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((at, 's')) => (&text[..at], 1.0),
        Some((at, 'm')) => (&text[..at], 60.0),
        Some((at, 'h')) => (&text[..at], 3600.0),
        _ => (text, 1.0),
    };
    let invalid = || format!("{text} is not a duration; give seconds or, for example, 15m or 1.5h");
    let value: f64 = number.trim().parse().map_err(|_| invalid())?;
    if value.is_nan() || value <= 0.0 {
        return Err(format!("{text} must be more than 0"));
    }
    Duration::try_from_secs_f64(value * unit).map_err(|_| invalid())
}

/// Trains, then prints where the results are.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if args.threads.is_some_and(|n| n < 1) {
        bail!("--threads must be at least 1");
    }
    super::set_threads(args.threads);
    let device = device::resolve(args.device)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&args));
    let progress = match args.progress {
        ProgressArg::Auto => ProgressKind::Auto,
        ProgressArg::Lines => ProgressKind::Lines,
        ProgressArg::Quiet => ProgressKind::Quiet,
    };
    let resume = args.resume;
    let time_limit = args.time_limit;

    let mut trainer = open_run(request(args), &out, resume, device)
        .with_context(|| format!("cannot start the run in {}", out.display()))?;
    let config = trainer.config();
    let start = trainer.completed_steps();
    eprintln!(
        "training {} {} on {} ({} examples), {} mode, preset {}, model {}, {} on {}, \
         steps {}..{} -> {}",
        config.measurement,
        param_summary(config),
        config.data.display(),
        config.examples,
        config.mode.name(),
        config.preset.name(),
        config.generator.name(),
        config.loss.name(),
        config.device,
        start,
        config.steps,
        out.display()
    );

    trainer.set_time_limit(time_limit);
    let started = Instant::now();
    let end = trainer.run(progress)?;
    let seconds = started.elapsed().as_secs_f64();
    let done = trainer.completed_steps() - start;
    let summary = trainer.last_losses().map_or(String::new(), |l| {
        format!(", last d_loss {:.4} g_loss {:.4}", l.d_loss, l.g_loss)
    });
    eprintln!(
        "done: {done} steps in {seconds:.1} s ({:.1} ms/step){summary}; samples in {}",
        1e3 * seconds / done.max(1) as f64,
        out.join("samples.png").display()
    );
    if end == RunEnd::TimeLimit {
        eprintln!(
            "stopped by --time-limit at step {} of {}; `ambient-host train --out {} \
             --resume` continues the run",
            trainer.completed_steps(),
            trainer.config().steps,
            out.display()
        );
    }
    Ok(())
}

fn request(args: TrainArgs) -> TrainRequest {
    TrainRequest {
        data: args.data,
        measurement: args.measurement,
        params: args.params,
        mode: args.mode,
        unmeasure: args.unmeasure,
        preset: args.preset,
        model: args.model,
        image_size: args.image_size,
        max_images: args.max_images,
        steps: args.steps,
        batch: args.batch,
        critic_steps: args.critic_steps,
        generator_steps: args.generator_steps,
        critic_batches: args.critic_batches,
        discriminator_batch_norm: args.discriminator_batch_norm,
        critic_width: args.critic_width,
        loss: args.loss,
        lr_generator: args.lr,
        lr_discriminator: args.lr_discriminator,
        lr_decay_steps: args.lr_decay_steps,
        beta1: args.beta1,
        beta2: args.beta2,
        gp_lambda: args.gp_lambda,
        gp_every: args.gp_every,
        precision: args.precision,
        shared_theta: args.shared_theta,
        real_label: args.real_label,
        ema: args.ema,
        seed: args.seed,
        threads: args.threads,
        sample_every: args.sample_every,
        checkpoint_every: args.checkpoint_every,
        log_every: args.log_every,
        grid_images: args.grid_images,
    }
}

fn param_summary(config: &ambient_host::train::TrainConfig) -> String {
    match config.params.get("p") {
        Some(p) if config.measurement.contains("drop") || config.measurement == "block-pixels" => {
            format!("p={p}")
        }
        _ => String::new(),
    }
}

fn default_out(args: &TrainArgs) -> PathBuf {
    let measurement = args.measurement.as_deref().unwrap_or(DEFAULT_MEASUREMENT);
    let mode = args.mode.unwrap_or(Mode::Ambient).name();
    PathBuf::from("runs").join(format!("{measurement}-{mode}-{}", utc_timestamp()))
}

/// Returns the current UTC time as `YYYYMMDD-HHMMSS`.
fn utc_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{s:02}")
}

/// Converts days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2000-03-01 is day 11017; 2024-02-29 is day 19782.
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("900"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 0.5 s "), Ok(Duration::from_millis(500)));
        for bad in ["", "m", "15x", "fifteen", "0", "-3m", "NaN", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn params_need_equals() {
        assert_eq!(parse_param("p=0.5"), Ok(("p".into(), "0.5".into())));
        assert!(parse_param("p").is_err());
        assert!(parse_param("=1").is_err());
    }
}
