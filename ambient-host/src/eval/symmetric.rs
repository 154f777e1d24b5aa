//! Eigendecomposition of real symmetric matrices by the cyclic Jacobi method, and the
//! square root of a positive semi-definite matrix built from it.
//!
//! Matrices are dense, row-major `n × n` slices of f64. Jacobi rotations converge for every
//! symmetric matrix and keep the eigenvectors orthonormal to rounding, which the Fréchet
//! distance needs. A sweep costs of order `n³` operations, cheap at the classifier's
//! feature width of 128.

/// Sweeps after which the iteration stops even if the off-diagonal part has not reached
/// the tolerance. The cyclic method converges quadratically in its last sweeps, so this
/// bound is only a safeguard.
const MAX_SWEEPS: usize = 100;

/// The off-diagonal part is negligible below this fraction of the matrix's squared
/// Frobenius norm.
const RELATIVE_TOLERANCE: f64 = 1e-24;

/// Eigenvalues and eigenvectors of a symmetric matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Eigen {
    /// The eigenvalues, in no particular order.
    pub values: Vec<f64>,
    /// The eigenvectors as the columns of a row-major `n × n` matrix: column `j` belongs
    /// to `values[j]`.
    pub vectors: Vec<f64>,
}

/// Returns the eigendecomposition of the symmetric `n × n` matrix `matrix`.
///
/// Only the matrix's symmetric part `(A + Aᵀ) / 2` is decomposed, so rounding asymmetry in
/// a computed product does no harm. Callers inside the crate guarantee
/// `matrix.len() == n * n`; the function panics otherwise.
pub fn symmetric_eigen(matrix: &[f64], n: usize) -> Eigen {
    assert_eq!(matrix.len(), n * n, "symmetric_eigen needs an n × n matrix");
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = 0.5 * (matrix[i * n + j] + matrix[j * n + i]);
        }
    }
    let mut v = identity(n);

    let norm2: f64 = a.iter().map(|x| x * x).sum();
    for _ in 0..MAX_SWEEPS {
        if off_diagonal_norm2(&a, n) <= RELATIVE_TOLERANCE * norm2 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut v, n, p, q);
            }
        }
    }

    Eigen {
        values: (0..n).map(|i| a[i * n + i]).collect(),
        vectors: v,
    }
}

/// Returns the square root of the symmetric positive semi-definite `n × n` matrix
/// `matrix`: the symmetric `S` with `S·S = A`. Eigenvalues that rounding made slightly
/// negative are treated as 0.
pub fn sqrt_psd(matrix: &[f64], n: usize) -> Vec<f64> {
    let Eigen { values, vectors } = symmetric_eigen(matrix, n);
    let roots: Vec<f64> = values.iter().map(|&l| l.max(0.0).sqrt()).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n)
                .map(|k| vectors[i * n + k] * roots[k] * vectors[j * n + k])
                .sum();
        }
    }
    out
}

/// Returns the product of two row-major `n × n` matrices.
pub fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..n {
                out[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    out
}

fn identity(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    (0..n).for_each(|i| m[i * n + i] = 1.0);
    m
}

fn off_diagonal_norm2(a: &[f64], n: usize) -> f64 {
    let mut sum = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                sum += a[i * n + j] * a[i * n + j];
            }
        }
    }
    sum
}

/// Applies the Jacobi rotation in the (p, q) plane that zeroes `a[p][q]`: `A ← Jᵀ A J`,
/// `V ← V J`, with `J` the identity except `J[p][p] = J[q][q] = c`, `J[p][q] = s`,
/// `J[q][p] = -s`, and `cot 2φ = (a_qq − a_pp) / (2 a_pq)`.
fn rotate(a: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = a[p * n + q];
    if apq == 0.0 {
        return;
    }
    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    // The smaller root of t² + 2θt − 1 = 0, written to avoid cancellation; for huge θ,
    // θ² would overflow and t ≈ 1 / (2θ).
    let t = if theta.abs() > 1e150 {
        0.5 / theta
    } else {
        theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
    };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;

    for k in 0..n {
        let (akp, akq) = (a[k * n + p], a[k * n + q]);
        a[k * n + p] = c * akp - s * akq;
        a[k * n + q] = s * akp + c * akq;
    }
    for k in 0..n {
        let (apk, aqk) = (a[p * n + k], a[q * n + k]);
        a[p * n + k] = c * apk - s * aqk;
        a[q * n + k] = s * apk + c * aqk;
    }
    for k in 0..n {
        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * vkp - s * vkq;
        v[k * n + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64], tolerance: f64) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn eigen_of_2x2_by_hand() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let e = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        let mut values = e.values.clone();
        values.sort_by(f64::total_cmp);
        assert!(close(&values, &[1.0, 3.0], 1e-12), "{values:?}");
    }

    #[test]
    fn eigen_reconstructs_matrix() {
        // A fixed symmetric 4 × 4 matrix with mixed-sign eigenvalues.
        let a = [
            4.0, 1.0, -2.0, 0.5, //
            1.0, 3.0, 0.0, -1.0, //
            -2.0, 0.0, -1.0, 2.0, //
            0.5, -1.0, 2.0, 0.0,
        ];
        let n = 4;
        let e = symmetric_eigen(&a, n);
        let mut rebuilt = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                rebuilt[i * n + j] = (0..n)
                    .map(|k| e.vectors[i * n + k] * e.values[k] * e.vectors[j * n + k])
                    .sum();
            }
        }
        assert!(close(&rebuilt, &a, 1e-10), "{rebuilt:?}");
        let vtv = matmul(&transpose(&e.vectors, n), &e.vectors, n);
        assert!(close(&vtv, &identity(n), 1e-12));
        let trace: f64 = e.values.iter().sum();
        assert!((trace - 6.0).abs() < 1e-12);
    }

    #[test]
    fn sqrt_squares_back() {
        let a = [
            5.0, 2.0, 0.0, //
            2.0, 4.0, 1.0, //
            0.0, 1.0, 3.0,
        ];
        let s = sqrt_psd(&a, 3);
        assert!(close(&matmul(&s, &s, 3), &a, 1e-10));
        assert!(close(&s, &transpose(&s, 3), 1e-12));
    }

    #[test]
    fn sqrt_of_diagonal() {
        let s = sqrt_psd(&[9.0, 0.0, 0.0, 0.25], 2);
        assert!(close(&s, &[3.0, 0.0, 0.0, 0.5], 1e-14));
    }

    fn transpose(a: &[f64], n: usize) -> Vec<f64> {
        let mut t = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                t[j * n + i] = a[i * n + j];
            }
        }
        t
    }
}
