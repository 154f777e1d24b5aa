//! Little-endian reads and writes on byte slices, with every bound checked.

use super::RecordError;

/// Returns the `len` bytes of `stream` at `offset`, or [`RecordError::Truncated`].
pub(crate) fn item(stream: &[u8], offset: usize, len: usize) -> Result<&[u8], RecordError> {
    let truncated = RecordError::Truncated {
        offset,
        needed: len,
        available: stream.len().saturating_sub(offset),
    };
    let end = offset.checked_add(len).ok_or(truncated)?;
    stream.get(offset..end).ok_or(truncated)
}

/// Reads little-endian fields in order from one item of a stream.
pub(crate) struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Stream offset of `bytes`, for errors.
    base: usize,
}

impl<'a> Fields<'a> {
    /// Reads the fields of `bytes`, which start at stream offset `base`.
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            base,
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let chunk = self
            .bytes
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<N>())
            .ok_or(RecordError::Truncated {
                offset: self.base,
                needed: self.pos + N,
                available: self.bytes.len(),
            })?;
        self.pos += N;
        Ok(*chunk)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, RecordError> {
        self.take().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, RecordError> {
        self.take().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, RecordError> {
        self.take().map(u64::from_le_bytes)
    }

    pub(crate) fn f32(&mut self) -> Result<f32, RecordError> {
        self.u32().map(f32::from_bits)
    }
}

/// Writes little-endian fields into a caller buffer whose length was checked up front.
pub(crate) struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Starts writing at the front of `out`.
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        Self { out, pos: 0 }
    }

    /// Appends `bytes`. Bytes past the end of `out` are dropped but counted, so that
    /// [`Writer::finish_with_crc`] can report the length the item needs.
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
        }
        self.pos = end;
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.put(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }

    pub(crate) fn f32(&mut self, v: f32) {
        self.u32(v.to_bits());
    }

    /// Overwrites the `u32` at `offset`, which was written before.
    pub(crate) fn set_u32_at(&mut self, offset: usize, v: u32) {
        if let Some(dst) = self.out.get_mut(offset..offset.saturating_add(4)) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Appends the CRC-32 of everything written so far and returns the total length, or
    /// [`RecordError::BufferTooSmall`] when `out` could not hold it all.
    pub(crate) fn finish_with_crc(mut self) -> Result<usize, RecordError> {
        let needed = self.pos.saturating_add(4);
        let written = match self.out.get(..self.pos) {
            Some(written) if needed <= self.out.len() => written,
            _ => {
                return Err(RecordError::BufferTooSmall {
                    needed,
                    available: self.out.len(),
                })
            }
        };
        let crc = crate::crc32::crc32(written);
        self.u32(crc);
        Ok(self.pos)
    }
}
