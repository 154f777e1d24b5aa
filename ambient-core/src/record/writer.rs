//! The record writer: a header, then one record at a time, into caller buffers.

use super::le::Writer;
use super::mask::{for_each_kept, Storage};
use super::{
    RecordError, RecordHeader, END_LEN, END_MARKER, HEADER_LEN, NO_LABEL, RECORD_OVERHEAD,
};
use crate::measure::{Measurement, Operator};

/// Writes a measurement record stream without a heap: [`RecordWriter::write_header`]
/// once, [`RecordWriter::write_record`] for each measurement, then
/// [`RecordWriter::write_end`]. Each call writes to the front of a caller buffer and
/// returns the number of bytes written, so a device can send each piece as it is made.
///
/// The writer takes the measurement `y` as the device's operator produced it with
/// `measure(x, seed, y)`, because that is what a device has after measuring. For the
/// kinds stored as survivors it replays the seed's mask to pick the kept values, and it
/// rejects a `y` that is not zero where that mask drops a value (a sign of a wrong seed).
#[derive(Clone, Debug)]
pub struct RecordWriter {
    header: RecordHeader,
    op: Operator,
    storage: Storage,
    max_record_len: usize,
    records: u64,
}

impl RecordWriter {
    /// Validates `header` (the measurement's parameters and shape, the value range, the
    /// counts' 32-bit fit) and prepares a writer for it.
    pub fn new(header: RecordHeader) -> Result<Self, RecordError> {
        let op = Operator::new(header.kind, header.shape, &header.params)?;
        let too_large = RecordError::InvalidHeaderField { field: "shape" };
        let max_record_len = op
            .output_len()
            .checked_mul(4)
            .and_then(|n| n.checked_add(RECORD_OVERHEAD))
            .ok_or(too_large)?;
        if u32::try_from(op.output_len()).map_or(true, |n| n == END_MARKER) {
            return Err(too_large);
        }
        // Encoding into a scratch header checks every field once, so write_header can
        // only fail on a short buffer.
        header.encode(&mut [0u8; HEADER_LEN])?;
        Ok(Self {
            storage: Storage::of(header.kind),
            header,
            op,
            max_record_len,
            records: 0,
        })
    }

    /// Returns the header the writer was built from.
    pub fn header(&self) -> &RecordHeader {
        &self.header
    }

    /// Returns the operator the header describes.
    pub fn operator(&self) -> &Operator {
        &self.op
    }

    /// Returns the number of records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Returns the exact length of the header in bytes.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Returns the length in bytes of the longest record this writer can produce (a mask
    /// that keeps every value, or a dense record).
    pub fn max_record_len(&self) -> usize {
        self.max_record_len
    }

    /// Returns the exact length of the end marker in bytes.
    pub fn end_len(&self) -> usize {
        END_LEN
    }

    /// Writes the header to the front of `out` and returns its length.
    pub fn write_header(&self, out: &mut [u8]) -> Result<usize, RecordError> {
        self.header.encode(out)
    }

    /// Writes one record to the front of `out` and returns its length (at most
    /// [`RecordWriter::max_record_len`]).
    ///
    /// `y` is the measurement of one image with θ drawn from `seed`, exactly
    /// `output_len()` values; `label` must be given exactly when the header has classes.
    /// On error nothing is counted and the contents of `out` are unspecified.
    pub fn write_record(
        &mut self,
        seed: u64,
        label: Option<u32>,
        y: &[f32],
        out: &mut [u8],
    ) -> Result<usize, RecordError> {
        self.check_record(label, y)?;

        let mut w = Writer::new(out);
        w.u32(0);
        w.u64(seed);
        w.u32(label.unwrap_or(NO_LABEL));
        let count = match self.storage {
            Storage::Dense => {
                for &v in y {
                    w.f32(v);
                }
                y.len()
            }
            Storage::Survivors => write_survivors(&self.op, seed, y, &mut w)?,
        };
        // The count is below END_MARKER: it is at most output_len, checked in new.
        w.set_u32_at(0, count as u32);
        let len = w.finish_with_crc()?;

        self.records += 1;
        Ok(len)
    }

    /// Writes the end marker, which stores the number of records written, to the front of
    /// `out` and returns its length.
    pub fn write_end(&self, out: &mut [u8]) -> Result<usize, RecordError> {
        let mut w = Writer::new(out);
        w.u32(END_MARKER);
        w.u64(self.records);
        w.finish_with_crc()
    }

    fn check_record(&self, label: Option<u32>, y: &[f32]) -> Result<(), RecordError> {
        let expected = self.op.output_len();
        if y.len() != expected {
            return Err(RecordError::LengthMismatch {
                what: "y",
                expected,
                actual: y.len(),
            });
        }
        let classes = self.header.classes;
        let label_ok = match label {
            None => classes == 0,
            Some(l) => l < classes,
        };
        if !label_ok {
            return Err(RecordError::InvalidLabel {
                record: self.records,
                label,
                classes,
            });
        }
        match y.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(RecordError::NonFiniteValue {
                record: self.records,
                index,
            }),
            None => Ok(()),
        }
    }
}

/// Appends the values of `y` that the mask of `seed` keeps and returns how many there are.
fn write_survivors(
    op: &Operator,
    seed: u64,
    y: &[f32],
    w: &mut Writer<'_>,
) -> Result<usize, RecordError> {
    let mut count = 0;
    let mut mismatch = None;
    for_each_kept(op, seed, |i, kept| {
        let v = y.get(i).copied().unwrap_or(0.0);
        if kept {
            w.f32(v);
            count += 1;
        } else if v != 0.0 && mismatch.is_none() {
            mismatch = Some(i);
        }
    })?;
    match mismatch {
        Some(index) => Err(RecordError::MaskMismatch { index }),
        None => Ok(count),
    }
}
