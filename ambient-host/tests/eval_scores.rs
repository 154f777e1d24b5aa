//! The inception score, the Fréchet distance and the class histogram against cases worked
//! out by hand and against closed forms.

use ambient_core::sampler::Sampler;
use ambient_host::eval::{
    class_histogram, frechet_distance, frechet_distance_of_features, inception_score,
    split_inception_scores, Gaussian, MathError,
};

const CLASSES: usize = 10;

/// One-hot rows cycling through the 10 classes: row `i` is certain of class `i mod 10`.
fn certain_uniform(rows: usize) -> Vec<f64> {
    let mut probs = vec![0.0; rows * CLASSES];
    for i in 0..rows {
        probs[i * CLASSES + i % CLASSES] = 1.0;
    }
    probs
}

#[test]
fn certain_uniform_classifier_scores_ten() {
    let probs = certain_uniform(1000);
    let score = inception_score(&probs, CLASSES).unwrap();
    assert!((score - 10.0).abs() < 1e-12, "{score}");

    // Each of the 10 splits of 100 rows contains every class 10 times, so each scores 10.
    let splits = split_inception_scores(&probs, CLASSES, 10).unwrap();
    assert_eq!(splits.splits.len(), 10);
    assert!(splits.splits.iter().all(|s| (s - 10.0).abs() < 1e-12));
    assert!((splits.mean - 10.0).abs() < 1e-12);
    assert!(splits.std < 1e-12);
}

#[test]
fn single_class_classifier_scores_one() {
    // Certain of class 3 for every sample.
    let mut probs = vec![0.0; 500 * CLASSES];
    (0..500).for_each(|i| probs[i * CLASSES + 3] = 1.0);
    assert!((inception_score(&probs, CLASSES).unwrap() - 1.0).abs() < 1e-12);

    // The same uncertain distribution for every sample also scores 1: p(y|x) = p(y).
    let row = [0.05, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
    let same: Vec<f64> = (0..200).flat_map(|_| row).collect();
    assert!((inception_score(&same, CLASSES).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn three_class_case_by_hand() {
    // Each sample puts 0.8 on its own class and 0.1 on the others; p(y) is uniform, so
    // KL = 0.8 ln(0.8 / (1/3)) + 2 · 0.1 ln(0.1 / (1/3)) = 0.8 ln 2.4 + 0.2 ln 0.3 and
    // IS = exp(KL) = 1.583409492927473 (Python: math.exp(0.8*log(2.4)+0.2*log(0.3))).
    let probs = [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8];
    let expected = (0.8 * 2.4f64.ln() + 0.2 * 0.3f64.ln()).exp();
    let score = inception_score(&probs, 3).unwrap();
    assert!((score - expected).abs() < 1e-12, "{score}");
    assert!((score - 1.583_409_492_927_473).abs() < 1e-12);
}

#[test]
fn three_class_case_with_zeros() {
    // Rows [1,0,0], [0,1,0], [½,½,0]: p(y) = [½,½,0]; the KLs are ln 2, ln 2 and 0, so
    // IS = exp(⅔ ln 2) = 2^(2/3).
    let probs = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.0];
    let score = inception_score(&probs, 3).unwrap();
    assert!((score - 2f64.powf(2.0 / 3.0)).abs() < 1e-12, "{score}");
}

#[test]
fn splits_are_contiguous_parts() {
    // First half certain of class 0, second half cycling over 10 classes: with 2 splits
    // the first scores 1 and the second 10, so the mean is 5.5 and the std 4.5.
    let mut probs = vec![0.0; 200 * CLASSES];
    for i in 0..100 {
        probs[i * CLASSES] = 1.0;
    }
    probs[100 * CLASSES..].copy_from_slice(&certain_uniform(100));
    let splits = split_inception_scores(&probs, CLASSES, 2).unwrap();
    assert!((splits.splits[0] - 1.0).abs() < 1e-12);
    assert!((splits.splits[1] - 10.0).abs() < 1e-12);
    assert!((splits.mean - 5.5).abs() < 1e-12);
    assert!((splits.std - 4.5).abs() < 1e-12);
}

#[test]
fn inception_rejects_bad_input() {
    assert!(matches!(
        inception_score(&[0.5; 7], 3),
        Err(MathError::Ragged { .. })
    ));
    assert!(matches!(
        inception_score(&[], 3),
        Err(MathError::TooFewRows { .. })
    ));
    assert!(matches!(
        inception_score(&[1.0, -0.5, 0.5], 3),
        Err(MathError::BadValue { .. })
    ));
    assert!(matches!(
        inception_score(&[1.0, f64::NAN, 0.0], 3),
        Err(MathError::BadValue { .. })
    ));
    assert!(matches!(
        split_inception_scores(&certain_uniform(5), CLASSES, 10),
        Err(MathError::TooFewRows { .. })
    ));
    assert!(split_inception_scores(&certain_uniform(5), CLASSES, 0).is_err());
}

#[test]
fn histogram_counts_most_probable_class() {
    let probs = [
        0.7, 0.2, 0.1, //
        0.1, 0.1, 0.8, //
        0.2, 0.5, 0.3, //
        0.4, 0.4, 0.2, // a tie goes to the lower class
    ];
    assert_eq!(class_histogram(&probs, 3).unwrap(), vec![2, 1, 1]);
    let counts = class_histogram(&certain_uniform(1000), CLASSES).unwrap();
    assert_eq!(counts, vec![100; 10]);
}

/// Draws `rows` samples of N(mean, diag(std²)) with the core's sampler.
fn gaussian_features(rows: usize, mean: &[f64], std: &[f64], seed: u64) -> Vec<f64> {
    let mut sampler = Sampler::new(seed);
    let mut out = Vec::with_capacity(rows * mean.len());
    for _ in 0..rows {
        for (m, s) in mean.iter().zip(std) {
            out.push(m + s * f64::from(sampler.gaussian()));
        }
    }
    out
}

#[test]
fn frechet_of_identical_sets_is_zero() {
    let features = gaussian_features(500, &[0.0, 1.0, -2.0, 0.5], &[1.0, 0.5, 2.0, 1.0], 7);
    let distance = frechet_distance_of_features(&features, &features, 4).unwrap();
    assert!(distance.abs() < 1e-9, "{distance}");
}

#[test]
fn frechet_closed_form_non_commuting_2x2() {
    // Σ₁ = [[2,1],[1,2]], Σ₂ = diag(1, 3) do not commute. For 2 × 2 matrices,
    // tr √(Σ₁Σ₂) = √(tr(Σ₁Σ₂) + 2√(det Σ₁ det Σ₂)) = √(8 + 2·3) = √14, so with
    // μ₂ − μ₁ = (1, 2): FID = 5 + (4 + 4) − 2√14.
    let a = Gaussian {
        mean: vec![0.0, 0.0],
        covariance: vec![2.0, 1.0, 1.0, 2.0],
    };
    let b = Gaussian {
        mean: vec![1.0, 2.0],
        covariance: vec![1.0, 0.0, 0.0, 3.0],
    };
    let expected = 13.0 - 2.0 * 14f64.sqrt();
    let forward = frechet_distance(&a, &b).unwrap();
    let backward = frechet_distance(&b, &a).unwrap();
    assert!((forward - expected).abs() < 1e-10, "{forward}");
    assert!((backward - expected).abs() < 1e-10, "{backward}");
}

#[test]
fn frechet_closed_form_rotated_diagonals() {
    // Σ₁ = Q diag(1, 4, 9) Qᵀ and Σ₂ = Q diag(4, 1, 16) Qᵀ with Q a rotation commute, so
    // FID = ‖Δμ‖² + Σ (√a − √b)² = 3 + (1 + 1 + 1) = 6.
    let (c, s) = (0.6, 0.8);
    let q = [c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0];
    let rotate = |d: [f64; 3]| {
        let mut m = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                m[i * 3 + j] = (0..3).map(|k| q[i * 3 + k] * d[k] * q[j * 3 + k]).sum();
            }
        }
        m
    };
    let a = Gaussian {
        mean: vec![1.0, 1.0, 1.0],
        covariance: rotate([1.0, 4.0, 9.0]),
    };
    let b = Gaussian {
        mean: vec![0.0, 2.0, 0.0],
        covariance: rotate([4.0, 1.0, 16.0]),
    };
    let distance = frechet_distance(&a, &b).unwrap();
    assert!((distance - 6.0).abs() < 1e-10, "{distance}");
}

#[test]
fn frechet_of_sampled_shifted_gaussians() {
    // N(0, I) against N(d, diag(4)) in 4 dimensions: the closed form is
    // ‖d‖² + Σ (1 − 2)² = 1.25 + 4 = 5.25. 20,000 samples each estimate it to about 1 %.
    let d = [0.5, -1.0, 0.0, 0.0];
    let a = gaussian_features(20_000, &[0.0; 4], &[1.0; 4], 1);
    let b = gaussian_features(20_000, &d, &[2.0; 4], 2);
    let distance = frechet_distance_of_features(&a, &b, 4).unwrap();
    assert!((distance - 5.25).abs() < 0.1, "{distance}");
}

#[test]
fn frechet_rejects_bad_input() {
    assert!(matches!(
        frechet_distance_of_features(&[1.0, 2.0], &[1.0, 2.0], 2),
        Err(MathError::TooFewRows { .. })
    ));
    assert!(matches!(
        frechet_distance_of_features(&[1.0, 2.0, 3.0], &[1.0, 2.0], 2),
        Err(MathError::Ragged { .. })
    ));
    assert!(matches!(
        frechet_distance_of_features(&[1.0, f64::INFINITY, 0.0, 1.0], &[0.0; 4], 2),
        Err(MathError::BadValue { .. })
    ));
    let a = Gaussian::fit(&[0.0, 1.0, 1.0, 0.0], 2).unwrap();
    let b = Gaussian::fit(&[0.0, 1.0, 2.0, 1.0, 0.0, 2.0], 3).unwrap();
    assert!(matches!(
        frechet_distance(&a, &b),
        Err(MathError::WidthMismatch { left: 2, right: 3 })
    ));
}

#[test]
fn gaussian_fit_by_hand() {
    // Rows (0, 0), (2, 0), (1, 3): mean (1, 1); unbiased covariance
    // [[1, 0], [0, 3]] (Σ(x−1)² = 2, Σ(y−1)² = 6, Σ(x−1)(y−1) = 0, over N − 1 = 2).
    let g = Gaussian::fit(&[0.0, 0.0, 2.0, 0.0, 1.0, 3.0], 2).unwrap();
    assert_eq!(g.mean, vec![1.0, 1.0]);
    assert_eq!(g.covariance, vec![1.0, 0.0, 0.0, 3.0]);
}
