//! The IDX file format of MNIST and Fashion-MNIST, gzipped or plain.
//!
//! An IDX file is a 4-byte magic number `00 00 TT NN` (element type `TT`, `NN` dimensions),
//! `NN` big-endian `u32` extents, then the elements in row-major order. A file that starts
//! with the gzip magic `1f 8b` is decompressed first, so `.gz` and plain files both work
//! whatever their names.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::DataError;

/// The IDX element type code of unsigned bytes.
const UNSIGNED_BYTE: u8 = 0x08;

/// The largest decompressed file read (4 GiB); a larger one is treated as malformed.
const MAX_DECOMPRESSED: u64 = 4 << 30;

/// An IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The extents, outermost first (`[count, rows, columns]` for MNIST images).
    pub dims: Vec<usize>,
    /// The elements in row-major order; exactly the product of `dims` bytes.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, decompressing it when it is gzipped.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(path, &raw)?
    } else {
        raw
    };
    parse_idx(path, bytes)
}

fn gunzip(path: &Path, raw: &[u8]) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    let mut reader = GzDecoder::new(raw).take(MAX_DECOMPRESSED + 1);
    match reader.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > MAX_DECOMPRESSED => Err(DataError::SizeOverflow {
            path: path.to_path_buf(),
            dims: Vec::new(),
        }),
        Ok(_) => Ok(out),
        Err(source) => Err(DataError::Gzip {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parses the bytes of an (uncompressed) IDX file; `path` only names it in errors.
pub fn parse_idx(path: &Path, bytes: Vec<u8>) -> Result<IdxArray, DataError> {
    let owned = || path.to_path_buf();
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::BadMagic {
            path: owned(),
            found: bytes.iter().take(4).copied().collect(),
        });
    }
    if bytes[2] != UNSIGNED_BYTE {
        return Err(DataError::UnsupportedElementType {
            path: owned(),
            code: bytes[2],
        });
    }

    let rank = usize::from(bytes[3]);
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(DataError::Truncated {
            path: owned(),
            expected: header_len as u64,
            found: bytes.len() as u64,
        });
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();

    let expected = data_len(path, &dims)?
        .checked_add(header_len)
        .ok_or_else(|| overflow(path, &dims))?;
    check_file_len(path, &dims, expected, bytes.len())?;

    let mut data = bytes;
    data.drain(..header_len);
    Ok(IdxArray { dims, data })
}

fn data_len(path: &Path, dims: &[usize]) -> Result<usize, DataError> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| overflow(path, dims))
}

fn overflow(path: &Path, dims: &[usize]) -> DataError {
    DataError::SizeOverflow {
        path: path.to_path_buf(),
        dims: dims.to_vec(),
    }
}

fn check_file_len(
    path: &Path,
    dims: &[usize],
    expected: usize,
    found: usize,
) -> Result<(), DataError> {
    if found < expected {
        return Err(DataError::Truncated {
            path: PathBuf::from(path),
            expected: expected as u64,
            found: found as u64,
        });
    }
    if found > expected {
        return Err(DataError::SizeMismatch {
            path: PathBuf::from(path),
            dims: dims.to_vec(),
            expected: expected as u64,
            found: found as u64,
        });
    }
    Ok(())
}

/// Encodes an IDX file of unsigned bytes (for tests and tools that write small data sets).
///
/// Returns `None` when a dimension does not fit the format's `u32` or the rank exceeds 255.
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Option<Vec<u8>> {
    let rank = u8::try_from(dims.len()).ok()?;
    let mut out = vec![0, 0, UNSIGNED_BYTE, rank];
    for &d in dims {
        out.extend_from_slice(&u32::try_from(d).ok()?.to_be_bytes());
    }
    out.extend_from_slice(data);
    Some(out)
}
