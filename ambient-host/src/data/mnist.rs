//! MNIST-style folders: the IDX image and label files of MNIST and Fashion-MNIST.
//!
//! A folder holds `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` for the training
//! split and `t10k-*` for the test split, each plain or with `.gz` appended (the content
//! decides, not the name). The labels file is optional; when present its count must match.

use std::path::{Path, PathBuf};

use ambient_core::Shape;

use super::idx::read_idx;
use super::{DataError, ImageSet};

/// A split of an MNIST-style data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The training images (`train-*`).
    Train,
    /// The test images (`t10k-*`).
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "t10k",
        }
    }
}

/// Returns whether `dir` holds the images file of `split`, plain or gzipped.
pub fn has_split(dir: &Path, split: Split) -> bool {
    find_file(dir, &images_name(split)).is_some()
}

/// Loads one split of an MNIST-style folder as 1-channel images in `[0, 1]`.
pub fn load_split(dir: &Path, split: Split) -> Result<ImageSet, DataError> {
    let images_name = images_name(split);
    let images_path = find_file(dir, &images_name).ok_or_else(|| DataError::MissingFile {
        dir: dir.to_path_buf(),
        name: images_name,
    })?;
    let images = read_idx(&images_path)?;
    if images.dims.len() != 3 {
        return Err(DataError::WrongRank {
            path: images_path,
            what: "images: count, rows, columns",
            expected: 3,
            found: images.dims.len(),
        });
    }
    let count = images.dims[0];
    let shape = Shape::new(1, images.dims[1], images.dims[2]);

    let labels_name = format!("{}-labels-idx1-ubyte", split.prefix());
    let labels = match find_file(dir, &labels_name) {
        Some(path) => Some(load_labels(&path, &images_path, count)?),
        None => None,
    };
    ImageSet::from_bytes(&images_path, shape, &images.data, labels)
}

fn load_labels(path: &Path, images_path: &Path, count: usize) -> Result<Vec<u8>, DataError> {
    let labels = read_idx(path)?;
    if labels.dims.len() != 1 {
        return Err(DataError::WrongRank {
            path: path.to_path_buf(),
            what: "labels: count",
            expected: 1,
            found: labels.dims.len(),
        });
    }
    if labels.dims[0] != count {
        return Err(DataError::LabelCount {
            images: images_path.to_path_buf(),
            labels: path.to_path_buf(),
            image_count: count,
            label_count: labels.dims[0],
        });
    }
    Ok(labels.data)
}

fn images_name(split: Split) -> String {
    format!("{}-images-idx3-ubyte", split.prefix())
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), format!("{name}.gz")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}
