//! The record reader: parses the header of a stream in memory, then decodes one record at
//! a time into a caller buffer.

use super::le::{item, Fields};
use super::mask::{fill_mask, Storage};
use super::{RecordError, RecordHeader, Version, END_LEN, END_MARKER, NO_LABEL, RECORD_OVERHEAD};
use crate::crc32::crc32;
use crate::measure::{Measurement, Operator};

/// The seed and label of one decoded record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordInfo {
    /// The seed θ was drawn from.
    pub seed: u64,
    /// The class label, present exactly when the header has classes.
    pub label: Option<u32>,
}

/// Reads a measurement record stream from `&[u8]` without copying or allocating.
///
/// [`RecordReader::new`] checks the header; [`RecordReader::next_record`] then returns
/// the records in order and `Ok(None)` after the end marker. A stream that ends without
/// the end marker gives [`RecordError::MissingEnd`] after its last complete record.
#[derive(Clone, Debug)]
pub struct RecordReader<'a> {
    stream: &'a [u8],
    header: RecordHeader,
    version: Version,
    op: Operator,
    storage: Storage,
    pos: usize,
    records: u64,
    ended: bool,
}

impl<'a> RecordReader<'a> {
    /// Parses and checks the header at the front of `stream`.
    pub fn new(stream: &'a [u8]) -> Result<Self, RecordError> {
        let (header, version, header_len) = RecordHeader::decode(stream)?;
        let op = Operator::new(header.kind, header.shape, &header.params)?;
        Ok(Self {
            stream,
            storage: Storage::of(header.kind),
            header,
            version,
            op,
            pos: header_len,
            records: 0,
            ended: false,
        })
    }

    /// Returns the stream's header.
    pub fn header(&self) -> &RecordHeader {
        &self.header
    }

    /// Returns the stream's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Returns the operator the header describes, built with the core's parameters, so a
    /// trainer can apply the same measurement to generated images.
    pub fn operator(&self) -> &Operator {
        &self.op
    }

    /// Returns the number of values each record decodes to (the operator's output length).
    pub fn output_len(&self) -> usize {
        self.op.output_len()
    }

    /// Returns the number of records decoded so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Returns the byte offset of the next record.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Decodes the next record's measurement into `values` (exactly `output_len()`) and
    /// returns its seed and label, or `Ok(None)` after the end marker.
    ///
    /// Values a mask drops decode as 0, so `values` equals what the operator's
    /// `measure(x, seed, y)` wrote on the device. On error the reader does not advance
    /// (calling again returns the same error) and the contents of `values` are
    /// unspecified.
    pub fn next_record(&mut self, values: &mut [f32]) -> Result<Option<RecordInfo>, RecordError> {
        if self.ended {
            return Ok(None);
        }
        let expected = self.op.output_len();
        if values.len() != expected {
            return Err(RecordError::LengthMismatch {
                what: "values",
                expected,
                actual: values.len(),
            });
        }
        if self.pos == self.stream.len() {
            return Err(RecordError::MissingEnd {
                records: self.records,
            });
        }

        let count = Fields::new(item(self.stream, self.pos, 4)?, self.pos).u32()?;
        if count == END_MARKER {
            self.read_end()?;
            self.ended = true;
            return Ok(None);
        }
        let (info, len) = self.decode_record(count, values)?;
        self.pos += len;
        self.records += 1;
        Ok(Some(info))
    }

    /// Checks the record at `self.pos`, which contains `count` values, decodes it into
    /// `values` and returns its info and length.
    fn decode_record(
        &self,
        count: u32,
        values: &mut [f32],
    ) -> Result<(RecordInfo, usize), RecordError> {
        let record = self.records;
        let max = values.len();
        let n = usize::try_from(count)
            .ok()
            .filter(|&n| n <= max)
            .ok_or(RecordError::InvalidValueCount { record, count, max })?;
        // n <= output_len, whose record length the writer and reader both keep in range.
        let len = n
            .checked_mul(4)
            .and_then(|b| b.checked_add(RECORD_OVERHEAD))
            .ok_or(RecordError::InvalidValueCount { record, count, max })?;
        let bytes = item(self.stream, self.pos, len)?;
        let (body, crc_bytes) = bytes.split_at(len - 4);
        let stored = Fields::new(crc_bytes, self.pos + len - 4).u32()?;
        let computed = crc32(body);
        if stored != computed {
            return Err(RecordError::BadRecordCrc {
                record,
                stored,
                computed,
            });
        }

        let mut f = Fields::new(&body[4..], self.pos + 4);
        let seed = f.u64()?;
        let label = match f.u32()? {
            NO_LABEL => None,
            l => Some(l),
        };
        self.check_label(label)?;
        let stored_values = &body[16..];
        match self.storage {
            Storage::Dense => decode_dense(record, stored_values, values)?,
            Storage::Survivors => decode_survivors(&self.op, record, seed, stored_values, values)?,
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(RecordError::NonFiniteValue { record, index });
        }
        Ok((RecordInfo { seed, label }, len))
    }

    fn check_label(&self, label: Option<u32>) -> Result<(), RecordError> {
        let classes = self.header.classes;
        let ok = match label {
            None => classes == 0,
            Some(l) => l < classes,
        };
        if ok {
            Ok(())
        } else {
            Err(RecordError::InvalidLabel {
                record: self.records,
                label,
                classes,
            })
        }
    }

    /// Checks the end marker at `self.pos` and that nothing follows it.
    fn read_end(&self) -> Result<(), RecordError> {
        let bytes = item(self.stream, self.pos, END_LEN)?;
        let (body, crc_bytes) = bytes.split_at(END_LEN - 4);
        let stored = Fields::new(crc_bytes, self.pos + END_LEN - 4).u32()?;
        let computed = crc32(body);
        if stored != computed {
            return Err(RecordError::BadEndCrc { stored, computed });
        }
        let count = Fields::new(&body[4..], self.pos + 4).u64()?;
        if count != self.records {
            return Err(RecordError::RecordCountMismatch {
                stored: count,
                actual: self.records,
            });
        }
        let end = self.pos + END_LEN;
        if end != self.stream.len() {
            return Err(RecordError::TrailingBytes { offset: end });
        }
        Ok(())
    }
}

/// Copies all `output_len()` stored values.
fn decode_dense(record: u64, stored: &[u8], values: &mut [f32]) -> Result<(), RecordError> {
    let actual = stored.len() / 4;
    if actual != values.len() {
        return Err(RecordError::ValueCountMismatch {
            record,
            expected: values.len(),
            actual,
        });
    }
    for (v, bytes) in values.iter_mut().zip(stored.chunks_exact(4)) {
        *v = f32::from_bits(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
    }
    Ok(())
}

/// Regenerates the mask of `seed` in `values`, checks that it keeps as many values as are
/// stored, and puts each stored value where the mask keeps one.
fn decode_survivors(
    op: &Operator,
    record: u64,
    seed: u64,
    stored: &[u8],
    values: &mut [f32],
) -> Result<(), RecordError> {
    let kept = fill_mask(op, seed, values)?;
    let actual = stored.len() / 4;
    if kept != actual {
        return Err(RecordError::ValueCountMismatch {
            record,
            expected: kept,
            actual,
        });
    }
    let mut survivors = stored.chunks_exact(4);
    for v in values.iter_mut() {
        if *v != 0.0 {
            *v = match survivors.next() {
                Some(b) => f32::from_bits(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                None => 0.0,
            };
        }
    }
    Ok(())
}
