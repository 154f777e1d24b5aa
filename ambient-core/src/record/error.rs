//! Errors of the measurement record writer and reader.

use core::fmt;

use crate::measure::MeasureError;

/// An error of writing or reading a record stream.
///
/// Offsets are byte positions from the start of the stream; record indices count from 0.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum RecordError {
    /// The stream does not start with the magic bytes `AMBR`.
    BadMagic,
    /// The format version is one this reader does not read (a newer major version).
    UnsupportedVersion {
        /// Major version in the stream.
        major: u16,
        /// Minor version in the stream.
        minor: u16,
    },
    /// The header length field is too small, not a multiple of 4, or wrong for its version.
    InvalidHeaderLength {
        /// The header length stored in the stream.
        len: u32,
    },
    /// The header's CRC-32 does not match its bytes.
    BadHeaderCrc {
        /// CRC stored in the stream.
        stored: u32,
        /// CRC computed over the header bytes.
        computed: u32,
    },
    /// The measurement kind code is not one of this build's kinds.
    UnknownKind {
        /// The code stored in the stream.
        code: u8,
    },
    /// A header field contains a value no measurement accepts (a reserved flag bit, an
    /// unknown interpolation code, a value range that is not finite or empty, a count
    /// that does not fit in 32 bits).
    InvalidHeaderField {
        /// Field name, as in the record format documentation.
        field: &'static str,
    },
    /// The measurement parameters or the image shape are invalid for the kind.
    InvalidParams(MeasureError),
    /// The stream ends inside the header, a record or the end marker.
    Truncated {
        /// Offset where the incomplete item starts.
        offset: usize,
        /// Bytes the item needs.
        needed: usize,
        /// Bytes left in the stream from `offset`.
        available: usize,
    },
    /// A record's value count exceeds the operator's output length.
    InvalidValueCount {
        /// Record index.
        record: u64,
        /// The count stored in the record.
        count: u32,
        /// The operator's output length.
        max: usize,
    },
    /// A record's CRC-32 does not match its bytes.
    BadRecordCrc {
        /// Record index.
        record: u64,
        /// CRC stored in the record.
        stored: u32,
        /// CRC computed over the record bytes.
        computed: u32,
    },
    /// A record contains a different number of values than its seed's mask keeps (mask
    /// kinds) or than the operator's output length (every other kind).
    ValueCountMismatch {
        /// Record index.
        record: u64,
        /// The number of values the seed and operator call for.
        expected: usize,
        /// The number of values stored.
        actual: usize,
    },
    /// A value that is NaN or infinite, in a record being read or in a measurement
    /// passed to the writer.
    NonFiniteValue {
        /// Record index.
        record: u64,
        /// Index of the value within the measurement.
        index: usize,
    },
    /// A measurement passed to the writer is not zero at a position its seed's mask
    /// drops, so it was not measured with that seed.
    MaskMismatch {
        /// Index of the first offending value.
        index: usize,
    },
    /// A label that the header's class count does not allow: a label given when the
    /// stream has no classes, a missing label when it has classes, or one out of range.
    InvalidLabel {
        /// Record index.
        record: u64,
        /// The label (`None` when it is missing).
        label: Option<u32>,
        /// The number of classes in the header.
        classes: u32,
    },
    /// The stream ends after complete records but without the end marker, so records may
    /// have been cut off.
    MissingEnd {
        /// Records read before the end of the stream.
        records: u64,
    },
    /// The end marker's CRC-32 does not match its bytes.
    BadEndCrc {
        /// CRC stored in the end marker.
        stored: u32,
        /// CRC computed over the end marker.
        computed: u32,
    },
    /// The end marker's record count differs from the number of records read.
    RecordCountMismatch {
        /// Count stored in the end marker.
        stored: u64,
        /// Records read.
        actual: u64,
    },
    /// Bytes follow the end marker.
    TrailingBytes {
        /// Offset of the first byte after the end marker.
        offset: usize,
    },
    /// A caller slice has the wrong length.
    LengthMismatch {
        /// The slice's name (`"y"`, `"values"`).
        what: &'static str,
        /// The length needed.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The caller's output buffer is too small for what is being written.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}

impl From<MeasureError> for RecordError {
    fn from(e: MeasureError) -> Self {
        Self::InvalidParams(e)
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadMagic => write!(f, "not a measurement record stream (magic is not AMBR)"),
            Self::UnsupportedVersion { major, minor } => write!(
                f,
                "record format version {major}.{minor} is not supported (this reader reads \
                 {}.x)",
                super::VERSION_MAJOR
            ),
            Self::InvalidHeaderLength { len } => write!(f, "invalid header length {len}"),
            Self::BadHeaderCrc { stored, computed } => write!(
                f,
                "header CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            Self::UnknownKind { code } => write!(f, "unknown measurement kind code {code}"),
            Self::InvalidHeaderField { field } => write!(f, "invalid header field {field}"),
            Self::InvalidParams(e) => write!(f, "invalid measurement in header: {e}"),
            Self::Truncated {
                offset,
                needed,
                available,
            } => write!(
                f,
                "stream truncated at byte {offset}: {needed} bytes needed, {available} left"
            ),
            Self::InvalidValueCount { record, count, max } => write!(
                f,
                "record {record} holds {count} values, more than the measurement's {max}"
            ),
            Self::BadRecordCrc {
                record,
                stored,
                computed,
            } => write!(
                f,
                "record {record} CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            Self::ValueCountMismatch {
                record,
                expected,
                actual,
            } => write!(
                f,
                "record {record} holds {actual} values, but its seed calls for {expected}"
            ),
            Self::NonFiniteValue { record, index } => {
                write!(f, "record {record}: value {index} is NaN or infinite")
            }
            Self::MaskMismatch { index } => write!(
                f,
                "measurement value {index} is not zero where the seed's mask drops it \
                 (measured with another seed?)"
            ),
            Self::InvalidLabel {
                record,
                label,
                classes,
            } => match label {
                Some(l) => write!(
                    f,
                    "record {record}: label {l} is invalid for {classes} classes"
                ),
                None => write!(f, "record {record}: label missing ({classes} classes)"),
            },
            Self::MissingEnd { records } => write!(
                f,
                "stream ends after {records} records without the end marker (cut off?)"
            ),
            Self::BadEndCrc { stored, computed } => write!(
                f,
                "end marker CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            Self::RecordCountMismatch { stored, actual } => write!(
                f,
                "end marker counts {stored} records, but the stream holds {actual}"
            ),
            Self::TrailingBytes { offset } => {
                write!(f, "unexpected bytes after the end marker at byte {offset}")
            }
            Self::LengthMismatch {
                what,
                expected,
                actual,
            } => write!(f, "slice {what} has length {actual}, expected {expected}"),
            Self::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer too small: {needed} bytes needed, {available} available"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidParams(e) => Some(e),
            _ => None,
        }
    }
}
