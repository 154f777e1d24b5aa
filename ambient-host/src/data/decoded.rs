//! Decoded images as plain arrays, the common output of the colour data set loaders.

use std::path::PathBuf;

use ambient_core::Shape;

use super::{DataError, ImageSet};

/// Images decoded from a data set, `[N, C, H, W]` f32 stored back to back, with optional
/// class labels.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedImages {
    /// The file or folder the images were read from.
    pub source: PathBuf,
    /// The shape of one image.
    pub shape: Shape,
    /// The pixel values, image by image, each image channel-major.
    pub pixels: Vec<f32>,
    /// One class label per image, when the data set has them.
    pub labels: Option<Vec<u8>>,
}

impl DecodedImages {
    /// Returns the number of images.
    pub fn len(&self) -> usize {
        match self.shape.checked_len() {
            Some(n) if n > 0 => self.pixels.len() / n,
            _ => 0,
        }
    }

    /// Returns whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the images into an [`ImageSet`] for the trainer. The set's range is
    /// `[-1, 1]`, and the trainer maps it to the model's range ([`ImageSet::to_range`]), so
    /// a 28×28 model with a sigmoid output sees `[0, 1]`.
    pub fn into_image_set(self) -> Result<ImageSet, DataError> {
        ImageSet::from_values(&self.source, self.shape, &self.pixels, self.labels)
    }

    /// Returns the values of image `index`, or `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[f32]> {
        let n = self.shape.checked_len()?;
        let start = index.checked_mul(n)?;
        self.pixels.get(start..start.checked_add(n)?)
    }
}

/// Maps an 8-bit pixel value to the model range `[-1, 1]` as `v / 127.5 - 1`, so 0 maps to
/// -1 and 255 to 1.
pub fn byte_to_signed(value: u8) -> f32 {
    f32::from(value) / 127.5 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_mapping_hits_both_ends() {
        assert_eq!(byte_to_signed(0), -1.0);
        assert_eq!(byte_to_signed(255), 1.0);
        assert!((byte_to_signed(51) - (-0.6)).abs() < 1e-6);
    }

    #[test]
    fn image_slices_by_index() {
        let set = DecodedImages {
            source: PathBuf::from("memory"),
            shape: Shape::new(1, 1, 2),
            pixels: vec![1.0, 2.0, 3.0, 4.0],
            labels: None,
        };
        assert_eq!(set.len(), 2);
        assert_eq!(set.image(1), Some(&[3.0, 4.0][..]));
        assert_eq!(set.image(2), None);
    }
}
