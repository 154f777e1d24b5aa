//! Which loader a `--data` path goes to, and the options applied after loading.
//!
//! A folder is an MNIST-style folder when it contains `train-images-idx3-ubyte` (plain or
//! gzipped), a CIFAR-10 folder when it (or its `cifar-10-batches-bin` subfolder) contains
//! `data_batch_1.bin`, and otherwise a folder of JPEG/PNG images (CelebA). A file ending
//! in `.bin` is one CIFAR-10 batch, one ending in `.ambr` a measurement record file.
//! MNIST-style images are in `[0, 1]`, CIFAR-10 and CelebA images in `[-1, 1]`; the
//! trainer maps a set to its model's range.

use std::path::Path;

use super::celeba::{self, CelebaOptions};
use super::{cifar, mnist, DataError, ImageSet, TrainingData};

/// Options applied to a clean image set after it is loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataOptions {
    /// Resize every image to this side (bilinear); `None` keeps the loader's size (for a
    /// folder of photographs, 64).
    pub image_size: Option<usize>,
    /// Keep only the first this many images; `None` keeps them all.
    pub max_images: Option<usize>,
}

/// Opens a training set as [`super::open`] does, then applies `options` to an image set.
/// Options that only apply to images are rejected for a record file.
pub fn open_with(path: &Path, options: &DataOptions) -> Result<TrainingData, DataError> {
    let mut data = match load_images(path, options)? {
        Some(set) => TrainingData::Images(set),
        None => super::open(path)?,
    };
    match &mut data {
        TrainingData::Images(set) => {
            if let Some(count) = options.max_images {
                if count == 0 {
                    return Err(invalid(path, "--max-images must be at least 1"));
                }
                set.truncate(count)?;
            }
            if let Some(side) = options.image_size.filter(|&s| s != set.shape().height) {
                set.resize(side)?;
            }
        }
        TrainingData::Measurements(_) => {
            if options.image_size.is_some() || options.max_images.is_some() {
                return Err(invalid(
                    path,
                    "--image-size and --max-images apply to images, not to a record file",
                ));
            }
        }
    }
    Ok(data)
}

/// Loads the CIFAR-10 and photograph routes; `None` leaves the path to [`super::open`].
fn load_images(path: &Path, options: &DataOptions) -> Result<Option<ImageSet>, DataError> {
    if path.is_file() && path.extension().is_some_and(|e| e == "bin") {
        return Ok(Some(cifar::read_batch(path)?.into_image_set()?));
    }
    if !path.is_dir() || mnist::has_split(path, mnist::Split::Train) {
        return Ok(None);
    }
    if is_cifar_dir(path) {
        return Ok(Some(
            cifar::load(path, cifar::Split::Train)?.into_image_set()?,
        ));
    }
    let side = options.image_size.unwrap_or(64);
    let celeba = CelebaOptions {
        size: u32::try_from(side).map_err(|_| invalid(path, "--image-size is too large"))?,
        max_images: options.max_images,
        ..CelebaOptions::default()
    };
    Ok(Some(celeba::load(path, &celeba)?.images.into_image_set()?))
}

fn is_cifar_dir(dir: &Path) -> bool {
    let first = cifar::Split::Train.file_names()[0];
    dir.join(first).is_file() || dir.join("cifar-10-batches-bin").join(first).is_file()
}

fn invalid(path: &Path, reason: &str) -> DataError {
    DataError::InvalidOption {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}
