//! Evaluation: the MNIST classifier and the scores computed with it.
//!
//! A small convolutional classifier ([`cnn`]) is trained on the clean training split
//! ([`fit`]) and stored with a JSON summary of its test accuracy ([`classifier`]). It then
//! scores generated samples ([`report`]):
//!
//! - the inception score `exp(E_x KL(p(y|x) ‖ p(y)))` ([`inception`]), with the mean and
//!   standard deviation over 10 splits, over all samples at once, and over the first 64
//!   (the reference code's protocol);
//! - the Fréchet distance between Gaussians fitted to the classifier's penultimate
//!   features of the samples and of the real test images ([`frechet`]), with matrix square
//!   roots from a Jacobi eigendecomposition written here;
//! - the class histogram ([`histogram`]).
//!
//! Samples come from a run folder's checkpoint, a weight file (`.amb`) run by
//! `ambient-core`, or a `.npy` array ([`samples`]).

pub mod classifier;
pub mod cnn;
mod error;
pub mod fit;
pub mod frechet;
pub mod histogram;
pub mod inception;
pub mod npy;
pub mod report;
pub mod samples;
mod symmetric;

pub use classifier::{default_classifier_path, Classifier, ClassifierSummary, Scores};
pub use error::{EvalError, MathError};
pub use fit::{train_classifier, ClassifierTraining};
pub use frechet::{frechet_distance, frechet_distance_of_features, Gaussian};
pub use histogram::class_histogram;
pub use inception::{inception_score, split_inception_scores, SplitScores};
pub use report::{evaluate, EvalReport, RealReference};
pub use samples::{samples_from_model, samples_from_npy, samples_from_run, InputKind, SampleSet};

/// Splits of the sample set for the inception score's mean and standard deviation.
pub const DEFAULT_SPLITS: usize = 10;

/// Samples `eval` scores by default, and the fewest it accepts.
pub const DEFAULT_SAMPLES: usize = 1000;

/// Returns `path` relative to the workspace root when it lies inside it, so that stored
/// summaries and reports name no machine's folders.
pub(crate) fn workspace_relative(path: &std::path::Path) -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().unwrap_or(manifest);
    path.strip_prefix(workspace)
        .map_or_else(|_| path.to_path_buf(), std::path::Path::to_path_buf)
}
