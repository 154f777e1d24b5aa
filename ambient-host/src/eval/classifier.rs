//! A trained classifier on disk and in memory: the weights (safetensors) and a JSON
//! summary beside them (same stem, `.json`) with the network's shape, the test accuracy
//! and how it was trained.
//!
//! The default location is `data/classifier/mnist-cnn.safetensors` at the workspace root
//! (located when the program is built, like the built-in data set), where
//! `ambient-host classifier train` writes and `ambient-host eval` reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::cnn::{Cnn, CnnShape, CLASSES, IMAGE_SIDE};
use super::inception::SplitScores;
use super::EvalError;

/// The `format` value of a classifier summary.
pub const SUMMARY_FORMAT: &str = "ambient-mnist-cnn";

/// Images per forward pass when scoring, to bound memory on large sample sets.
const SCORE_CHUNK: i64 = 500;

/// The JSON summary stored beside a classifier's weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierSummary {
    /// Always [`SUMMARY_FORMAT`].
    pub format: String,
    /// The network's layer widths.
    pub shape: CnnShape,
    /// The weights file's name, in the summary's folder.
    pub weights: String,
    /// Fraction of the test images classified correctly.
    pub test_accuracy: f64,
    /// Test images classified correctly.
    pub test_correct: u64,
    /// Test images.
    pub test_images: u64,
    /// Training images.
    pub train_images: u64,
    /// The data folder trained on, relative to the workspace root when inside it.
    pub data: PathBuf,
    /// Optimiser steps.
    pub steps: u64,
    /// Images per step.
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of the initial weights, the batch order and dropout.
    pub seed: u64,
    /// CPU threads libtorch used; CPU results are reproducible for a fixed thread count.
    pub threads: i32,
    /// Wall-clock seconds of training.
    pub train_seconds: f64,
    /// Inception score of the test images themselves, over 10 splits: the score a perfect
    /// generator would reach at that split size.
    pub test_inception_score: SplitScores,
    /// Inception score of all the test images as one set.
    pub test_inception_score_all: f64,
    /// The command line that recreates this classifier.
    pub command: String,
}

/// Returns the default classifier weights path: `data/classifier/mnist-cnn.safetensors`
/// at the workspace root.
pub fn default_classifier_path() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().unwrap_or(manifest);
    workspace
        .join("data")
        .join("classifier")
        .join("mnist-cnn.safetensors")
}

/// Returns the summary path of a weights path: the same stem with `.json`.
pub fn summary_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Class probabilities and features of a batch of images.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// Images scored.
    pub count: usize,
    /// `p(y|x)`, row-major `[count, 10]`.
    pub probs: Vec<f64>,
    /// Penultimate activations, row-major `[count, feature_dim]`.
    pub features: Vec<f64>,
    /// Width of a feature row.
    pub feature_dim: usize,
}

/// A classifier loaded for scoring.
#[derive(Debug)]
pub struct Classifier {
    path: PathBuf,
    summary: ClassifierSummary,
    vars: VarStore,
    net: Cnn,
}

impl Classifier {
    /// Wraps a freshly built network (training uses this).
    pub(super) fn from_parts(
        path: PathBuf,
        summary: ClassifierSummary,
        vars: VarStore,
        net: Cnn,
    ) -> Self {
        Self {
            path,
            summary,
            vars,
            net,
        }
    }

    /// Loads the classifier whose weights are at `path` (its summary beside it) onto
    /// `device`.
    pub fn load(path: &Path, device: Device) -> Result<Self, EvalError> {
        if !path.exists() {
            return Err(EvalError::NoClassifier {
                path: path.to_path_buf(),
            });
        }
        let summary = read_summary(&summary_path(path))?;
        if summary.format != SUMMARY_FORMAT {
            return Err(mismatch(path, format!("format is {:?}", summary.format)));
        }
        let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(path)
            .map_err(|e| mismatch(path, format!("unreadable weights: {e}")))?
            .into_iter()
            .collect();

        let mut vars = VarStore::new(device);
        let net = Cnn::new(&vars.root(), summary.shape);
        copy_weights(path, &mut vars, &tensors)?;
        vars.freeze();
        Ok(Self {
            path: path.to_path_buf(),
            summary,
            vars,
            net,
        })
    }

    /// Returns the weights file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the summary.
    pub fn summary(&self) -> &ClassifierSummary {
        &self.summary
    }

    /// Returns the variables.
    pub(super) fn vars(&self) -> &VarStore {
        &self.vars
    }

    /// Replaces the summary (training fills it in at the end).
    pub(super) fn set_summary(&mut self, summary: ClassifierSummary) {
        self.summary = summary;
    }

    /// Classifies `images` `[N, 1, 28, 28]` (values in `[0, 1]`, on any device) without
    /// dropout, returning `p(y|x)` and the features of each image.
    pub fn score(&self, images: &Tensor) -> Result<Scores, EvalError> {
        let size = images.size();
        let count = match size.as_slice() {
            &[n, 1, IMAGE_SIDE, IMAGE_SIDE] if n > 0 => n,
            _ => return Err(EvalError::ImageShape { shape: size }),
        };

        let device = self.vars.device();
        let mut probs = Vec::new();
        let mut features = Vec::new();
        let mut start = 0;
        while start < count {
            let n = SCORE_CHUNK.min(count - start);
            let batch = images
                .f_narrow(0, start, n)?
                .f_to_device(device)?
                .f_to_kind(Kind::Float)?;
            let out = tch::no_grad(|| self.net.forward(&batch, false));
            probs.extend(to_f64(&out.logits.f_softmax(-1, Kind::Float)?)?);
            features.extend(to_f64(&out.features)?);
            start += n;
        }
        let count = count as usize;
        Ok(Scores {
            count,
            feature_dim: features.len() / count,
            probs,
            features,
        })
    }
}

impl Scores {
    /// Returns how many images have the class in `labels` (one label per image) as their
    /// most probable class.
    pub fn correct(&self, labels: &[u8]) -> Result<u64, EvalError> {
        if labels.len() != self.count {
            return Err(EvalError::InvalidOption {
                option: "labels",
                reason: format!("{} labels for {} images", labels.len(), self.count),
            });
        }
        let correct = self
            .probs
            .chunks_exact(CLASSES)
            .zip(labels)
            .filter(|(row, &label)| argmax(row) == usize::from(label))
            .count();
        Ok(correct as u64)
    }
}

/// Returns the index of the largest value (the first on ties).
pub(super) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

fn to_f64(tensor: &Tensor) -> Result<Vec<f64>, EvalError> {
    let flat = tensor
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Double)?
        .f_contiguous()?
        .f_flatten(0, -1)?;
    Ok(Vec::<f64>::try_from(&flat)?)
}

/// Reads a classifier summary.
pub fn read_summary(path: &Path) -> Result<ClassifierSummary, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| EvalError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Copies every variable of `vars` from `tensors`, after checking that names and shapes
/// match exactly, so that a file of another shape changes nothing.
fn copy_weights(
    path: &Path,
    vars: &mut VarStore,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), EvalError> {
    let ours = vars.variables();
    for (name, var) in &ours {
        let stored = tensors
            .get(name)
            .ok_or_else(|| mismatch(path, format!("it has no tensor {name}")))?;
        if stored.size() != var.size() {
            let reason = format!(
                "tensor {name} has shape {:?}, the summary's shape needs {:?}",
                stored.size(),
                var.size()
            );
            return Err(mismatch(path, reason));
        }
    }
    if let Some(extra) = tensors.keys().find(|k| !ours.contains_key(k.as_str())) {
        return Err(mismatch(path, format!("it has an unknown tensor {extra}")));
    }
    tch::no_grad(|| {
        for (name, mut var) in ours {
            if let Some(stored) = tensors.get(&name) {
                var.f_copy_(stored)?;
            }
        }
        Ok::<(), tch::TchError>(())
    })?;
    Ok(())
}

fn mismatch(path: &Path, reason: String) -> EvalError {
    EvalError::ClassifierMismatch {
        path: path.to_path_buf(),
        reason,
    }
}
