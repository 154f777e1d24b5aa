//! The Fréchet distance between two feature sets, each summarised as a Gaussian:
//! `‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2})`.
//!
//! With the Inception network's features this is the FID; here the features are the
//! penultimate activations of the MNIST classifier. `(Σ₁ Σ₂)^{1/2}` is not symmetric, but
//! its trace equals that of the symmetric `(S Σ₂ S)^{1/2}` with `S = Σ₁^{1/2}` (the two
//! products are similar matrices), so both square roots come from the Jacobi
//! eigendecomposition of symmetric matrices. Covariances use the unbiased estimator
//! (divide by `N − 1`).

use serde::{Deserialize, Serialize};

use super::inception::row_count;
use super::symmetric::{matmul, sqrt_psd, symmetric_eigen};
use super::MathError;

/// The mean and covariance of a feature set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gaussian {
    /// The mean, `d` values.
    pub mean: Vec<f64>,
    /// The covariance, row-major `d × d`.
    pub covariance: Vec<f64>,
}

impl Gaussian {
    /// Returns the feature width `d`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Returns the mean and unbiased covariance of the rows of `features`, a row-major
    /// matrix with `dim` columns and at least two rows, every value finite.
    pub fn fit(features: &[f64], dim: usize) -> Result<Self, MathError> {
        let rows = row_count(features, dim, "features")?;
        if rows < 2 {
            return Err(MathError::TooFewRows {
                what: "features",
                rows,
                needed: 2,
            });
        }
        if let Some(&value) = features.iter().find(|v| !v.is_finite()) {
            return Err(MathError::BadValue {
                what: "features",
                value,
            });
        }

        let mut mean = vec![0.0; dim];
        for row in features.chunks_exact(dim) {
            mean.iter_mut().zip(row).for_each(|(m, &x)| *m += x);
        }
        mean.iter_mut().for_each(|m| *m /= rows as f64);

        let mut covariance = vec![0.0; dim * dim];
        let mut centred = vec![0.0; dim];
        for row in features.chunks_exact(dim) {
            centred
                .iter_mut()
                .zip(row.iter().zip(&mean))
                .for_each(|(c, (&x, &m))| *c = x - m);
            for i in 0..dim {
                for j in i..dim {
                    covariance[i * dim + j] += centred[i] * centred[j];
                }
            }
        }
        let denominator = (rows - 1) as f64;
        for i in 0..dim {
            for j in i..dim {
                let value = covariance[i * dim + j] / denominator;
                covariance[i * dim + j] = value;
                covariance[j * dim + i] = value;
            }
        }
        Ok(Self { mean, covariance })
    }
}

/// Returns the Fréchet distance between two Gaussians of the same width.
///
/// Both covariances must be symmetric positive semi-definite, as [`Gaussian::fit`] makes
/// them; eigenvalues that rounding made slightly negative count as 0.
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> Result<f64, MathError> {
    let n = a.dim();
    if b.dim() != n {
        return Err(MathError::WidthMismatch {
            left: n,
            right: b.dim(),
        });
    }
    for g in [a, b] {
        if g.covariance.len() != n * n {
            return Err(MathError::Ragged {
                what: "covariance",
                len: g.covariance.len(),
                width: n,
            });
        }
    }

    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y).powi(2))
        .sum();
    let trace = |m: &[f64]| (0..n).map(|i| m[i * n + i]).sum::<f64>();

    let root_a = sqrt_psd(&a.covariance, n);
    let inner = matmul(&matmul(&root_a, &b.covariance, n), &root_a, n);
    let trace_root: f64 = symmetric_eigen(&inner, n)
        .values
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();
    let distance = mean_term + trace(&a.covariance) + trace(&b.covariance) - 2.0 * trace_root;
    // Rounding can push the distance of (nearly) identical sets a hair below zero.
    Ok(distance.max(0.0))
}

/// Returns the Fréchet distance between the Gaussians fitted to two feature sets, each a
/// row-major matrix with `dim` columns.
pub fn frechet_distance_of_features(a: &[f64], b: &[f64], dim: usize) -> Result<f64, MathError> {
    frechet_distance(&Gaussian::fit(a, dim)?, &Gaussian::fit(b, dim)?)
}
