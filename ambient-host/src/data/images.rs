//! A clean image data set held as one tensor.

use std::path::{Path, PathBuf};

use ambient_core::format::ValueRange;
use ambient_core::Shape;
use tch::{Device, Kind, Tensor};

use super::DataError;

/// Clean images `[N, C, H, W]`, f32 in the model's range (`[0, 1]` or `[-1, 1]`), with
/// optional labels.
#[derive(Debug)]
pub struct ImageSet {
    source: PathBuf,
    shape: Shape,
    images: Tensor,
    labels: Option<Vec<u8>>,
    range: ValueRange,
}

impl ImageSet {
    /// Builds a set from 8-bit pixels, whole images of `shape` stored back to back; each
    /// pixel `v` becomes `v / 255`. `source` names the set in errors and reports.
    pub fn from_bytes(
        source: &Path,
        shape: Shape,
        pixels: &[u8],
        labels: Option<Vec<u8>>,
    ) -> Result<Self, DataError> {
        let image_len = image_len(source, shape)?;
        let count = pixels.len() / image_len;
        if count == 0 {
            return Err(DataError::Empty {
                path: source.to_path_buf(),
            });
        }

        let size = [count, shape.channels, shape.height, shape.width].map(|d| d as i64);
        let images = Tensor::f_from_slice(&pixels[..count * image_len])
            .and_then(|t| t.f_view(size))
            .and_then(|t| t.f_to_kind(Kind::Float))
            .and_then(|t| t.f_div_scalar(255.0))
            .map_err(|e| torch_error(source, e))?;
        Ok(Self {
            source: source.to_path_buf(),
            shape,
            images,
            labels,
            range: ValueRange::ZeroOne,
        })
    }

    /// Builds a set from f32 values already in the model's range, whole images of `shape`
    /// stored back to back (the colour loaders produce `[-1, 1]`).
    pub fn from_values(
        source: &Path,
        shape: Shape,
        values: &[f32],
        labels: Option<Vec<u8>>,
    ) -> Result<Self, DataError> {
        let image_len = image_len(source, shape)?;
        let count = values.len() / image_len;
        if count == 0 {
            return Err(DataError::Empty {
                path: source.to_path_buf(),
            });
        }

        let size = [count, shape.channels, shape.height, shape.width].map(|d| d as i64);
        let images = Tensor::f_from_slice(&values[..count * image_len])
            .and_then(|t| t.f_view(size))
            .map_err(|e| torch_error(source, e))?;
        Ok(Self {
            source: source.to_path_buf(),
            shape,
            images,
            labels,
            range: ValueRange::MinusOneOne,
        })
    }

    /// Returns the range of the values: `[0, 1]` for a set built from bytes, `[-1, 1]`
    /// for one built from values.
    pub fn range(&self) -> ValueRange {
        self.range
    }

    /// Maps the values to `range`: `2x − 1` from `[0, 1]` to `[-1, 1]`, `(x + 1) / 2`
    /// back. Other ranges leave the values as they are.
    pub fn to_range(&mut self, range: ValueRange) -> Result<(), DataError> {
        let mapped = match (self.range, range) {
            (ValueRange::ZeroOne, ValueRange::MinusOneOne) => self
                .images
                .f_mul_scalar(2.0)
                .and_then(|t| t.f_sub_scalar(1.0)),
            (ValueRange::MinusOneOne, ValueRange::ZeroOne) => self
                .images
                .f_add_scalar(1.0)
                .and_then(|t| t.f_div_scalar(2.0)),
            _ => return Ok(()),
        };
        self.images = mapped.map_err(|e| torch_error(&self.source, e))?;
        self.range = range;
        Ok(())
    }

    /// Keeps the first `count` images (and labels), or all of them when there are fewer.
    pub fn truncate(&mut self, count: usize) -> Result<(), DataError> {
        if count >= self.len() {
            return Ok(());
        }
        self.images = self
            .images
            .f_narrow(0, 0, count as i64)
            .and_then(|t| t.f_contiguous())
            .map_err(|e| torch_error(&self.source, e))?;
        if let Some(labels) = &mut self.labels {
            labels.truncate(count);
        }
        Ok(())
    }

    /// Resizes every image to `side`×`side` with bilinear interpolation (corners aligned
    /// at pixel centres, as PyTorch's `align_corners = false`), clamped to the set's range.
    pub fn resize(&mut self, side: usize) -> Result<(), DataError> {
        if side == 0 {
            return Err(DataError::InvalidOption {
                path: self.source.clone(),
                reason: "the image size must be at least 1".into(),
            });
        }
        let (lo, hi) = match self.range {
            ValueRange::MinusOneOne => (-1.0, 1.0),
            _ => (0.0, 1.0),
        };
        let s = side as i64;
        self.images = self
            .images
            .f_upsample_bilinear2d([s, s], false, None, None)
            .and_then(|t| t.f_clamp(lo, hi))
            .map_err(|e| torch_error(&self.source, e))?;
        self.shape = Shape::new(self.shape.channels, side, side);
        Ok(())
    }

    /// Returns the file or folder the images were read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Returns the shape of one image.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Returns the number of images.
    pub fn len(&self) -> usize {
        self.images.size().first().map_or(0, |&n| n as usize)
    }

    /// Returns whether the set holds no image (never true for a set built by
    /// [`ImageSet::from_bytes`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the class labels, one per image, when the set has them.
    pub fn labels(&self) -> Option<&[u8]> {
        self.labels.as_deref()
    }

    /// Returns all images, `[N, C, H, W]`.
    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// Moves the images to `device`, so that batches are gathered there.
    pub fn to_device(&mut self, device: Device) -> Result<(), DataError> {
        self.images = self
            .images
            .f_to_device(device)
            .map_err(|e| torch_error(&self.source, e))?;
        Ok(())
    }

    /// Gathers the images at `indices` into a batch `[B, C, H, W]` on the set's device.
    pub fn batch(&self, indices: &[usize]) -> Result<Tensor, DataError> {
        let len = self.len();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(DataError::IndexOutOfRange {
                path: self.source.clone(),
                index,
                len,
            });
        }
        let index: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        Tensor::f_from_slice(&index)
            .and_then(|t| t.f_to_device(self.images.device()))
            .and_then(|t| self.images.f_index_select(0, &t))
            .map_err(|e| torch_error(&self.source, e))
    }
}

fn torch_error(path: &Path, source: tch::TchError) -> DataError {
    DataError::Torch {
        path: path.to_path_buf(),
        source,
    }
}

/// Returns the number of values in one image of `shape`, or an error naming `source` when
/// that number is 0 or overflows.
fn image_len(source: &Path, shape: Shape) -> Result<usize, DataError> {
    shape
        .checked_len()
        .filter(|&n| n > 0)
        .ok_or_else(|| DataError::SizeOverflow {
            path: source.to_path_buf(),
            dims: vec![shape.channels, shape.height, shape.width],
        })
}
