//! Running an exported model in the core: aligned scratch, and whole batches.

use ambient_core::nn::Model;

use super::latents::Latents;
use super::ExportError;

/// A scratch buffer at the alignment the model needs.
#[derive(Debug)]
pub struct Scratch {
    buffer: Vec<u8>,
    start: usize,
    len: usize,
}

impl Scratch {
    /// Allocates the scratch `model` needs for batches of up to `batch` images.
    pub fn for_model(model: &Model<'_>, batch: usize) -> Result<Self, ExportError> {
        let len = model.scratch_len(batch)?;
        let align = model.scratch_align();
        let buffer = vec![0u8; len + align];
        let start = buffer.as_ptr().align_offset(align).min(align);
        Ok(Self { buffer, start, len })
    }

    /// Returns the aligned bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        &mut self.buffer[self.start..self.start + self.len]
    }
}

/// Generates the batch `latents` with `model` and returns `count · output_len` values,
/// image after image, each `[C, H, W]` (int8 models return dequantised values).
pub fn generate(model: &Model<'_>, latents: &Latents) -> Result<Vec<f32>, ExportError> {
    let mut scratch = Scratch::for_model(model, latents.count)?;
    let len = model.output_len().checked_mul(latents.count).ok_or(
        ambient_core::nn::InferError::BatchTooLarge {
            batch: latents.count,
        },
    )?;
    let mut out = vec![0.0f32; len];
    model.generate(
        &latents.z,
        latents.labels.as_deref(),
        &mut out,
        scratch.bytes(),
    )?;
    Ok(out)
}

/// Images generated per core call by [`sample_images`], which bounds the scratch size.
const SAMPLE_CHUNK: usize = 256;

/// Generates `count` images `[count, C, H, W]` with `model`, from latent vectors drawn
/// from `distribution` after seeding torch with `seed`, in the same chunks as
/// [`crate::train::RunGenerator::sample`] draws them. On the CPU both therefore use the
/// same latent vectors for the same seed. A conditional model gets labels `i mod classes`.
pub fn sample_images(
    model: &Model<'_>,
    count: usize,
    seed: u64,
    distribution: crate::model::LatentDistribution,
) -> Result<tch::Tensor, ExportError> {
    crate::train::seeds::seed_torch(seed);
    let (latent, classes) = (model.latent(), model.classes());
    let mut images = Vec::with_capacity(count.saturating_mul(model.output_len()));
    let mut done = 0;
    while done < count {
        let n = (count - done).min(SAMPLE_CHUNK);
        let z =
            crate::model::sample_latent(distribution, n as i64, latent as i64, tch::Device::Cpu);
        let labels =
            (classes > 0).then(|| (done..done + n).map(|i| (i % classes) as u32).collect());
        let batch = Latents {
            count: n,
            z: super::lower::values(&z)?,
            labels,
        };
        images.extend(generate(model, &batch)?);
        done += n;
    }
    let s = model.output_shape();
    let shape = [
        count as i64,
        s.channels as i64,
        s.height as i64,
        s.width as i64,
    ];
    Ok(tch::Tensor::from_slice(&images).f_view(shape)?)
}
