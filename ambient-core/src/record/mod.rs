//! The measurement record format (`.ambr`): what a device sends to the trainer.
//!
//! A stream is a header, then one record per measured image, then an end marker, all
//! little-endian. The header names the measurement (kind code and every parameter), the
//! image shape, the image value range and the number of classes, and carries a CRC-32.
//! Each record carries the 64-bit seed θ was drawn from, an optional class label, the
//! measured values and its own CRC-32, so corruption and truncation are detected record
//! by record. Block-Pixels, Drop-Row, Drop-Col and Drop-Row-Col records keep only the
//! values their mask keeps (see [`Storage`]); the reader regenerates the mask from the
//! seed. The byte layout and the version rule are in `docs/record-format.md`.
//!
//! [`RecordWriter`] writes into caller buffers one piece at a time, with exact sizes known
//! beforehand ([`RecordWriter::header_len`], [`RecordWriter::max_record_len`],
//! [`RecordWriter::end_len`]). [`RecordReader`] reads a stream held in memory and decodes
//! each record into a caller `&mut [f32]`. Neither allocates.
//!
//! # Version rule
//!
//! A reader reads every stream of its own major version [`VERSION_MAJOR`] and rejects any
//! other major version. A newer minor version may only append fields to the header, so
//! its length field grows and the CRC stays last, and add measurement kinds. A reader
//! skips the header fields it does not know and rejects kind codes it does not know.

mod error;
mod header;
mod le;
mod mask;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use crate::crc32::crc32;
pub use error::RecordError;
pub use header::{RecordHeader, ValueRange, Version};
pub use mask::Storage;
pub use reader::{RecordInfo, RecordReader};
pub use writer::RecordWriter;

/// The first four bytes of every stream.
pub const MAGIC: [u8; 4] = *b"AMBR";

/// The major format version this code writes and reads.
pub const VERSION_MAJOR: u16 = 1;

/// The minor format version this code writes.
pub const VERSION_MINOR: u16 = 0;

/// The header length of version 1.0 in bytes, CRC included.
pub const HEADER_LEN: usize = 76;

/// Bytes of a record besides its values: value count, seed, label and CRC.
pub const RECORD_OVERHEAD: usize = 20;

/// The length of the end marker in bytes.
pub const END_LEN: usize = 16;

/// The value-count field that marks the end marker instead of a record.
pub const END_MARKER: u32 = u32::MAX;

/// The label field of a record without a label.
pub const NO_LABEL: u32 = u32::MAX;
