//! Wiener deconvolution for Convolve+Noise.
//!
//! Each channel is restored in the frequency domain as
//! `X̂ = IFFT[ FFT(y) · conj(H) / (|H|² + NSR + 1e-6) ]` and clipped to the model's value
//! range, as the reference code does. The noise-to-signal ratio is `NSR = σ² / E[x²]`, with
//! `σ` the noise standard deviation and `E[x²]` the mean squared clean value (the
//! reference's constants are [`MNIST_SIGNAL_POWER`] and [`CELEBA_SIGNAL_POWER`]).
//!
//! `H` is the FFT of the measurement's own blur kernel, zero-padded to the image size with
//! its centre tap at index (0, 0) and the other taps wrapped around. The reference instead
//! uses an image-size Gaussian on the grid `-13.5 … 13.5` (for 28 pixels), which is centred
//! between pixels and so shifts the restored image by half a pixel in each axis. The exact
//! kernel has no shift and no tails beyond the measurement's 5×5 support. The transform is
//! circular, while the measurement pads with zeros, so the two differ within the kernel
//! radius of the border where the image is not zero there (MNIST's borders are black, so
//! they agree there).

use std::sync::Arc;

use ambient_core::Shape;
use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::batch::Layout;
use super::convolve::Kernel;
use super::UnmeasureError;

/// The reference code's `E[x²]` for MNIST in `[0, 1]`.
pub const MNIST_SIGNAL_POWER: f32 = 0.112_044_61;

/// The reference code's `E[x²]` for CelebA in `[-1, 1]`.
pub const CELEBA_SIGNAL_POWER: f32 = 0.288_520_1;

/// The constant the reference adds to the denominator, which bounds the gain where `H` is
/// near zero even without noise.
const REGULARISER: f64 = 1e-6;

/// Returns the noise-to-signal ratio `σ² / E[x²]`.
pub fn noise_to_signal(noise_std: f32, signal_power: f32) -> Result<f32, UnmeasureError> {
    if !(signal_power > 0.0 && signal_power.is_finite()) {
        return Err(UnmeasureError::InvalidParameter {
            name: "signal power",
            value: f64::from(signal_power),
            expected: "a finite mean squared value above 0",
        });
    }
    if !(noise_std >= 0.0 && noise_std.is_finite()) {
        return Err(UnmeasureError::InvalidParameter {
            name: "noise standard deviation",
            value: f64::from(noise_std),
            expected: "finite and at least 0",
        });
    }
    Ok(noise_std * noise_std / signal_power)
}

/// Estimates `E[x²]` from measurements alone as `mean(y²) - σ²`, floored at 1e-6.
///
/// This is `E[(k ∗ x)²]`, the power of the blurred image. It is a little below `E[x²]`
/// because the blur removes high frequencies, so the NSR comes out a little high.
pub fn estimate_signal_power(y: &[f32], noise_std: f32) -> f32 {
    if y.is_empty() {
        return 1e-6;
    }
    let mean_square = y.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / y.len() as f64;
    let noise = f64::from(noise_std) * f64::from(noise_std);
    (mean_square - noise).max(1e-6) as f32
}

/// Restores a batch of blurred, noisy measurements of `shape` with the Wiener filter of
/// `kernel` and `nsr`, clipping the result to `range` (`(min, max)`).
pub fn wiener(
    y: &[f32],
    shape: Shape,
    kernel: &Kernel,
    nsr: f32,
    range: (f32, f32),
) -> Result<Vec<f32>, UnmeasureError> {
    let layout = Layout::new(shape, y.len())?;
    if !(nsr >= 0.0 && nsr.is_finite()) {
        return Err(UnmeasureError::InvalidParameter {
            name: "noise-to-signal ratio",
            value: f64::from(nsr),
            expected: "finite and at least 0",
        });
    }
    if range.0.is_nan() || range.1.is_nan() || range.0 > range.1 {
        return Err(UnmeasureError::InvalidParameter {
            name: "value range minimum",
            value: f64::from(range.0),
            expected: "at most the maximum",
        });
    }

    let transform = Transform2d::new(layout.height, layout.width);
    let filter = transform.filter(kernel, f64::from(nsr));
    let mut out = vec![0.0; y.len()];
    out.par_chunks_mut(layout.plane)
        .zip(y.par_chunks(layout.plane))
        .for_each(|(out, y)| {
            let mut spectrum = transform.forward(y);
            for (s, f) in spectrum.iter_mut().zip(&filter) {
                *s *= f;
            }
            let restored = transform.inverse(spectrum);
            for (o, v) in out.iter_mut().zip(restored) {
                *o = (v as f32).clamp(range.0, range.1);
            }
        });
    Ok(out)
}

/// A 2-D FFT of one plane, done as row transforms and then column transforms. The
/// spectrum is kept transposed (`[W, H]`), which is all the filter multiplication needs.
struct Transform2d {
    height: usize,
    width: usize,
    rows: Arc<dyn Fft<f64>>,
    cols: Arc<dyn Fft<f64>>,
    rows_inverse: Arc<dyn Fft<f64>>,
    cols_inverse: Arc<dyn Fft<f64>>,
}

impl Transform2d {
    fn new(height: usize, width: usize) -> Self {
        let mut planner = FftPlanner::new();
        Self {
            height,
            width,
            rows: planner.plan_fft_forward(width),
            cols: planner.plan_fft_forward(height),
            rows_inverse: planner.plan_fft_inverse(width),
            cols_inverse: planner.plan_fft_inverse(height),
        }
    }

    /// Returns the transposed spectrum of a `[H, W]` plane.
    fn forward(&self, plane: &[f32]) -> Vec<Complex<f64>> {
        let mut buffer: Vec<Complex<f64>> = plane
            .iter()
            .map(|&v| Complex::new(f64::from(v), 0.0))
            .collect();
        self.rows.process(&mut buffer);
        let mut transposed = transpose(&buffer, self.height, self.width);
        self.cols.process(&mut transposed);
        transposed
    }

    /// Returns the real part of the inverse of a transposed spectrum, as a `[H, W]` plane.
    fn inverse(&self, mut spectrum: Vec<Complex<f64>>) -> Vec<f64> {
        self.cols_inverse.process(&mut spectrum);
        let mut buffer = transpose(&spectrum, self.width, self.height);
        self.rows_inverse.process(&mut buffer);
        // rustfft does not normalise; the round trip multiplies by H·W.
        let scale = 1.0 / (self.height * self.width) as f64;
        buffer.iter().map(|v| v.re * scale).collect()
    }

    /// Returns the transposed filter `conj(H) / (|H|² + nsr + 1e-6)` of `kernel`.
    fn filter(&self, kernel: &Kernel, nsr: f64) -> Vec<Complex<f64>> {
        let (h, w) = (self.height, self.width);
        let radius = kernel.size() / 2;
        let mut image = vec![0.0f32; h * w];
        for a in 0..kernel.size() {
            // Tap a sits at offset a - radius, wrapped into 0..h (the kernel may exceed a
            // small image, whose taps then add up).
            let r = (a + h * kernel.size() - radius) % h;
            for b in 0..kernel.size() {
                let c = (b + w * kernel.size() - radius) % w;
                image[r * w + c] += kernel.weight(a, b);
            }
        }
        self.forward(&image)
            .into_iter()
            .map(|k| k.conj() / (k.norm_sqr() + nsr + REGULARISER))
            .collect()
    }
}

fn transpose(values: &[Complex<f64>], rows: usize, cols: usize) -> Vec<Complex<f64>> {
    let mut out = vec![Complex::new(0.0, 0.0); values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ambient_core::measure::{ConvolveNoise, Measurement};

    /// Returns a Gaussian bump of standard deviation 3 pixels centred in a 28×28 image, 0.9 at
    /// the peak and below 1e-9 at the border.
    fn bump() -> Vec<f32> {
        (0..28 * 28)
            .map(|i| {
                let (r, c) = ((i / 28) as f32 - 13.3, (i % 28) as f32 - 14.1);
                0.9 * (-(r * r + c * c) / 18.0).exp()
            })
            .collect()
    }

    #[test]
    fn identity_kernel_divides_by_gain() {
        // A 1×1 kernel of weight 1 has H = 1 everywhere, so X̂ = y / (1 + nsr + 1e-6).
        let kernel = Kernel::new(1, vec![1.0]).unwrap();
        let y: Vec<f32> = (0..12).map(|i| i as f32 * 0.05).collect();
        let out = wiener(&y, Shape::new(1, 3, 4), &kernel, 0.25, (0.0, 1.0)).unwrap();
        for (o, v) in out.iter().zip(&y) {
            let expected = (f64::from(*v) / 1.250_001) as f32;
            assert!((o - expected).abs() < 1e-6, "{o} against {expected}");
        }
    }

    #[test]
    fn noiseless_blur_is_inverted() {
        let shape = Shape::new(1, 28, 28);
        let op = ConvolveNoise::new(shape, 5, 1.0, 0.0).unwrap();
        let x = bump();
        let mut y = vec![0.0; x.len()];
        op.measure(&x, 1, &mut y).unwrap();
        let blur_error = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);

        let kernel = Kernel::of_measurement(&op).unwrap();
        let out = wiener(&y, shape, &kernel, 0.0, (0.0, 1.0)).unwrap();
        let error = x
            .iter()
            .zip(&out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);

        // The blur moves the peak by about 0.08. The restoration leaves under 1e-3 (2.4e-4
        // at the time of writing), from the 1e-6 regulariser at the highest frequencies.
        assert!(
            blur_error > 0.05,
            "blur changed the image by only {blur_error}"
        );
        assert!(error < 1e-3, "max error {error}");
    }

    #[test]
    fn output_is_clipped_to_range() {
        let kernel = Kernel::gaussian(5, 1.0).unwrap();
        // Two constant images, 3 and -3: H = 1 at frequency 0, so the restorations are
        // ±3 / 1.1, beyond the range.
        let y: Vec<f32> = (0..128).map(|i| if i < 64 { 3.0 } else { -3.0 }).collect();
        let out = wiener(&y, Shape::new(1, 8, 8), &kernel, 0.1, (-1.0, 1.0)).unwrap();
        assert!(out[..64].iter().all(|&v| v == 1.0));
        assert!(out[64..].iter().all(|&v| v == -1.0));
    }

    #[test]
    fn nsr_follows_reference_formula() {
        let nsr = noise_to_signal(0.2, MNIST_SIGNAL_POWER).unwrap();
        assert!((nsr - 0.04 / 0.112_044_61).abs() < 1e-6);
        assert!(noise_to_signal(0.2, 0.0).is_err());
        assert!(noise_to_signal(f32::NAN, 0.1).is_err());
    }

    #[test]
    fn signal_power_estimate_subtracts_noise() {
        // mean(y²) = (0.25 + 0.25 + 1 + 1) / 4 = 0.625; minus σ² = 0.01.
        let estimate = estimate_signal_power(&[0.5, -0.5, 1.0, -1.0], 0.1);
        assert!((estimate - 0.615).abs() < 1e-6);
        assert_eq!(estimate_signal_power(&[0.0; 4], 0.5), 1e-6);
    }
}
