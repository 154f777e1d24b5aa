//! `ambient-host sample RUN -n N -o FILE.png|FILE.npy`.

use std::path::PathBuf;

use ambient_host::device::{self, DeviceChoice};
use ambient_host::image_io::{grid_png, write_npy};
use ambient_host::train::load_generator;
use anyhow::{bail, Context};
use tch::{Device, Kind};

/// Options of `sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// The run folder (written by `train --out RUN`); its last checkpoint is used. Or a
    /// weight file (MODEL.amb, written by `export`), which ambient-core runs, as a device
    /// would.
    #[arg(value_name = "RUN|MODEL.amb")]
    run: PathBuf,
    /// Number of images to generate.
    #[arg(short = 'n', long, default_value_t = 64)]
    count: usize,
    /// Output file: `.png` for a grid, `.npy` for an f32 array [N, C, H, W] in the image
    /// value range ([0, 1] for MNIST).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: PathBuf,
    /// Seed of the latent vectors.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Images per row of a PNG grid (default: one class per row for a conditional model,
    /// else about the square root of the count).
    #[arg(long)]
    columns: Option<usize>,
    /// Compute device.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// Latent distribution of a weight file's model, which the file does not record:
    /// normal (cpu preset) or uniform (paper preset). A run folder records its own.
    #[arg(long, value_enum, default_value = "normal")]
    latent: super::sample_model::LatentChoice,
}

/// Generates the images and writes them.
pub fn run(args: SampleArgs) -> anyhow::Result<()> {
    if args.count == 0 {
        bail!("-n must be at least 1");
    }
    let extension = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    if extension != "png" && extension != "npy" {
        bail!(
            "{} must end in .png (a grid) or .npy (an array)",
            args.output.display()
        );
    }
    if super::sample_model::is_weight_file(&args.run) {
        return super::sample_model::run(super::sample_model::SampleModel {
            model: &args.run,
            count: args.count,
            seed: args.seed,
            latent: args.latent,
            output: &args.output,
            columns: args.columns,
        });
    }
    super::set_threads(None);
    let device = device::resolve(args.device)?;
    let generator = load_generator(&args.run, device)
        .with_context(|| format!("cannot load the generator of {}", args.run.display()))?;
    let images = generator.sample(args.count, args.seed)?;

    if extension == "png" {
        let columns = args
            .columns
            .or_else(|| generator.grid_columns(args.count))
            .unwrap_or_else(|| (args.count as f64).sqrt().ceil() as usize);
        let png = grid_png(&generator.for_grid(&images)?, columns.max(1))?;
        std::fs::write(&args.output, png)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    } else {
        let shape: Vec<usize> = images.size().iter().map(|&d| d as usize).collect();
        let values = images
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous()
            .flatten(0, -1);
        write_npy(&args.output, &shape, &Vec::<f32>::try_from(&values)?)?;
    }
    eprintln!(
        "wrote {} images from {} (step {}) to {}",
        args.count,
        args.run.display(),
        generator.step,
        args.output.display()
    );
    Ok(())
}
