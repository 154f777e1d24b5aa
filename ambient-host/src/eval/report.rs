//! Scoring a sample set: the inception score over splits, the Fréchet distance of the
//! classifier's features against real test images, and the class histogram.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::classifier::Classifier;
use super::cnn::CLASSES;
use super::frechet::{frechet_distance, Gaussian};
use super::histogram::class_histogram;
use super::inception::{inception_score, split_inception_scores, SplitScores};
use super::samples::{InputKind, SampleSet};
use super::EvalError;
use crate::data::mnist::{load_split, Split};

/// Samples in one set under the reference code's MNIST protocol: it scored a single fixed
/// batch of 64 generated images.
pub const PAPER_PROTOCOL_SAMPLES: usize = 64;

/// The real images generated samples are compared with: the classifier's features of a
/// test split, summarised as a Gaussian.
#[derive(Debug)]
pub struct RealReference {
    /// The data folder.
    pub data: PathBuf,
    /// Test images used.
    pub images: usize,
    /// Mean and covariance of their features.
    pub gaussian: Gaussian,
}

impl RealReference {
    /// Scores the test split of the MNIST-style folder `dir` with `classifier`.
    pub fn from_test_split(classifier: &Classifier, dir: &Path) -> Result<Self, EvalError> {
        let test = load_split(dir, Split::Test)?;
        let scores = classifier.score(test.images())?;
        Ok(Self {
            data: dir.to_path_buf(),
            images: scores.count,
            gaussian: Gaussian::fit(&scores.features, scores.feature_dim)?,
        })
    }
}

/// The scores of one sample set, as `eval` prints them in JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The input scored.
    pub source: PathBuf,
    /// The kind of input.
    pub kind: InputKind,
    /// The run's checkpoint step, for a run.
    pub step: Option<u64>,
    /// The latent seed, for generated samples.
    pub seed: Option<u64>,
    /// Samples scored.
    pub samples: usize,
    /// Inception score over `splits` contiguous parts of the samples.
    pub inception_score: SplitScores,
    /// Inception score of all samples as one set.
    pub inception_score_all: f64,
    /// Inception score of the first 64 samples as one set, the reference code's protocol
    /// (comparable with the published MNIST figures; `None` with fewer samples).
    pub inception_score_first_64: Option<f64>,
    /// Fréchet distance between the features of the samples and of the real test images.
    pub frechet_distance: f64,
    /// Width of the features.
    pub feature_dim: usize,
    /// The real images' folder, relative to the workspace root when inside it.
    pub real_data: PathBuf,
    /// Real test images in the reference.
    pub real_images: usize,
    /// Samples per most probable class, classes 0 to 9.
    pub class_histogram: Vec<u64>,
    /// The classifier's weights file, relative to the workspace root when inside it.
    pub classifier: PathBuf,
    /// The classifier's test accuracy.
    pub classifier_test_accuracy: f64,
    /// The inception score of the real test images over 10 splits, for scale.
    pub real_inception_score: f64,
}

/// Scores `samples` with `classifier` over `splits` splits, against `reference`.
pub fn evaluate(
    samples: &SampleSet,
    classifier: &Classifier,
    reference: &RealReference,
    splits: usize,
) -> Result<EvalReport, EvalError> {
    let scores = classifier.score(&samples.images)?;
    if splits == 0 || scores.count < splits {
        return Err(EvalError::InvalidOption {
            option: "--splits",
            reason: format!(
                "must be between 1 and the {} samples, not {splits}",
                scores.count
            ),
        });
    }
    let first_64 = (scores.count >= PAPER_PROTOCOL_SAMPLES)
        .then(|| inception_score(&scores.probs[..PAPER_PROTOCOL_SAMPLES * CLASSES], CLASSES))
        .transpose()?;
    let generated = Gaussian::fit(&scores.features, scores.feature_dim)?;

    Ok(EvalReport {
        source: samples.source.clone(),
        kind: samples.kind,
        step: samples.step,
        seed: samples.seed,
        samples: scores.count,
        inception_score: split_inception_scores(&scores.probs, CLASSES, splits)?,
        inception_score_all: inception_score(&scores.probs, CLASSES)?,
        inception_score_first_64: first_64,
        frechet_distance: frechet_distance(&generated, &reference.gaussian)?,
        feature_dim: scores.feature_dim,
        real_data: super::workspace_relative(&reference.data),
        real_images: reference.images,
        class_histogram: class_histogram(&scores.probs, CLASSES)?,
        classifier: super::workspace_relative(classifier.path()),
        classifier_test_accuracy: classifier.summary().test_accuracy,
        real_inception_score: classifier.summary().test_inception_score.mean,
    })
}

impl EvalReport {
    /// Returns a one-line summary for people.
    pub fn human_line(&self) -> String {
        let histogram: Vec<String> = self
            .class_histogram
            .iter()
            .enumerate()
            .map(|(class, n)| format!("{class}:{n}"))
            .collect();
        let first_64 = self
            .inception_score_first_64
            .map_or(String::new(), |s| format!(", first 64 {s:.2}"));
        format!(
            "IS {:.2} ± {:.2} ({} samples in {} splits; all at once {:.2}{first_64}; real test \
             digits {:.2}) | FID {:.3} against {} test digits | classes {}",
            self.inception_score.mean,
            self.inception_score.std,
            self.samples,
            self.inception_score.splits.len(),
            self.inception_score_all,
            self.real_inception_score,
            self.frechet_distance,
            self.real_images,
            histogram.join(" ")
        )
    }
}
