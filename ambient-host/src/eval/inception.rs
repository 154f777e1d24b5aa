//! The inception score of a sample set under a classifier: `exp(E_x KL(p(y|x) ‖ p(y)))`,
//! where `p(y)` is the mean of `p(y|x)` over the set.
//!
//! It is 1 when every sample gets the same class distribution and at most the number of
//! classes, reached when each sample is classified with certainty and the classes are
//! equally frequent. The score depends on the set size (small sets score lower on diverse
//! generators), so the size is reported with it. Scores over splits follow the improved-GAN
//! protocol: the set is cut into contiguous, nearly equal parts (part `i` contains rows
//! `i·N/s .. (i+1)·N/s`), each part is scored alone, and the mean and the population
//! standard deviation of the part scores are reported.

use serde::{Deserialize, Serialize};

use super::MathError;

/// Inception scores over splits of one sample set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitScores {
    /// Mean of the split scores.
    pub mean: f64,
    /// Population standard deviation of the split scores.
    pub std: f64,
    /// The score of each split, in order.
    pub splits: Vec<f64>,
}

/// Returns the inception score of the rows of `probs`, a row-major matrix of class
/// probabilities with `classes` columns (each row one sample's `p(y|x)`).
///
/// Rows need not sum to exactly 1, because softmax output in f32 is close enough. Every
/// value must be finite and non-negative. A zero probability adds nothing to the KL sum.
pub fn inception_score(probs: &[f64], classes: usize) -> Result<f64, MathError> {
    let rows = row_count(probs, classes, "probabilities")?;
    if rows == 0 {
        return Err(MathError::TooFewRows {
            what: "probabilities",
            rows,
            needed: 1,
        });
    }
    if let Some(&value) = probs.iter().find(|v| !v.is_finite() || **v < 0.0) {
        return Err(MathError::BadValue {
            what: "probabilities",
            value,
        });
    }

    let mut marginal = vec![0.0f64; classes];
    for row in probs.chunks_exact(classes) {
        for (m, &p) in marginal.iter_mut().zip(row) {
            *m += p;
        }
    }
    marginal.iter_mut().for_each(|m| *m /= rows as f64);

    let mut kl_sum = 0.0;
    for row in probs.chunks_exact(classes) {
        // Where p(y|x) > 0 the marginal is > 0 too, so the logarithms are finite.
        kl_sum += row
            .iter()
            .zip(&marginal)
            .filter(|(&p, _)| p > 0.0)
            .map(|(&p, &m)| p * (p.ln() - m.ln()))
            .sum::<f64>();
    }
    Ok((kl_sum / rows as f64).exp())
}

/// Returns the inception scores of `splits` contiguous parts of the rows of `probs`.
///
/// Fails when there are fewer rows than splits or `splits` is 0.
pub fn split_inception_scores(
    probs: &[f64],
    classes: usize,
    splits: usize,
) -> Result<SplitScores, MathError> {
    let rows = row_count(probs, classes, "probabilities")?;
    if splits == 0 || rows < splits {
        return Err(MathError::TooFewRows {
            what: "probabilities",
            rows,
            needed: splits.max(1),
        });
    }

    let mut scores = Vec::with_capacity(splits);
    for i in 0..splits {
        let (start, end) = (i * rows / splits, (i + 1) * rows / splits);
        let part = &probs[start * classes..end * classes];
        scores.push(inception_score(part, classes)?);
    }
    let mean = scores.iter().sum::<f64>() / splits as f64;
    let variance = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / splits as f64;
    Ok(SplitScores {
        mean,
        std: variance.sqrt(),
        splits: scores,
    })
}

/// Returns the number of rows of a row-major buffer with `width` columns.
pub(super) fn row_count(
    values: &[f64],
    width: usize,
    what: &'static str,
) -> Result<usize, MathError> {
    if width == 0 || values.len() % width != 0 {
        return Err(MathError::Ragged {
            what,
            len: values.len(),
            width,
        });
    }
    Ok(values.len() / width)
}
