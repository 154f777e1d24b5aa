//! Convolve+Noise: Gaussian blur with zero padding, then additive Gaussian noise.

use super::{check_len, checked_image_len, MeasureError, Measurement};
use crate::sampler::Sampler;
use crate::Shape;

/// The largest blur kernel size Convolve+Noise accepts. The weights live in the operator
/// (no heap), so their number is bounded. The AmbientGAN experiments use size 5.
pub const MAX_KERNEL_SIZE: usize = 63;

/// The number of distinct 1-D weights of the largest kernel (offsets 0 to its radius).
const MAX_HALF_KERNEL: usize = MAX_KERNEL_SIZE / 2 + 1;

/// Convolve+Noise: `y = k ∗ x + θ`.
///
/// The kernel `k` is a normalised 2-D Gaussian of odd `size` and standard deviation `σ`
/// pixels, sampled on the integer grid `-r..=r` with `r = (size - 1) / 2`. It is the outer
/// product of the 1-D weights `w[d] = expf(-(d/σ)²/2) / Σ expf(-(e/σ)²/2)` (computed in
/// `f32` with `libm`, the sum in order `e = -r..=r`), which equals the reference code's
/// 2-D Gaussian normalised by its own sum. For size 5 and σ = 1 the weights are
/// `[0.0545, 0.2442, 0.4026, 0.2442, 0.0545]`. The kernel is symmetric, so convolution and
/// correlation coincide. It is applied to each channel separately with zero padding and a
/// same-size output (TensorFlow's `SAME`).
///
/// θ is the noise field, one value per image value: `std · g` with `g` a standard normal
/// draw. Order of draws: one [`Sampler::gaussian`] per value in storage order (channel,
/// row, column). With `std = 0` no draws are made and θ is all zeros.
///
/// The host applies the same blur from [`ConvolveNoise::kernel_2d`], the weights that
/// [`Measurement::measure`] multiplies by. The two agree to `f32` rounding, not to the
/// bit, because their sums may run in different orders. `measure` accumulates in `f32`,
/// kernel row by kernel row and left to right within a row, skipping taps outside the
/// image. It then adds the noise value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvolveNoise {
    shape: Shape,
    len: usize,
    size: usize,
    sigma: f32,
    noise_std: f32,
    /// The 1-D weights of offsets `0..=r` (the kernel is symmetric); the tail is zero.
    half_weights: [f32; MAX_HALF_KERNEL],
}

impl ConvolveNoise {
    /// Builds Convolve+Noise for images of `shape`.
    ///
    /// `size` must be odd and in `1..=MAX_KERNEL_SIZE`, `sigma` finite and above 0, and
    /// `noise_std` finite and at least 0.
    pub fn new(
        shape: Shape,
        size: usize,
        sigma: f32,
        noise_std: f32,
    ) -> Result<Self, MeasureError> {
        let len = checked_image_len(shape)?;
        if size % 2 == 0 || size > MAX_KERNEL_SIZE {
            return Err(MeasureError::InvalidKernelSize { size });
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(MeasureError::NotPositive {
                name: "sigma",
                value: sigma,
            });
        }
        if !(noise_std.is_finite() && noise_std >= 0.0) {
            return Err(MeasureError::InvalidReal {
                name: "noise",
                value: noise_std,
            });
        }
        Ok(Self {
            shape,
            len,
            size,
            sigma,
            noise_std,
            half_weights: gaussian_weights(size, sigma),
        })
    }

    /// Returns the kernel size.
    pub fn kernel_size(&self) -> usize {
        self.size
    }

    /// Returns the blur standard deviation in pixels.
    pub fn sigma(&self) -> f32 {
        self.sigma
    }

    /// Returns the standard deviation of the additive noise.
    pub fn noise_std(&self) -> f32 {
        self.noise_std
    }

    /// Writes the normalised 1-D weights (`size` values, offset `-r` first).
    pub fn kernel_1d(&self, out: &mut [f32]) -> Result<(), MeasureError> {
        check_len("kernel", self.size, out.len())?;
        for (i, w) in out.iter_mut().enumerate() {
            *w = self.weight(i);
        }
        Ok(())
    }

    /// Writes the 2-D kernel, `size × size` values row by row, entry `(a, b)` being
    /// `w[a] * w[b]`: exactly the factors [`Measurement::measure`] multiplies by.
    pub fn kernel_2d(&self, out: &mut [f32]) -> Result<(), MeasureError> {
        check_len("kernel", self.size * self.size, out.len())?;
        for (row, out_row) in out.chunks_exact_mut(self.size).enumerate() {
            for (col, value) in out_row.iter_mut().enumerate() {
                *value = self.weight(row) * self.weight(col);
            }
        }
        Ok(())
    }

    /// Returns the 1-D weight of kernel tap `tap` (offset `tap - r`).
    fn weight(&self, tap: usize) -> f32 {
        self.half_weights[tap.abs_diff(self.size / 2)]
    }

    /// Returns the blurred value at `(row, col)` of one channel `plane`.
    fn blur_at(&self, plane: &[f32], row: usize, col: usize) -> f32 {
        let Shape { height, width, .. } = self.shape;
        let radius = self.size / 2;
        let mut sum = 0.0;
        for a in 0..self.size {
            // The source row is row + a - radius; taps above or below the image are zero.
            let Some(source_row) = (row + a).checked_sub(radius).filter(|&r| r < height) else {
                continue;
            };
            for b in 0..self.size {
                let Some(source_col) = (col + b).checked_sub(radius).filter(|&c| c < width) else {
                    continue;
                };
                let weight = self.weight(a) * self.weight(b);
                sum += weight * plane[source_row * width + source_col];
            }
        }
        sum
    }

    /// Writes the blurred values of output row `row` of one channel `plane` into `out`
    /// (`width` values), each the same bits as [`Self::blur_at`]. Interior columns, whose
    /// taps all lie inside the image, run [`LANES`] at a time, and each lane adds its taps
    /// in `blur_at`'s order. The lanes' additions overlap, where one pixel alone is a
    /// chain of `size²` dependent additions.
    fn blur_row(&self, plane: &[f32], row: usize, out: &mut [f32]) {
        let Shape { height, width, .. } = self.shape;
        let radius = self.size / 2;
        let interior = radius..width.saturating_sub(radius).max(radius);
        let lanes_end = interior.start + (interior.len() / LANES) * LANES;
        for (col, value) in out.iter_mut().enumerate() {
            if col < interior.start || col >= lanes_end {
                *value = self.blur_at(plane, row, col);
            }
        }
        for start in (interior.start..lanes_end).step_by(LANES) {
            let mut sum = [0.0f32; LANES];
            for a in 0..self.size {
                let Some(source_row) = (row + a).checked_sub(radius).filter(|&r| r < height) else {
                    continue;
                };
                let line = &plane[source_row * width..(source_row + 1) * width];
                for b in 0..self.size {
                    let weight = self.weight(a) * self.weight(b);
                    let taps = &line[start + b - radius..start + b - radius + LANES];
                    for (s, &x) in sum.iter_mut().zip(taps) {
                        *s += weight * x;
                    }
                }
            }
            out[start..start + LANES].copy_from_slice(&sum);
        }
    }

    fn draw_noise(&self, sampler: &mut Sampler) -> f32 {
        if self.noise_std == 0.0 {
            0.0
        } else {
            self.noise_std * sampler.gaussian()
        }
    }
}

/// Columns [`ConvolveNoise::blur_row`] blurs at a time.
const LANES: usize = 8;

/// Computes the normalised 1-D Gaussian weights of offsets `0..=r` for an odd `size` up
/// to [`MAX_KERNEL_SIZE`]; the unused tail stays zero.
fn gaussian_weights(size: usize, sigma: f32) -> [f32; MAX_HALF_KERNEL] {
    let radius = size / 2;
    // Dividing by σ before squaring keeps a tiny σ from making 0/0 at offset 0.
    let unnormalised = |offset: usize| {
        let z = offset as f32 / sigma;
        libm::expf(-0.5 * z * z)
    };

    // The normalising sum runs over the whole kernel, offset -r first.
    let mut total = 0.0;
    for tap in 0..size {
        total += unnormalised(tap.abs_diff(radius));
    }

    let mut weights = [0.0; MAX_HALF_KERNEL];
    for (offset, w) in weights[..=radius].iter_mut().enumerate() {
        *w = unnormalised(offset) / total;
    }
    weights
}

impl Measurement for ConvolveNoise {
    fn input_shape(&self) -> Shape {
        self.shape
    }

    fn output_len(&self) -> usize {
        self.len
    }

    fn theta_len(&self) -> usize {
        self.len
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("y", self.len, y.len())?;
        let Shape { height, width, .. } = self.shape;
        let plane = height * width;
        let mut sampler = Sampler::new(seed);

        for (xc, yc) in x.chunks_exact(plane).zip(y.chunks_exact_mut(plane)) {
            for (row, out_row) in yc.chunks_exact_mut(width).enumerate() {
                self.blur_row(xc, row, out_row);
                for value in out_row.iter_mut() {
                    *value += self.draw_noise(&mut sampler);
                }
            }
        }
        Ok(())
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        check_len("theta", self.len, theta.len())?;
        let mut sampler = Sampler::new(seed);
        for value in theta.iter_mut() {
            *value = self.draw_noise(&mut sampler);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_rows_match_blur_at_bits() {
        // Widths below, at and above one chunk of lanes plus the kernel's border.
        for (size, width) in [(5, 30), (5, 4), (7, 13), (1, 9), (3, 11)] {
            let shape = Shape::new(2, 6, width);
            let op = ConvolveNoise::new(shape, size, 1.3, 0.0).unwrap();
            let n = 2 * 6 * width;
            let x: std::vec::Vec<f32> = (0..n)
                .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let mut y = std::vec![f32::NAN; n];
            op.measure(&x, 1, &mut y).unwrap();
            let plane = 6 * width;
            for (c, (xc, yc)) in x.chunks(plane).zip(y.chunks(plane)).enumerate() {
                for (i, got) in yc.iter().enumerate() {
                    let want = op.blur_at(xc, i / width, i % width);
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "size {size} width {width} c {c} i {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn weights_match_reference_for_size_5() {
        let op = ConvolveNoise::new(Shape::new(1, 4, 4), 5, 1.0, 0.0).unwrap();
        let mut w = [0.0; 5];
        op.kernel_1d(&mut w).unwrap();

        // By hand: e^0 = 1, e^-0.5 = 0.6065307, e^-2 = 0.1353353, total 2.4837320.
        let expected = [0.0544887, 0.2442013, 0.40262, 0.2442013, 0.0544887];
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{w:?}");
        }
        assert_eq!(w[0], w[4]);
        assert_eq!(w[1], w[3]);
    }

    #[test]
    fn extreme_sigma_gives_finite_kernel() {
        let shape = Shape::new(1, 4, 4);
        let mut w = [0.0; 5];
        ConvolveNoise::new(shape, 5, 1e-30, 0.0)
            .unwrap()
            .kernel_1d(&mut w)
            .unwrap();
        assert_eq!(w, [0.0, 0.0, 1.0, 0.0, 0.0]);
        ConvolveNoise::new(shape, 5, 1e30, 0.0)
            .unwrap()
            .kernel_1d(&mut w)
            .unwrap();
        assert_eq!(w, [0.2; 5]);
    }

    #[test]
    fn size_1_kernel_is_identity() {
        let op = ConvolveNoise::new(Shape::new(2, 4, 4), 1, 0.7, 0.0).unwrap();
        let x: [f32; 32] = core::array::from_fn(|i| i as f32 - 3.5);
        let mut y = [0.0; 32];
        op.measure(&x, 0, &mut y).unwrap();
        assert_eq!(y, x);
    }

    #[test]
    fn blurs_4x4_by_hand() {
        // Size 3, σ = 1: w = [e^-0.5, 1, e^-0.5] / (1 + 2e^-0.5) = [a, b, a].
        let op = ConvolveNoise::new(Shape::new(1, 4, 4), 3, 1.0, 0.0).unwrap();
        let e = (-0.5f64).exp();
        let a = e / (1.0 + 2.0 * e);
        let b = 1.0 / (1.0 + 2.0 * e);

        // A ones image: each output is (sum of w over in-image rows) × (same over columns);
        // a corner has taps of weight a + b in rows and in columns, an edge a + b by 1, and
        // the inside 1 by 1.
        let x = [1.0; 16];
        let mut y = [0.0; 16];
        op.measure(&x, 0, &mut y).unwrap();
        let corner = (a + b) * (a + b);
        let edge = a + b;
        #[rustfmt::skip]
        let expected = [
            corner, edge, edge, corner,
            edge, 1.0, 1.0, edge,
            edge, 1.0, 1.0, edge,
            corner, edge, edge, corner,
        ];
        for (i, (got, want)) in y.iter().zip(expected).enumerate() {
            assert!(
                (f64::from(*got) - want).abs() < 1e-6,
                "value {i}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn impulse_spreads_as_kernel() {
        let op = ConvolveNoise::new(Shape::new(1, 5, 5), 3, 0.8, 0.0).unwrap();
        let mut x = [0.0; 25];
        x[12] = 2.0;
        let mut y = [0.0; 25];
        op.measure(&x, 0, &mut y).unwrap();
        let mut k = [0.0; 9];
        op.kernel_2d(&mut k).unwrap();
        for r in 0..5 {
            for c in 0..5 {
                let expected = if (1..4).contains(&r) && (1..4).contains(&c) {
                    2.0 * k[(r - 1) * 3 + c - 1]
                } else {
                    0.0
                };
                assert_eq!(y[r * 5 + c], expected, "row {r} column {c}");
            }
        }
    }

    #[test]
    fn noise_is_std_times_gaussian_draws() {
        let op = ConvolveNoise::new(Shape::new(1, 4, 4), 3, 1.0, 0.25).unwrap();
        let mut theta = [0.0; 16];
        op.theta(12, &mut theta).unwrap();
        let mut s = Sampler::new(12);
        for (i, t) in theta.iter().enumerate() {
            assert_eq!(*t, 0.25 * s.gaussian(), "value {i}");
        }
    }

    #[test]
    fn zero_noise_gives_zero_theta() {
        let op = ConvolveNoise::new(Shape::new(1, 4, 4), 3, 1.0, 0.0).unwrap();
        let mut theta = [1.0; 16];
        op.theta(12, &mut theta).unwrap();
        assert_eq!(theta, [0.0; 16]);
    }

    #[test]
    fn rejects_invalid_parameters() {
        let shape = Shape::new(1, 4, 4);
        for size in [0, 2, 4, MAX_KERNEL_SIZE + 2] {
            assert_eq!(
                ConvolveNoise::new(shape, size, 1.0, 0.1),
                Err(MeasureError::InvalidKernelSize { size })
            );
        }
        assert!(ConvolveNoise::new(shape, MAX_KERNEL_SIZE, 1.0, 0.1).is_ok());
        for sigma in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                ConvolveNoise::new(shape, 5, sigma, 0.1),
                Err(MeasureError::NotPositive { name: "sigma", .. })
            ));
        }
        for std in [-0.1, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                ConvolveNoise::new(shape, 5, 1.0, std),
                Err(MeasureError::InvalidReal { name: "noise", .. })
            ));
        }
    }

    #[test]
    fn rejects_wrong_kernel_length() {
        let op = ConvolveNoise::new(Shape::new(1, 4, 4), 5, 1.0, 0.1).unwrap();
        assert_eq!(
            op.kernel_2d(&mut [0.0; 5]),
            Err(MeasureError::LengthMismatch {
                what: "kernel",
                expected: 25,
                actual: 5
            })
        );
        assert!(op.kernel_1d(&mut [0.0; 25]).is_err());
    }
}
