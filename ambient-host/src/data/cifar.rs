//! CIFAR-10 in its binary format.
//!
//! The binary distribution (`cifar-10-batches-bin/`) contains five training files
//! `data_batch_1.bin` to `data_batch_5.bin` and one test file `test_batch.bin`. Each file is
//! a sequence of 3,073-byte records with no header: one label byte (0 to 9), then the
//! 32×32 red plane, the green plane and the blue plane, each row by row. That is already
//! the `[C, H, W]` order the trainer uses, so no transposition is needed.
//!
//! Pixels are mapped to `[-1, 1]` as `v / 127.5 - 1`. The reference CIFAR code maps them as
//! `2 (v / 256 - 0.5)` and adds uniform dequantisation noise in `[0, 1/128)` at training
//! time; this loader adds no noise.

use std::path::{Path, PathBuf};

use ambient_core::Shape;

use super::decoded::{byte_to_signed, DecodedImages};

/// The shape of one CIFAR-10 image.
pub const IMAGE_SHAPE: Shape = Shape::new(3, 32, 32);

/// Bytes of pixel data in one record (3 planes of 32×32).
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// Bytes in one record: the label byte and the pixels.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;

/// The number of classes; a label byte must be below it.
pub const CLASSES: u8 = 10;

/// The class names, indexed by label.
pub const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The subfolder name of the official archive, looked for inside the folder given.
const ARCHIVE_FOLDER: &str = "cifar-10-batches-bin";

/// A part of CIFAR-10: the training or the test split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The five training files, 50,000 images.
    Train,
    /// The test file, 10,000 images.
    Test,
}

impl Split {
    /// Returns the file names of this split, in reading order.
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            Self::Train => &[
                "data_batch_1.bin",
                "data_batch_2.bin",
                "data_batch_3.bin",
                "data_batch_4.bin",
                "data_batch_5.bin",
            ],
            Self::Test => &["test_batch.bin"],
        }
    }
}

/// An error of reading CIFAR-10. Every variant names the file or folder involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CifarError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The folder lacks a file of the split.
    #[error(
        "{dir} contains no {name}; pass the folder of the CIFAR-10 binary version \
         (cifar-10-batches-bin)"
    )]
    MissingFile {
        /// The folder searched.
        dir: PathBuf,
        /// The file name looked for.
        name: &'static str,
    },
    /// The file length is not a whole number of records.
    #[error(
        "{path} is not a CIFAR-10 binary batch: its {len} bytes are not a multiple of the \
         {record} bytes of one record"
    )]
    BadLength {
        /// The file.
        path: PathBuf,
        /// The file length in bytes.
        len: usize,
        /// The record length in bytes.
        record: usize,
    },
    /// A record's label byte is not a class index.
    #[error("{path}: record {record} has label {label}, but CIFAR-10 labels are 0 to 9")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// The index of the record in the file.
        record: usize,
        /// The label byte read.
        label: u8,
    },
    /// The file contains no record.
    #[error("{path} is empty: it holds no CIFAR-10 record")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Reads one split of CIFAR-10 from `dir`, which is either the `cifar-10-batches-bin`
/// folder itself or a folder that contains it.
pub fn load(dir: &Path, split: Split) -> Result<DecodedImages, CifarError> {
    let dir = resolve_dir(dir);
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for &name in split.file_names() {
        let path = dir.join(name);
        if !path.is_file() {
            return Err(CifarError::MissingFile {
                dir: dir.clone(),
                name,
            });
        }
        let bytes = read_file(&path)?;
        append_records(&path, &bytes, &mut pixels, &mut labels)?;
    }
    Ok(DecodedImages {
        source: dir,
        shape: IMAGE_SHAPE,
        pixels,
        labels: Some(labels),
    })
}

/// Reads one binary batch file.
pub fn read_batch(path: &Path) -> Result<DecodedImages, CifarError> {
    let bytes = read_file(path)?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    append_records(path, &bytes, &mut pixels, &mut labels)?;
    Ok(DecodedImages {
        source: path.to_path_buf(),
        shape: IMAGE_SHAPE,
        pixels,
        labels: Some(labels),
    })
}

/// Parses the records of one file (`bytes`, read from `path`) and appends their pixels,
/// mapped to `[-1, 1]`, and labels.
pub fn append_records(
    path: &Path,
    bytes: &[u8],
    pixels: &mut Vec<f32>,
    labels: &mut Vec<u8>,
) -> Result<(), CifarError> {
    if bytes.is_empty() {
        return Err(CifarError::Empty {
            path: path.to_path_buf(),
        });
    }
    if bytes.len() % RECORD_BYTES != 0 {
        return Err(CifarError::BadLength {
            path: path.to_path_buf(),
            len: bytes.len(),
            record: RECORD_BYTES,
        });
    }

    // Check every label before growing the outputs, so a bad file leaves them unchanged.
    let records = bytes.chunks_exact(RECORD_BYTES);
    if let Some((record, label)) = records
        .clone()
        .map(|r| r[0])
        .enumerate()
        .find(|&(_, label)| label >= CLASSES)
    {
        return Err(CifarError::BadLabel {
            path: path.to_path_buf(),
            record,
            label,
        });
    }

    // The record count comes from the bytes already in memory, so this cannot overflow.
    let count = bytes.len() / RECORD_BYTES;
    pixels.reserve(count * IMAGE_BYTES);
    labels.reserve(count);
    for record in records {
        labels.push(record[0]);
        pixels.extend(record[1..].iter().map(|&v| byte_to_signed(v)));
    }
    Ok(())
}

fn resolve_dir(dir: &Path) -> PathBuf {
    let nested = dir.join(ARCHIVE_FOLDER);
    if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, CifarError> {
    std::fs::read(path).map_err(|source| CifarError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder under the system temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("ambient-cifar-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Returns a record whose pixel `i` is `(i + shift) % 256`, so planes and records differ.
    fn record(label: u8, shift: usize) -> Vec<u8> {
        let mut bytes = vec![label];
        bytes.extend((0..IMAGE_BYTES).map(|i| ((i + shift) % 256) as u8));
        bytes
    }

    #[test]
    fn two_records_decode_in_plane_order() {
        let dir = TempDir::new("two");
        let path = dir.0.join("data_batch_1.bin");
        let mut bytes = record(3, 0);
        bytes.extend(record(9, 7));
        std::fs::write(&path, &bytes).unwrap();

        let set = read_batch(&path).unwrap();
        assert_eq!(set.shape, Shape::new(3, 32, 32));
        assert_eq!(set.len(), 2);
        assert_eq!(set.labels.as_deref(), Some(&[3, 9][..]));

        // Byte 1 + c·1024 + r·32 + x of a record is channel c, row r, column x.
        let first = set.image(0).unwrap();
        let second = set.image(1).unwrap();
        assert_eq!(first[0], -1.0);
        assert_eq!(
            first[1024 + 2 * 32 + 5],
            byte_to_signed(((1024 + 69) % 256) as u8)
        );
        assert_eq!(second[0], byte_to_signed(7));
        assert_eq!(
            second[2048 + 31 * 32 + 31],
            byte_to_signed(((3071 + 7) % 256) as u8)
        );
    }

    #[test]
    fn truncated_file_is_rejected() {
        let dir = TempDir::new("short");
        let path = dir.0.join("test_batch.bin");
        let mut bytes = record(1, 0);
        bytes.extend(&record(2, 0)[..100]);
        std::fs::write(&path, &bytes).unwrap();

        let error = read_batch(&path).unwrap_err();
        assert!(
            matches!(&error, CifarError::BadLength { len: 3173, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("test_batch.bin"), "{error}");
    }

    #[test]
    fn label_above_nine_is_rejected() {
        let dir = TempDir::new("label");
        let path = dir.0.join("data_batch_2.bin");
        let mut bytes = record(0, 0);
        bytes.extend(record(10, 0));
        std::fs::write(&path, &bytes).unwrap();

        let error = read_batch(&path).unwrap_err();
        assert!(
            matches!(
                &error,
                CifarError::BadLabel {
                    record: 1,
                    label: 10,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("data_batch_2.bin"), "{error}");
    }

    #[test]
    fn empty_file_is_rejected() {
        let dir = TempDir::new("empty");
        let path = dir.0.join("test_batch.bin");
        std::fs::write(&path, []).unwrap();
        assert!(matches!(read_batch(&path), Err(CifarError::Empty { .. })));
    }

    #[test]
    fn train_split_reads_five_files_in_order() {
        let dir = TempDir::new("train");
        let inner = dir.0.join("cifar-10-batches-bin");
        std::fs::create_dir(&inner).unwrap();
        for (i, name) in Split::Train.file_names().iter().enumerate() {
            std::fs::write(inner.join(name), record(i as u8, i)).unwrap();
        }

        let set = load(&dir.0, Split::Train).unwrap();
        assert_eq!(set.len(), 5);
        assert_eq!(set.labels.as_deref(), Some(&[0, 1, 2, 3, 4][..]));
        assert_eq!(set.image(4).unwrap()[0], byte_to_signed(4));
        assert_eq!(set.source, inner);
    }

    #[test]
    fn missing_split_file_is_named() {
        let dir = TempDir::new("missing");
        std::fs::write(dir.0.join("data_batch_1.bin"), record(0, 0)).unwrap();

        let error = load(&dir.0, Split::Train).unwrap_err();
        assert!(
            matches!(
                &error,
                CifarError::MissingFile {
                    name: "data_batch_2.bin",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(matches!(
            load(&dir.0, Split::Test),
            Err(CifarError::MissingFile { .. })
        ));
    }
}
