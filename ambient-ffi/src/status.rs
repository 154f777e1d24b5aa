//! The status every exported function returns, and its message.

use core::ffi::{c_char, CStr};

use ambient_core::measure::MeasureError;

/// The result of a library call: `AMBIENT_STATUS_OK` (0) or the reason it failed.
///
/// Codes are stable: a code never changes meaning once released, and new codes are added
/// in the group of their kind (10s: arguments, 20s: measurements, 30s: measurement
/// records, 40s: models). A caller should treat an unknown nonzero code as a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(i32)]
pub enum AmbientStatus {
    /// Success.
    Ok = 0,
    /// A library bug was caught before it crossed the boundary (a Rust panic on a hosted
    /// target). Outputs may have been partly written. Please report it.
    InternalError = 1,
    /// A required pointer argument was NULL.
    NullPointer = 10,
    /// An output buffer is shorter than the result; query the length first.
    BufferTooSmall = 11,
    /// An input array does not have the length the call needs.
    LengthMismatch = 12,
    /// A pointer is not aligned for its element type (`float`: 4 bytes) or for the
    /// alignment the library states.
    Misaligned = 13,
    /// The handle was never initialised by its `_init` or `_open` function, or that call
    /// failed.
    InvalidHandle = 14,
    /// Input and output buffers overlap; the library never works in place.
    Overlap = 15,
    /// A length exceeds the largest object the platform can address (`PTRDIFF_MAX` bytes).
    LengthTooLarge = 16,
    /// The measurement kind code is not one of `ambient_measurement_kind`.
    UnknownMeasurement = 20,
    /// The measurement kind is known but not available in this build of the library.
    UnsupportedMeasurement = 21,
    /// A measurement parameter is out of range (a probability outside [0, 1), a patch
    /// larger than the image, an even blur size, an unknown interpolation code, ...).
    InvalidParameter = 22,
    /// An image shape has a zero extent, or its size overflows.
    InvalidShape = 23,
    /// A size derived from the shape and parameters does not fit the library's indices.
    SizeOverflow = 24,
    /// A record stream header field the format cannot store: a value range that is not
    /// finite with lo < hi, a class count of `AMBIENT_NO_LABEL`, or a size above 32 bits.
    InvalidRecordHeader = 30,
    /// A class label is missing, given where there are no classes, or not below the class
    /// count (record writing and generation).
    InvalidLabel = 31,
    /// A measurement passed to the record writer contains NaN or an infinity.
    NonFiniteValue = 32,
    /// A measurement passed to the record writer is not zero where its seed's mask drops a
    /// value, so it was measured with another seed.
    MaskMismatch = 33,
    /// The bytes are not a weight file (they do not start with the magic `AMBW`).
    NotAModel = 40,
    /// The weight file's major format version is newer than this library reads.
    UnsupportedModelVersion = 41,
    /// The weight file's CRC-32 does not match its bytes: it is corrupt.
    ModelChecksumMismatch = 42,
    /// The weight file is shorter or longer than its header states.
    ModelTruncated = 43,
    /// The weight file is malformed: an invalid header field, layer, tensor or shape.
    InvalidModel = 44,
}

/// Every status, in code order.
const ALL: [AmbientStatus; 23] = [
    AmbientStatus::Ok,
    AmbientStatus::InternalError,
    AmbientStatus::NullPointer,
    AmbientStatus::BufferTooSmall,
    AmbientStatus::LengthMismatch,
    AmbientStatus::Misaligned,
    AmbientStatus::InvalidHandle,
    AmbientStatus::Overlap,
    AmbientStatus::LengthTooLarge,
    AmbientStatus::UnknownMeasurement,
    AmbientStatus::UnsupportedMeasurement,
    AmbientStatus::InvalidParameter,
    AmbientStatus::InvalidShape,
    AmbientStatus::SizeOverflow,
    AmbientStatus::InvalidRecordHeader,
    AmbientStatus::InvalidLabel,
    AmbientStatus::NonFiniteValue,
    AmbientStatus::MaskMismatch,
    AmbientStatus::NotAModel,
    AmbientStatus::UnsupportedModelVersion,
    AmbientStatus::ModelChecksumMismatch,
    AmbientStatus::ModelTruncated,
    AmbientStatus::InvalidModel,
];

impl AmbientStatus {
    /// Returns the status with code `code`, if there is one.
    pub fn from_code(code: i32) -> Option<Self> {
        ALL.into_iter().find(|status| *status as i32 == code)
    }

    /// Returns the status's message: one sentence, no trailing period.
    pub fn message(self) -> &'static CStr {
        match self {
            Self::Ok => c"success",
            Self::InternalError => {
                c"internal error in the ambient library (a bug; please report it)"
            }
            Self::NullPointer => c"a required pointer argument is NULL",
            Self::BufferTooSmall => {
                c"the output buffer is too small; query the required length first"
            }
            Self::LengthMismatch => c"an input array does not have the length the call needs",
            Self::Misaligned => c"a pointer is not aligned as its element type requires",
            Self::InvalidHandle => {
                c"the handle was not initialised by a successful init or open call"
            }
            Self::Overlap => c"the input and output buffers overlap",
            Self::LengthTooLarge => c"a length exceeds the largest addressable object",
            Self::UnknownMeasurement => c"unknown measurement kind code",
            Self::UnsupportedMeasurement => c"the measurement kind is not available in this build",
            Self::InvalidParameter => c"a measurement parameter is out of range",
            Self::InvalidShape => c"the image shape has a zero extent or its size overflows",
            Self::SizeOverflow => c"a size derived from the shape and parameters overflows",
            Self::InvalidRecordHeader => {
                c"a record header field is invalid (value range, class count or a size)"
            }
            Self::InvalidLabel => c"a class label is missing, unexpected or out of range",
            Self::NonFiniteValue => c"the measurement contains NaN or an infinity",
            Self::MaskMismatch => {
                c"the measurement is not zero where its seed's mask drops a value (wrong seed?)"
            }
            Self::NotAModel => c"the bytes are not an ambient weight file (magic is not AMBW)",
            Self::UnsupportedModelVersion => {
                c"the weight file's format version is newer than this library reads"
            }
            Self::ModelChecksumMismatch => c"the weight file is corrupt (CRC-32 mismatch)",
            Self::ModelTruncated => c"the weight file is truncated or has trailing bytes",
            Self::InvalidModel => c"the weight file is malformed",
        }
    }
}

impl From<MeasureError> for AmbientStatus {
    fn from(error: MeasureError) -> Self {
        match error {
            MeasureError::InvalidShape { .. } => Self::InvalidShape,
            MeasureError::SizeOverflow { .. } => Self::SizeOverflow,
            MeasureError::LengthMismatch { .. } => Self::LengthMismatch,
            MeasureError::UnknownMeasurement => Self::UnknownMeasurement,
            MeasureError::Unsupported => Self::UnsupportedMeasurement,
            // Every other variant names a parameter value the operator rejected.
            _ => Self::InvalidParameter,
        }
    }
}

/// Returns a static, NUL-terminated English message for `status` (any `ambient_status`
/// value). An unknown code gets "unknown status code". The string must not be freed.
///
/// The parameter is a plain integer, not the enum, so that any value a C caller passes
/// is defined behaviour.
#[no_mangle]
pub extern "C" fn ambient_status_message(status: i32) -> *const c_char {
    match AmbientStatus::from_code(status) {
        Some(known) => known.message().as_ptr(),
        None => c"unknown status code".as_ptr(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let codes: [(AmbientStatus, i32); 23] = [
            (AmbientStatus::Ok, 0),
            (AmbientStatus::InternalError, 1),
            (AmbientStatus::NullPointer, 10),
            (AmbientStatus::BufferTooSmall, 11),
            (AmbientStatus::LengthMismatch, 12),
            (AmbientStatus::Misaligned, 13),
            (AmbientStatus::InvalidHandle, 14),
            (AmbientStatus::Overlap, 15),
            (AmbientStatus::LengthTooLarge, 16),
            (AmbientStatus::UnknownMeasurement, 20),
            (AmbientStatus::UnsupportedMeasurement, 21),
            (AmbientStatus::InvalidParameter, 22),
            (AmbientStatus::InvalidShape, 23),
            (AmbientStatus::SizeOverflow, 24),
            (AmbientStatus::InvalidRecordHeader, 30),
            (AmbientStatus::InvalidLabel, 31),
            (AmbientStatus::NonFiniteValue, 32),
            (AmbientStatus::MaskMismatch, 33),
            (AmbientStatus::NotAModel, 40),
            (AmbientStatus::UnsupportedModelVersion, 41),
            (AmbientStatus::ModelChecksumMismatch, 42),
            (AmbientStatus::ModelTruncated, 43),
            (AmbientStatus::InvalidModel, 44),
        ];
        for (status, code) in codes {
            assert_eq!(status as i32, code, "{status:?}");
            assert_eq!(AmbientStatus::from_code(code), Some(status));
        }
    }

    #[test]
    fn every_status_has_a_distinct_message() {
        for (i, a) in ALL.iter().enumerate() {
            let message = a.message().to_str().unwrap();
            assert!(!message.is_empty());
            assert!(!message.ends_with('.'), "{message}");
            for b in &ALL[i + 1..] {
                assert_ne!(a.message(), b.message(), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn message_of_unknown_code() {
        for code in [-1, 2, 9, 25, 34, 45, 99, i32::MIN, i32::MAX] {
            let message = unsafe { CStr::from_ptr(ambient_status_message(code)) };
            assert_eq!(message, c"unknown status code", "code {code}");
        }
        let ok = unsafe { CStr::from_ptr(ambient_status_message(0)) };
        assert_eq!(ok, c"success");
    }
}
