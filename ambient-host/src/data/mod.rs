//! Training data: clean image sets that the trainer measures on the fly, and sets of
//! measurements recorded elsewhere.
//!
//! The discriminator only ever sees measurements. They come from one of two places
//! ([`TrainingData`]): clean images ([`ImageSet`], for example MNIST) that the trainer
//! measures with a fresh θ at every step, which reproduces the paper's simulations, or a
//! [`MeasurementSet`] that already holds real measurements together with the operator that
//! produced them, which is the product's real use (a device records, the workstation
//! trains) and needs no clean image at all.

pub mod celeba;
pub mod cifar;
mod decoded;
mod error;
pub mod idx;
mod images;
pub mod mnist;
pub mod records;
mod route;

use std::path::{Path, PathBuf};

use ambient_core::measure::{MeasurementParams, Operator};
use ambient_core::Shape;
use tch::Tensor;

pub use decoded::DecodedImages;
pub use error::DataError;
pub use images::ImageSet;
pub use route::{open_with, DataOptions};

/// Measurements recorded elsewhere, as the discriminator's real examples.
pub trait MeasurementSet: std::fmt::Debug {
    /// Returns the file the measurements were read from.
    fn source(&self) -> &Path;

    /// Returns the number of measurements.
    fn len(&self) -> usize;

    /// Returns whether the set is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the operator that produced the measurements, built for the clean image shape
    /// that the generator must produce.
    fn operator(&self) -> &Operator;

    /// Returns the operator's parameters as recorded.
    fn params(&self) -> &MeasurementParams;

    /// Gathers the measurements at `indices` into one f32 CPU tensor
    /// `[B, ...TchMeasurement::output_shape()]`.
    fn batch(&self, indices: &[usize]) -> Result<Tensor, DataError>;
}

/// Where the discriminator's real examples come from.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainingData {
    /// Clean images; the trainer measures them at every step (or not, in `clean` mode).
    Images(ImageSet),
    /// Real measurements with the operator that produced them.
    Measurements(Box<dyn MeasurementSet>),
}

impl TrainingData {
    /// Returns the file or folder the data came from.
    pub fn source(&self) -> &Path {
        match self {
            Self::Images(set) => set.source(),
            Self::Measurements(set) => set.source(),
        }
    }

    /// Returns the number of training examples.
    pub fn len(&self) -> usize {
        match self {
            Self::Images(set) => set.len(),
            Self::Measurements(set) => set.len(),
        }
    }

    /// Returns whether there is no training example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the clean image shape the generator must produce.
    pub fn image_shape(&self) -> Shape {
        use ambient_core::measure::Measurement;
        match self {
            Self::Images(set) => set.shape(),
            Self::Measurements(set) => set.operator().input_shape(),
        }
    }

    /// Returns a short name of the kind of data (`"images"` or `"measurements"`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Images(_) => "images",
            Self::Measurements(_) => "measurements",
        }
    }
}

/// Opens a training set: an MNIST-style folder (its training split) or a measurement
/// record file (`.ambr`).
pub fn open(path: &Path) -> Result<TrainingData, DataError> {
    if path.is_dir() {
        let set = mnist::load_split(path, mnist::Split::Train)?;
        return Ok(TrainingData::Images(set));
    }
    if path.extension().is_some_and(|e| e == "ambr") {
        return open_records(path);
    }
    if !path.exists() {
        return Err(DataError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    Err(DataError::UnknownKind {
        path: path.to_path_buf(),
    })
}

/// Opens a measurement record file as a [`MeasurementSet`].
fn open_records(path: &Path) -> Result<TrainingData, DataError> {
    let set = records::RecordSet::open(path)?;
    Ok(TrainingData::Measurements(Box::new(set)))
}

/// Returns the built-in data folder: the 10,000-digit MNIST subset carried in the source
/// tree (`data/mnist-10k` at the workspace root, located when the program is built).
pub fn builtin_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().unwrap_or(manifest);
    workspace.join("data").join("mnist-10k")
}
