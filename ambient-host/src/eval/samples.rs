//! The sample sets `eval` scores: images generated from a run folder's checkpoint (by
//! libtorch) or from a weight file (by `ambient-core`), or read from a `.npy` array
//! `[N, 1, 28, 28]` (or `[N, 28, 28]`) in `[0, 1]`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use ambient_core::format::ValueRange;
use ambient_core::nn::Model;

use super::npy::read_npy;
use super::EvalError;
use crate::export::generate::sample_images;
use crate::export::ExportError;
use crate::model::LatentDistribution;
use crate::train::load_generator;

/// The kind of an `eval` input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum InputKind {
    /// A run folder: the generator at its last checkpoint.
    Run,
    /// A `.npy` array of images.
    Npy,
    /// An exported `.amb` model.
    Amb,
}

impl InputKind {
    /// Returns what `path` names: a folder with `config.json` is a run, otherwise the
    /// extension decides.
    pub fn of(path: &Path) -> Result<Self, EvalError> {
        if path.is_dir() && path.join("config.json").is_file() {
            return Ok(Self::Run);
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => Ok(Self::Npy),
            Some("amb") => Ok(Self::Amb),
            _ => Err(EvalError::UnknownInput {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// A sample set and where it came from.
#[derive(Debug)]
pub struct SampleSet {
    /// The images, `[N, 1, 28, 28]`.
    pub images: Tensor,
    /// The input path.
    pub source: PathBuf,
    /// The kind of input.
    pub kind: InputKind,
    /// The checkpoint's completed steps, for a run.
    pub step: Option<u64>,
    /// The latent seed, for generated samples.
    pub seed: Option<u64>,
}

/// Generates `count` samples from the last checkpoint of the run folder `run`, with latent
/// vectors drawn after seeding torch with `seed`.
pub fn samples_from_run(
    run: &Path,
    count: usize,
    seed: u64,
    device: Device,
) -> Result<SampleSet, EvalError> {
    let generator = load_generator(run, device)?;
    let images = generator.sample(count, seed)?;
    // A conditional model generates its classes in blocks, so each contiguous split of the
    // inception score would hold a single class and score near 1 however good the model
    // is. Interleaving the classes gives every split an equal share of each.
    let images = match generator.grid_columns(count) {
        Some(columns) => {
            let order: Vec<i64> = interleaved_order(count, columns)
                .into_iter()
                .map(|i| i as i64)
                .collect();
            let order = Tensor::f_from_slice(&order)?.f_to_device(images.device())?;
            images.f_index_select(0, &order)?
        }
        None => images,
    };
    Ok(SampleSet {
        images,
        source: run.to_path_buf(),
        kind: InputKind::Run,
        step: Some(generator.step),
        seed: Some(seed),
    })
}

/// Returns the order that reads `count` items stored in blocks of `block` (a class per
/// block) one from each block in turn: item `r` of every block, then item `r + 1`.
fn interleaved_order(count: usize, block: usize) -> Vec<usize> {
    let block = block.max(1);
    let blocks = count.div_ceil(block);
    (0..block)
        .flat_map(|r| (0..blocks).map(move |b| b * block + r))
        .filter(|&i| i < count)
        .collect()
}

/// Generates `count` samples with the weight file at `path`, run by `ambient-core`, from
/// latent vectors of `distribution` drawn after seeding torch with `seed` (the file does
/// not record its latent distribution). Output in `[-1, 1]` is mapped to `[0, 1]`.
pub fn samples_from_model(
    path: &Path,
    count: usize,
    seed: u64,
    distribution: LatentDistribution,
) -> Result<SampleSet, EvalError> {
    let model_error = |source: ExportError| EvalError::Model {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let model = Model::parse(&bytes).map_err(|e| model_error(e.into()))?;
    let images = sample_images(&model, count, seed, distribution).map_err(model_error)?;
    let images = match model.header().range {
        ValueRange::MinusOneOne => images.f_add_scalar(1.0)?.f_mul_scalar(0.5)?,
        _ => images,
    };
    Ok(SampleSet {
        images,
        source: path.to_path_buf(),
        kind: InputKind::Amb,
        step: None,
        seed: Some(seed),
    })
}

/// Reads the images of a `.npy` file, keeping the first `count` when `count` is given.
pub fn samples_from_npy(path: &Path, count: Option<usize>) -> Result<SampleSet, EvalError> {
    let array = read_npy(path)?;
    let bad_shape = || EvalError::ImageShape {
        shape: array.shape.iter().map(|&d| d as i64).collect(),
    };
    let n = match array.shape.as_slice() {
        &[n, 1, 28, 28] | &[n, 28, 28] if n > 0 => n,
        _ => return Err(bad_shape()),
    };
    let keep = match count {
        Some(c) if c > n => {
            return Err(EvalError::InvalidOption {
                option: "-n",
                reason: format!("{} contains {n} images, fewer than {c}", path.display()),
            })
        }
        Some(c) => c,
        None => n,
    };

    let values = &array.data[..keep * 28 * 28];
    let images = Tensor::f_from_slice(values)?.f_view([keep as i64, 1, 28, 28])?;
    Ok(SampleSet {
        images,
        source: path.to_path_buf(),
        kind: InputKind::Npy,
        step: None,
        seed: None,
    })
}

#[cfg(test)]
mod tests {
    use super::interleaved_order;

    #[test]
    fn interleaving_takes_one_per_block() {
        assert_eq!(interleaved_order(6, 2), [0, 2, 4, 1, 3, 5]);
        // The last block is short: 7 items in blocks of 3 are [0 1 2] [3 4 5] [6].
        assert_eq!(interleaved_order(7, 3), [0, 3, 6, 1, 4, 2, 5]);
        assert_eq!(interleaved_order(3, 1), [0, 1, 2]);
    }

    #[test]
    fn interleaving_is_a_permutation() {
        let mut order = interleaved_order(1000, 100);
        assert_eq!(
            order[..10],
            [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
        );
        order.sort_unstable();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
    }
}
