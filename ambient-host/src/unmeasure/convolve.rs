//! Same-size 2-D convolution with zero padding, and the Gaussian kernel.

use ambient_core::measure::ConvolveNoise;
use ambient_core::Shape;

use super::UnmeasureError;

/// A square convolution kernel with an odd side, stored row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    size: usize,
    weights: Vec<f32>,
}

impl Kernel {
    /// Builds a kernel from `size × size` weights, row by row; `size` must be odd.
    pub fn new(size: usize, weights: Vec<f32>) -> Result<Self, UnmeasureError> {
        let square = size.checked_mul(size);
        if size % 2 == 0 || square != Some(weights.len()) {
            return Err(UnmeasureError::InvalidParameter {
                name: "kernel size",
                value: size as f64,
                expected: "an odd side whose square is the number of weights",
            });
        }
        Ok(Self { size, weights })
    }

    /// Builds the normalised Gaussian of odd `size` and standard deviation `sigma` pixels,
    /// with exactly the weights Convolve+Noise blurs with in `ambient-core`.
    pub fn gaussian(size: usize, sigma: f32) -> Result<Self, UnmeasureError> {
        let op = ConvolveNoise::new(Shape::new(1, size, size), size, sigma, 0.0)?;
        Self::of_measurement(&op)
    }

    /// Returns the blur kernel of a Convolve+Noise measurement.
    pub fn of_measurement(op: &ConvolveNoise) -> Result<Self, UnmeasureError> {
        let size = op.kernel_size();
        let mut weights = vec![0.0; size * size];
        op.kernel_2d(&mut weights)?;
        Ok(Self { size, weights })
    }

    /// Returns the side.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Returns the weights, row by row.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Returns the weight at row `a`, column `b`.
    pub fn weight(&self, a: usize, b: usize) -> f32 {
        self.weights[a * self.size + b]
    }
}

/// Convolves one `height × width` plane with `kernel`, treating values outside the plane as
/// zero and keeping the output the size of the input (SciPy's `convolve2d(mode="same")`
/// and TensorFlow's `SAME` for an odd kernel).
pub fn convolve_same(plane: &[f32], height: usize, width: usize, kernel: &Kernel, out: &mut [f32]) {
    let radius = kernel.size / 2;
    for row in 0..height {
        for col in 0..width {
            let mut sum = 0.0;
            for a in 0..kernel.size {
                // Convolution pairs tap a with source row row + radius - a.
                let Some(r) = (row + radius).checked_sub(a).filter(|&r| r < height) else {
                    continue;
                };
                for b in 0..kernel.size {
                    let Some(c) = (col + radius).checked_sub(b).filter(|&c| c < width) else {
                        continue;
                    };
                    sum += kernel.weight(a, b) * plane[r * width + c];
                }
            }
            out[row * width + col] = sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_matches_reference_weights() {
        let kernel = Kernel::gaussian(5, 1.0).unwrap();
        let one_d = [0.0545, 0.2442, 0.4026, 0.2442, 0.0545];
        for a in 0..5 {
            for b in 0..5 {
                let expected = one_d[a] * one_d[b];
                assert!((kernel.weight(a, b) - expected).abs() < 1e-4, "tap {a} {b}");
            }
        }
        let total: f32 = kernel.weights().iter().sum();
        assert!((total - 1.0).abs() < 1e-6);
    }

    #[test]
    fn convolution_flips_kernel() {
        // A unit impulse at the centre of a 3×3 plane reproduces the kernel.
        let kernel = Kernel::new(3, (1..=9).map(|v| v as f32).collect()).unwrap();
        let mut plane = [0.0; 9];
        plane[4] = 1.0;
        let mut out = [0.0; 9];
        convolve_same(&plane, 3, 3, &kernel, &mut out);
        assert_eq!(out, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);

        // An impulse at (0, 0) gives out(r, c) = k[r + 1][c + 1]; a correlation would give
        // k[1 - r][1 - c] instead.
        let mut corner = [0.0; 9];
        corner[0] = 1.0;
        convolve_same(&corner, 3, 3, &kernel, &mut out);
        assert_eq!(out, [5.0, 6.0, 0.0, 8.0, 9.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn even_kernel_is_rejected() {
        assert!(Kernel::new(2, vec![0.25; 4]).is_err());
        assert!(Kernel::new(3, vec![0.25; 4]).is_err());
    }
}
