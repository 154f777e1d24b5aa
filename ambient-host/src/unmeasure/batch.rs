//! Shape checks and per-plane parallel iteration shared by the repairs.

use ambient_core::Shape;
use rayon::prelude::*;

use super::UnmeasureError;

/// The layout of a batch of `[C, H, W]` images, checked once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub height: usize,
    pub width: usize,
    /// Values in one channel of one image.
    pub plane: usize,
}

impl Layout {
    /// Checks `shape` and that `len` values are whole images of it.
    pub fn new(shape: Shape, len: usize) -> Result<Self, UnmeasureError> {
        let image_len = shape
            .checked_len()
            .filter(|_| !shape.is_empty())
            .ok_or(UnmeasureError::InvalidShape { shape })?;
        if len % image_len != 0 {
            return Err(UnmeasureError::BatchLength {
                what: "measurements",
                found: len,
                image_len,
            });
        }
        Ok(Self {
            height: shape.height,
            width: shape.width,
            plane: shape.height * shape.width,
        })
    }
}

/// Checks that θ has one value per measured value.
pub(crate) fn check_theta(y: &[f32], theta: &[f32]) -> Result<(), UnmeasureError> {
    if y.len() != theta.len() {
        return Err(UnmeasureError::ThetaLength {
            expected: y.len(),
            found: theta.len(),
        });
    }
    Ok(())
}

/// Checks that an iterative solver's stopping tolerance `value` is at least 0 (not NaN).
pub(crate) fn check_tolerance(name: &'static str, value: f64) -> Result<(), UnmeasureError> {
    if value.is_nan() || value < 0.0 {
        return Err(UnmeasureError::InvalidParameter {
            name,
            value,
            expected: "at least 0",
        });
    }
    Ok(())
}

/// Runs `repair(y_plane, theta_plane, out_plane)` on every channel of every image in
/// parallel.
pub(crate) fn map_masked_planes<F>(y: &[f32], theta: &[f32], plane: usize, repair: F) -> Vec<f32>
where
    F: Fn(&[f32], &[f32], &mut [f32]) + Sync,
{
    let mut out = vec![0.0; y.len()];
    out.par_chunks_mut(plane)
        .zip(y.par_chunks(plane).zip(theta.par_chunks(plane)))
        .for_each(|(out_plane, (y_plane, theta_plane))| repair(y_plane, theta_plane, out_plane));
    out
}

/// Returns the clean value a masked measurement implies: `y / θ` where the value was kept
/// (`θ ≠ 0`), `None` where it was dropped.
pub(crate) fn known_value(y: f32, theta: f32) -> Option<f32> {
    (theta != 0.0).then(|| y / theta)
}
