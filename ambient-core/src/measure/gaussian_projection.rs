//! Gaussian-Projection: inner products with `m` independent standard Gaussian vectors.

use super::{check_len, checked_image_len, checked_size, MeasureError, Measurement};
use crate::sampler::Sampler;
use crate::Shape;

/// Gaussian-Projection: `y_i = ⟨θ_i, x⟩` for `m` vectors `θ_i` of `n = C·H·W` i.i.d.
/// standard normal values, against `x` flattened in storage order.
///
/// θ is the `m × n` matrix, row by row. Order of draws: one [`Sampler::gaussian`] per
/// entry in that order, so row `i` is the `n` draws after the first `i · n`.
///
/// The measurement is the pair `(θ, ⟨θ, x⟩)`, but θ is reproducible from the seed. So `y`
/// contains only the `m` inner products, and a record carries the seed in place of θ.
///
/// [`Measurement::measure`] draws each vector on the fly, needing no `m × n` buffer, and
/// accumulates `θ_ij · x_j` in `f32` for `j = 0..n` in order. That is not bit-exact with
/// the host's matrix product, whose summation order differs: each side has an error of at
/// most `γ_n · Σ_j |θ_ij x_j|` with `γ_n = n·u / (1 - n·u)` and `u = 2^-24` (the standard
/// bound for `f32` dot products), so they agree within twice that.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianProjection {
    shape: Shape,
    len: usize,
    projections: usize,
    theta_len: usize,
}

impl GaussianProjection {
    /// Builds Gaussian-Projection with `m` projections for images of `shape`; `m` must be
    /// at least 1 and `m · C·H·W` must fit the `i32` indices the host uses.
    pub fn new(shape: Shape, m: usize) -> Result<Self, MeasureError> {
        let len = checked_image_len(shape)?;
        if m == 0 {
            return Err(MeasureError::ZeroCount { name: "m" });
        }
        let theta_len = checked_size("theta", m.checked_mul(len))?;
        Ok(Self {
            shape,
            len,
            projections: m,
            theta_len,
        })
    }

    /// Returns the number of projections `m`.
    pub fn projections(&self) -> usize {
        self.projections
    }

    /// Returns the bound `γ_n · Σ_j |θ_ij x_j|` on the rounding error of one inner
    /// product, given `Σ_j |θ_ij x_j|`, as described on the type.
    pub fn error_bound(&self, abs_sum: f64) -> f64 {
        let nu = self.len as f64 * f64::from(f32::EPSILON) / 2.0;
        nu / (1.0 - nu) * abs_sum
    }
}

impl Measurement for GaussianProjection {
    fn input_shape(&self) -> Shape {
        self.shape
    }

    fn output_len(&self) -> usize {
        self.projections
    }

    fn theta_len(&self) -> usize {
        self.theta_len
    }

    fn measure(&self, x: &[f32], seed: u64, y: &mut [f32]) -> Result<(), MeasureError> {
        check_len("x", self.len, x.len())?;
        check_len("y", self.projections, y.len())?;
        let mut sampler = Sampler::new(seed);
        for value in y.iter_mut() {
            let mut sum = 0.0;
            for &xj in x {
                sum += sampler.gaussian() * xj;
            }
            *value = sum;
        }
        Ok(())
    }

    fn theta(&self, seed: u64, theta: &mut [f32]) -> Result<(), MeasureError> {
        check_len("theta", self.theta_len, theta.len())?;
        let mut sampler = Sampler::new(seed);
        for value in theta.iter_mut() {
            *value = sampler.gaussian();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_onto_replayed_draws() {
        let op = GaussianProjection::new(Shape::new(1, 4, 4), 3).unwrap();
        let x: [f32; 16] = core::array::from_fn(|i| (i as f32 - 7.5) / 8.0);
        let mut y = [0.0; 3];
        op.measure(&x, 21, &mut y).unwrap();

        let mut s = Sampler::new(21);
        for (i, got) in y.iter().enumerate() {
            let mut exact = 0.0f64;
            let mut abs_sum = 0.0f64;
            for xj in x {
                let term = f64::from(s.gaussian()) * f64::from(xj);
                exact += term;
                abs_sum += term.abs();
            }
            let error = (f64::from(*got) - exact).abs();
            assert!(
                error <= op.error_bound(abs_sum),
                "projection {i}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn unit_vector_reads_one_column_of_theta() {
        let op = GaussianProjection::new(Shape::new(2, 2, 2), 4).unwrap();
        let mut theta = [0.0; 32];
        op.theta(5, &mut theta).unwrap();
        let mut x = [0.0; 8];
        x[3] = 1.0;
        let mut y = [0.0; 4];
        op.measure(&x, 5, &mut y).unwrap();
        for i in 0..4 {
            assert_eq!(y[i], theta[i * 8 + 3], "projection {i}");
        }
    }

    #[test]
    fn rejects_zero_projections() {
        assert_eq!(
            GaussianProjection::new(Shape::new(1, 4, 4), 0),
            Err(MeasureError::ZeroCount { name: "m" })
        );
        assert_eq!(
            GaussianProjection::new(Shape::new(1, 1024, 1024), 4096),
            Err(MeasureError::SizeOverflow { what: "theta" })
        );
    }
}
