//! The measurement record writer over C: a device writes the stream header, then one
//! record per measured image, then the end marker, each into a caller buffer it can send
//! at once.

use ambient_core::record::{
    RecordError, RecordHeader, RecordWriter, ValueRange, END_LEN, HEADER_LEN, NO_LABEL,
    RECORD_OVERHEAD,
};

use crate::boundary::{guard, input, input_array, out_param, output_array, CallResult};
use crate::handle;
use crate::measurement::{AmbientMeasurementParams, AmbientShape};
use crate::status::AmbientStatus;

/// Bytes of the stream header (format 1.0).
pub const AMBIENT_RECORD_HEADER_LEN: usize = 76;
/// Bytes of a record besides its values (count, seed, label, CRC-32). A record of `n`
/// values is `AMBIENT_RECORD_OVERHEAD + 4 * n` bytes; `n` is at most the measurement's
/// output length.
pub const AMBIENT_RECORD_OVERHEAD: usize = 20;
/// Bytes of the end marker.
pub const AMBIENT_RECORD_END_LEN: usize = 16;
/// The `label` of a record in a stream without classes.
pub const AMBIENT_NO_LABEL: u32 = u32::MAX;

const _: () = assert!(AMBIENT_RECORD_HEADER_LEN == HEADER_LEN);
const _: () = assert!(AMBIENT_RECORD_OVERHEAD == RECORD_OVERHEAD);
const _: () = assert!(AMBIENT_RECORD_END_LEN == END_LEN);
const _: () = assert!(AMBIENT_NO_LABEL == NO_LABEL);

/// Caller-owned storage for one record writer, filled by `ambient_record_writer_init`.
///
/// 512 bytes, aligned to 8, plain data like `ambient_measurement`: declare it anywhere,
/// zero it before use, nothing to free. It counts the records written, so copies count
/// separately.
#[repr(C)]
pub struct AmbientRecordWriter {
    opaque: [u64; 64],
}

/// Marks initialised record-writer storage: "AMBRECW" and a layout version.
const TAG: u64 = u64::from_le_bytes(*b"AMBRECW1");

const _: () = assert!(handle::fits::<AmbientRecordWriter, RecordWriter>());

impl From<RecordError> for AmbientStatus {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::InvalidParams(e) => e.into(),
            RecordError::UnknownKind { .. } => Self::UnknownMeasurement,
            RecordError::InvalidHeaderField { .. } => Self::InvalidRecordHeader,
            RecordError::InvalidLabel { .. } => Self::InvalidLabel,
            RecordError::NonFiniteValue { .. } => Self::NonFiniteValue,
            RecordError::MaskMismatch { .. } => Self::MaskMismatch,
            RecordError::LengthMismatch { .. } => Self::LengthMismatch,
            RecordError::BufferTooSmall { .. } => Self::BufferTooSmall,
            // The rest are errors of reading a stream, which the writer never returns.
            _ => Self::InternalError,
        }
    }
}

/// Prepares a writer for a stream of measurements described by `params` on images of
/// `shape` whose values lie in [`range_lo`, `range_hi`] (0 and 1 for MNIST, -1 and 1 for
/// colour data sets), with `classes` classes (0 for unlabelled records).
///
/// Fails with the statuses of `ambient_measurement_init`, or with
/// `AMBIENT_STATUS_INVALID_RECORD_HEADER` for a range that is not finite with
/// `range_lo < range_hi`, `classes` equal to `AMBIENT_NO_LABEL`, or a size or count above
/// 2^32 - 2. `out` is written only on success.
///
/// # Safety
///
/// `out` must be NULL or point at writable memory for one `ambient_record_writer`, and
/// `params` NULL or at a readable `ambient_measurement_params`.
#[no_mangle]
pub unsafe extern "C" fn ambient_record_writer_init(
    out: *mut AmbientRecordWriter,
    params: *const AmbientMeasurementParams,
    shape: AmbientShape,
    range_lo: f32,
    range_hi: f32,
    classes: u32,
) -> AmbientStatus {
    guard(|| {
        let out = handle::out_handle(out)?;
        let params = unsafe { input(params) }?;
        let (kind, core_params) = params.to_core()?;
        let header = RecordHeader::new(kind, core_params, shape.into())
            .with_range(ValueRange {
                lo: range_lo,
                hi: range_hi,
            })
            .with_classes(classes);
        let writer = RecordWriter::new(header)?;
        unsafe { handle::put(out, TAG, writer) };
        Ok(())
    })
}

/// Writes to `out_len` the length in bytes of the longest record the writer can produce,
/// `AMBIENT_RECORD_OVERHEAD + 4 * output_len`: the size of the buffer
/// `ambient_record_writer_write_record` needs.
///
/// # Safety
///
/// `writer` must be NULL or point at an `ambient_record_writer` whose memory has been
/// written, and `out_len` NULL or at a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ambient_record_writer_max_record_len(
    writer: *const AmbientRecordWriter,
    out_len: *mut usize,
) -> AmbientStatus {
    guard(|| {
        let out_len = out_param(out_len)?;
        let writer: &RecordWriter = unsafe { handle::get(writer, TAG) }?;
        unsafe { out_len.write(writer.max_record_len()) };
        Ok(())
    })
}

/// Writes to `out_count` the number of records written so far.
///
/// # Safety
///
/// As for `ambient_record_writer_max_record_len`, with `out_count` a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn ambient_record_writer_records(
    writer: *const AmbientRecordWriter,
    out_count: *mut u64,
) -> AmbientStatus {
    guard(|| {
        let out_count = out_param(out_count)?;
        let writer: &RecordWriter = unsafe { handle::get(writer, TAG) }?;
        unsafe { out_count.write(writer.records()) };
        Ok(())
    })
}

/// Writes the stream header, `AMBIENT_RECORD_HEADER_LEN` bytes, to the front of `out`,
/// and its length to `out_written`.
///
/// Fails with `AMBIENT_STATUS_BUFFER_TOO_SMALL` when `out_len` is below
/// `AMBIENT_RECORD_HEADER_LEN`. `out` and `out_written` are written only on success.
///
/// # Safety
///
/// `writer` as for `ambient_record_writer_max_record_len`; `out` NULL or `out_len`
/// writable bytes; `out_written` NULL or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ambient_record_writer_write_header(
    writer: *const AmbientRecordWriter,
    out: *mut u8,
    out_len: usize,
    out_written: *mut usize,
) -> AmbientStatus {
    guard(|| {
        let writer: &RecordWriter = unsafe { handle::get(writer, TAG) }?;
        unsafe {
            write_piece(out, out_len, out_written, writer.header_len(), |bytes| {
                writer.write_header(bytes)
            })
        }
    })
}

/// Writes the end marker, `AMBIENT_RECORD_END_LEN` bytes, which stores the number of
/// records written, to the front of `out`, and its length to `out_written`.
///
/// Fails with `AMBIENT_STATUS_BUFFER_TOO_SMALL` when `out_len` is below
/// `AMBIENT_RECORD_END_LEN`. `out` and `out_written` are written only on success.
///
/// # Safety
///
/// As for `ambient_record_writer_write_header`.
#[no_mangle]
pub unsafe extern "C" fn ambient_record_writer_write_end(
    writer: *const AmbientRecordWriter,
    out: *mut u8,
    out_len: usize,
    out_written: *mut usize,
) -> AmbientStatus {
    guard(|| {
        let writer: &RecordWriter = unsafe { handle::get(writer, TAG) }?;
        unsafe {
            write_piece(out, out_len, out_written, writer.end_len(), |bytes| {
                writer.write_end(bytes)
            })
        }
    })
}

/// Writes one record to the front of `out` and its length to `out_written`, and counts it.
///
/// `y` is the measurement of one image with theta drawn from `seed`, as
/// `ambient_measurement_apply` wrote it: exactly `output_len` floats, all finite. `label`
/// is the image's class below the writer's `classes`, or `AMBIENT_NO_LABEL` when it has
/// none. `out_len` must be at least `ambient_record_writer_max_record_len`, and `out` must
/// not overlap `y`.
///
/// Fails with `AMBIENT_STATUS_LENGTH_MISMATCH`, `_INVALID_LABEL`, `_NON_FINITE_VALUE`,
/// `_BUFFER_TOO_SMALL` or `_MASK_MISMATCH` (a Block-Pixels or Drop-Row/Col `y` that is not
/// zero where the seed's mask drops a value, so it was measured with another seed).
/// `out_written` is written only on success, and so is `out`, except that after
/// `_MASK_MISMATCH` its contents are unspecified. A failed record is not counted.
///
/// # Safety
///
/// `writer` NULL or an `ambient_record_writer` whose memory has been written, not used by
/// another thread meanwhile; `y` NULL or `y_len` readable floats; `out` NULL or `out_len`
/// writable bytes; `out_written` NULL or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ambient_record_writer_write_record(
    writer: *mut AmbientRecordWriter,
    seed: u64,
    label: u32,
    y: *const f32,
    y_len: usize,
    out: *mut u8,
    out_len: usize,
    out_written: *mut usize,
) -> AmbientStatus {
    guard(|| {
        let writer: &mut RecordWriter = unsafe { handle::get_mut(writer, TAG) }?;
        let y = unsafe { input_array(y, y_len) }?;
        let label = (label != AMBIENT_NO_LABEL).then_some(label);
        let out_array = output_array(out, out_len)?;
        out_array.check_disjoint(y)?;
        let max_len = writer.max_record_len();
        unsafe {
            write_piece(out, out_len, out_written, max_len, |bytes| {
                writer.write_record(seed, label, y, bytes)
            })
        }
    })
}

/// Checks `out` (at least `needed` bytes) and `out_written`, runs `write` on the buffer,
/// and stores the length it returns.
///
/// # Safety
///
/// `out` NULL or `out_len` writable bytes; `out_written` NULL or a writable `size_t`.
unsafe fn write_piece(
    out: *mut u8,
    out_len: usize,
    out_written: *mut usize,
    needed: usize,
    write: impl FnOnce(&mut [u8]) -> Result<usize, RecordError>,
) -> CallResult {
    let out_written = out_param(out_written)?;
    let out = output_array(out, out_len)?;
    if out_len < needed {
        return Err(AmbientStatus::BufferTooSmall);
    }
    let bytes = unsafe { out.prefix(out_len) }?;
    let written = write(bytes)?;
    unsafe { out_written.write(written) };
    Ok(())
}
