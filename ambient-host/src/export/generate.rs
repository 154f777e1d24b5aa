//! Running an exported model in the core: aligned scratch, and whole batches.

use ambient_core::nn::{InferError, Model};

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
        let padded = len
            .checked_add(align)
            .ok_or(InferError::BatchTooLarge { batch })?;
        let buffer = vec![0u8; padded];
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

/// Generates `count` images `[count, C, H, W]` with `model` from the latent vectors
/// [`Latents::draw`] makes from `distribution` and `seed`, which for normal latents are
/// those a device draws with the C library's `ambient_sample_latent(seed, ...)`. A
/// conditional model gets labels `i mod classes`.
pub fn sample_images(
    model: &Model<'_>,
    count: usize,
    seed: u64,
    distribution: crate::model::LatentDistribution,
) -> Result<tch::Tensor, ExportError> {
    let (latent, classes) = (model.latent(), model.classes());
    count
        .checked_mul(latent.max(model.output_len()))
        .ok_or(InferError::BatchTooLarge { batch: count })?;
    let all = Latents::draw(distribution, count, latent, classes, seed);
    let mut images = Vec::with_capacity(count.saturating_mul(model.output_len()));
    for start in (0..count).step_by(SAMPLE_CHUNK) {
        let n = (count - start).min(SAMPLE_CHUNK);
        let chunk = Latents {
            count: n,
            z: all.z[start * latent..(start + n) * latent].to_vec(),
            labels: all.labels.as_ref().map(|l| l[start..start + n].to_vec()),
        };
        images.extend(generate(model, &chunk)?);
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
