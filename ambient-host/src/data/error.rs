//! Errors of reading training data.

use std::path::PathBuf;

/// An error reading a data set. Every variant names the file or folder involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file starts with the gzip magic number but does not decompress.
    #[error("{path} is not a valid gzip file: {source}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decompressor's error.
        source: std::io::Error,
    },
    /// The first bytes are not an IDX magic number.
    #[error("{path} is not an IDX file: magic number {found:02x?}, expected [00, 00, 08, ndims]")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first four bytes (fewer when the file is shorter).
        found: Vec<u8>,
    },
    /// The IDX element type is not unsigned bytes (code 0x08), the only type MNIST uses.
    #[error("{path} stores IDX element type 0x{code:02x}; only unsigned bytes (0x08) are read")]
    UnsupportedElementType {
        /// The file.
        path: PathBuf,
        /// The element type code in the header.
        code: u8,
    },
    /// The IDX array has the wrong number of dimensions for what it should contain.
    #[error("{path} has {found} dimensions, expected {expected} ({what})")]
    WrongRank {
        /// The file.
        path: PathBuf,
        /// The expected content ("images: count, rows, columns"...).
        what: &'static str,
        /// The number of dimensions expected.
        expected: usize,
        /// The number of dimensions in the header.
        found: usize,
    },
    /// The file ends before the header or the data that the header promises.
    #[error("{path} is truncated: the header promises {expected} bytes, the file has {found}")]
    Truncated {
        /// The file (decompressed, when gzipped).
        path: PathBuf,
        /// Bytes the header implies.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The file is longer than its header's dimensions allow.
    #[error(
        "{path} has {found} bytes, but its dimensions {dims:?} imply {expected}; \
         the header does not match the data"
    )]
    SizeMismatch {
        /// The file.
        path: PathBuf,
        /// The dimensions in the header.
        dims: Vec<usize>,
        /// Bytes the header implies.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The header's dimensions overflow the address space.
    #[error("{path} declares dimensions {dims:?}, whose product overflows")]
    SizeOverflow {
        /// The file.
        path: PathBuf,
        /// The dimensions in the header.
        dims: Vec<usize>,
    },
    /// The images and labels files disagree on the number of examples.
    #[error("{images} holds {image_count} images but {labels} holds {label_count} labels")]
    LabelCount {
        /// The images file.
        images: PathBuf,
        /// The labels file.
        labels: PathBuf,
        /// Number of images.
        image_count: usize,
        /// Number of labels.
        label_count: usize,
    },
    /// A data set folder lacks a file it needs.
    #[error("{dir} contains no {name} (plain or .gz); pass --data with an MNIST-style folder")]
    MissingFile {
        /// The folder searched.
        dir: PathBuf,
        /// The file name looked for, without `.gz`.
        name: String,
    },
    /// The data path is neither a folder nor a file of a known kind.
    #[error(
        "{path} is not a data set: expected a folder (MNIST-style IDX files, CIFAR-10 binary \
         batches or JPEG/PNG images), a CIFAR-10 batch file (.bin) or a measurement record \
         file (.ambr)"
    )]
    UnknownKind {
        /// The path given.
        path: PathBuf,
    },
    /// The data set is empty.
    #[error("{path} contains no examples")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A measurement record file could not be read.
    #[error("cannot read measurement records from {path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// The record reader's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An example index outside the data set was requested.
    #[error("example {index} requested from {path}, which holds {len}")]
    IndexOutOfRange {
        /// The data set.
        path: PathBuf,
        /// The index requested.
        index: usize,
        /// Number of examples.
        len: usize,
    },
    /// A CIFAR-10 folder or batch file could not be read.
    #[error(transparent)]
    Cifar(#[from] super::cifar::CifarError),
    /// A folder of images could not be read.
    #[error(transparent)]
    Celeba(#[from] super::celeba::CelebaError),
    /// A data option does not fit the data.
    #[error("{path}: {reason}")]
    InvalidOption {
        /// The data set.
        path: PathBuf,
        /// The reason the option does not fit.
        reason: String,
    },
    /// libtorch failed while building a tensor from the data.
    #[error("libtorch error while loading {path}: {source}")]
    Torch {
        /// The data set.
        path: PathBuf,
        /// The libtorch error.
        source: tch::TchError,
    },
}
