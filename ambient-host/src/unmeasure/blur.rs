//! Blur repair for dropped pixels: a Gaussian local average of what was kept.

use ambient_core::Shape;

use super::batch::{check_theta, known_value, map_masked_planes, Layout};
use super::convolve::{convolve_same, Kernel};
use super::UnmeasureError;

/// The side of the blur kernel (the reference code's 5×5).
pub const BLUR_SIZE: usize = 5;

/// The standard deviation of the blur kernel in pixels (the reference code's radius 1).
pub const BLUR_SIGMA: f32 = 1.0;

/// The blur's treatment of dropped pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlurWeighting {
    /// The reference code's baseline: blur the measurement as it is, dropped pixels being
    /// zero and kept ones rescaled by `1/(1-p)`. On a constant image `c` this returns
    /// `c · (Σ of the kernel weights over kept pixels) / (1-p)`, which is `c` only in
    /// expectation over the mask (and only away from the border, where taps fall outside
    /// the image). A channel with no dropped pixel is returned unchanged, as the reference
    /// does.
    #[default]
    Reference,
    /// Normalised convolution: the blur of the kept clean values `y/θ` divided by the blur
    /// of the 0/1 mask, so a constant image returns exactly `c` wherever the 5×5 window
    /// contains a kept pixel. A pixel with no kept pixel in its window becomes 0.
    Normalised,
}

/// Repairs a batch of masked measurements (`y = θ ⊙ x`, `θ = 0` where dropped) by a 5×5
/// Gaussian blur (σ = 1) of each channel with zero padding.
///
/// `y` and `theta` hold whole images of `shape`, value for value.
pub fn blur(
    y: &[f32],
    theta: &[f32],
    shape: Shape,
    weighting: BlurWeighting,
) -> Result<Vec<f32>, UnmeasureError> {
    let layout = Layout::new(shape, y.len())?;
    check_theta(y, theta)?;
    let kernel = Kernel::gaussian(BLUR_SIZE, BLUR_SIGMA)?;
    let repaired = map_masked_planes(y, theta, layout.plane, |y, theta, out| match weighting {
        BlurWeighting::Reference => blur_plane(y, theta, &layout, &kernel, out),
        BlurWeighting::Normalised => normalised_plane(y, theta, &layout, &kernel, out),
    });
    Ok(repaired)
}

fn blur_plane(y: &[f32], theta: &[f32], layout: &Layout, kernel: &Kernel, out: &mut [f32]) {
    if theta.iter().all(|&t| t != 0.0) {
        out.copy_from_slice(y);
        return;
    }
    convolve_same(y, layout.height, layout.width, kernel, out);
}

fn normalised_plane(y: &[f32], theta: &[f32], layout: &Layout, kernel: &Kernel, out: &mut [f32]) {
    let mut values = vec![0.0; y.len()];
    let mut mask = vec![0.0; y.len()];
    for (i, (&y, &t)) in y.iter().zip(theta).enumerate() {
        if let Some(x) = known_value(y, t) {
            values[i] = x;
            mask[i] = 1.0;
        }
    }

    let mut weight = vec![0.0; y.len()];
    convolve_same(&values, layout.height, layout.width, kernel, out);
    convolve_same(&mask, layout.height, layout.width, kernel, &mut weight);
    for (value, &w) in out.iter_mut().zip(&weight) {
        // A window with no kept pixel sums to exactly zero; any kept pixel adds at least
        // the smallest weight (about 0.003), far above rounding.
        *value = if w > 0.0 { *value / w } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDE: usize = 9;

    /// A 9×9 constant image `c` under Block-Pixels with p = 0.5 (kept scale 2) and holes
    /// at `holes` (row, column): returns (y, θ).
    fn constant_with_holes(c: f32, holes: &[(usize, usize)]) -> (Vec<f32>, Vec<f32>) {
        let mut theta = vec![2.0; SIDE * SIDE];
        for &(r, col) in holes {
            theta[r * SIDE + col] = 0.0;
        }
        let y = theta.iter().map(|&t| t * c).collect();
        (y, theta)
    }

    #[test]
    fn reference_blur_weights_kept_pixels() {
        let (y, theta) = constant_with_holes(0.4, &[(4, 4)]);
        let kernel = Kernel::gaussian(5, 1.0).unwrap();
        let out = blur(
            &y,
            &theta,
            Shape::new(1, SIDE, SIDE),
            BlurWeighting::Reference,
        )
        .unwrap();

        // Hand formula: c/(1-p) · (1 - weight of the hole) inside the border. The hole at
        // (4, 4) meets tap (r + 2 - 4, col + 2 - 4) of the window at (r, col).
        let scaled = 0.8;
        let at = |r: usize, col: usize| out[r * SIDE + col];
        assert!((at(4, 4) - scaled * (1.0 - kernel.weight(2, 2))).abs() < 1e-6);
        assert!((at(4, 5) - scaled * (1.0 - kernel.weight(2, 3))).abs() < 1e-6);
        assert!((at(3, 2) - scaled * (1.0 - kernel.weight(1, 0))).abs() < 1e-6);

        // Row 2, column 6 is 2 away from the border and 2 from the hole in both axes.
        assert!((at(2, 6) - scaled * (1.0 - kernel.weight(0, 4))).abs() < 1e-6);
    }

    #[test]
    fn reference_blur_keeps_complete_channel() {
        // Channel 0 has a hole, channel 1 none: the reference code blurs only channel 0.
        let mut theta = vec![1.0; 2 * 16];
        theta[5] = 0.0;
        let y: Vec<f32> = (0..32).map(|i| i as f32 * theta[i]).collect();
        let out = blur(&y, &theta, Shape::new(2, 4, 4), BlurWeighting::Reference).unwrap();
        assert_eq!(out[16..], y[16..]);
        assert_ne!(out[..16], y[..16]);
    }

    #[test]
    fn normalised_blur_returns_constant() {
        let holes = [(0, 0), (4, 4), (4, 5), (8, 3), (2, 7)];
        let (y, theta) = constant_with_holes(0.4, &holes);
        let out = blur(
            &y,
            &theta,
            Shape::new(1, SIDE, SIDE),
            BlurWeighting::Normalised,
        )
        .unwrap();
        for (i, &v) in out.iter().enumerate() {
            assert!((v - 0.4).abs() < 1e-6, "pixel {i}: {v}");
        }
    }

    #[test]
    fn normalised_blur_zeroes_empty_window() {
        // Every pixel dropped: no window has a kept value.
        let theta = vec![0.0; 36];
        let y = vec![0.0; 36];
        let out = blur(&y, &theta, Shape::new(1, 6, 6), BlurWeighting::Normalised).unwrap();
        assert!(out.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn mismatched_theta_is_rejected() {
        let error = blur(
            &[0.0; 16],
            &[0.0; 15],
            Shape::new(1, 4, 4),
            BlurWeighting::Reference,
        );
        assert!(matches!(
            error,
            Err(UnmeasureError::ThetaLength {
                expected: 16,
                found: 15
            })
        ));
        let error = blur(
            &[0.0; 15],
            &[0.0; 15],
            Shape::new(1, 4, 4),
            BlurWeighting::Reference,
        );
        assert!(matches!(
            error,
            Err(UnmeasureError::BatchLength { found: 15, .. })
        ));
    }
}
