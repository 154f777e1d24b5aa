//! The class histogram of a sample set: how many samples the classifier assigns to each
//! class (the most probable class of each row).

use super::inception::row_count;
use super::MathError;

/// Returns, for each of `classes` classes, the number of rows of `probs` whose largest
/// probability is that class's (ties go to the lower class index).
pub fn class_histogram(probs: &[f64], classes: usize) -> Result<Vec<u64>, MathError> {
    row_count(probs, classes, "probabilities")?;
    let mut counts = vec![0u64; classes];
    for row in probs.chunks_exact(classes) {
        let mut best = 0;
        for (class, &p) in row.iter().enumerate() {
            if p > row[best] {
                best = class;
            }
        }
        counts[best] += 1;
    }
    Ok(counts)
}
