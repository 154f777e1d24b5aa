//! Reading NumPy `.npy` arrays of f32 (or f64, converted), as `sample` writes them.
//!
//! Versions 1.0 (a `u16` header length), 2.0 and 3.0 (a `u32` one) are read. The header's
//! dict must give `descr` `<f4` or `<f8`, `fortran_order` False and a shape tuple. Every size is
//! checked against the file's length before anything is allocated.

use std::path::Path;

use super::EvalError;

/// A C-order f32 array.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The values in C order.
    pub data: Vec<f32>,
}

/// Reads the `.npy` file at `path`.
pub fn read_npy(path: &Path) -> Result<NpyArray, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(&bytes).map_err(|reason| EvalError::Npy {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses the bytes of a `.npy` file. The error describes the first problem found.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("no .npy magic (\\x93NUMPY) at the start".into());
    }
    let (header_start, header_len): (usize, usize) = match bytes[6] {
        1 => (10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (12, usize::try_from(len).map_err(|_| "header too long")?)
        }
        major => return Err(format!("unsupported format version {major}")),
    };
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or("the header runs past the end of the file")?;
    let header = std::str::from_utf8(&bytes[header_start..data_start])
        .map_err(|_| "the header is not text")?;

    let descr = dict_value(header, "descr").ok_or("the header has no 'descr'")?;
    let width = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => 4,
        "<f8" => 8,
        other => return Err(format!("dtype {other} is not little-endian f32 or f64")),
    };
    if dict_value(header, "fortran_order").map(str::trim) != Some("False") {
        return Err("only C-order arrays (fortran_order False) are supported".into());
    }
    let shape = parse_shape(header)?;

    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("the shape's element count overflows")?;
    let expected = count
        .checked_mul(width)
        .ok_or("the shape's byte count overflows")?;
    let data = &bytes[data_start..];
    if data.len() != expected {
        return Err(format!(
            "shape {shape:?} needs {expected} data bytes, the file has {}",
            data.len()
        ));
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    Ok(NpyArray {
        shape,
        data: values,
    })
}

/// Returns the raw text of `key`'s value in the header dict, up to the next top-level
/// comma or the closing brace.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let at = quoted
        .iter()
        .find_map(|q| header.find(q.as_str()).map(|i| i + q.len()))?;
    let rest = header[at..].trim_start().strip_prefix(':')?;
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
}

fn parse_shape(header: &str) -> Result<Vec<usize>, String> {
    let value = dict_value(header, "shape").ok_or("the header has no 'shape'")?;
    let inner = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| format!("shape {value} is not a tuple"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<usize>()
                .map_err(|_| format!("shape entry {d} is not a size"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_io::encode_npy;

    #[test]
    fn reads_what_sample_writes() {
        let values: Vec<f32> = (0..24).map(|i| i as f32 / 8.0).collect();
        let bytes = encode_npy(&[2, 3, 4], &values).unwrap();
        let array = parse_npy(&bytes).unwrap();
        assert_eq!(array.shape, vec![2, 3, 4]);
        assert_eq!(array.data, values);
    }

    #[test]
    fn reads_one_dimension() {
        let bytes = encode_npy(&[3], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(parse_npy(&bytes).unwrap().shape, vec![3]);
    }

    #[test]
    fn rejects_truncated_data() {
        let bytes = encode_npy(&[2, 2], &[0.0; 4]).unwrap();
        let error = parse_npy(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(error.contains("needs 16 data bytes"), "{error}");
    }

    /// Replaces the first occurrence of `from` in `bytes` by `to`, of the same length.
    fn replace_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        let mut out = bytes.to_vec();
        out[at..at + to.len()].copy_from_slice(to);
        out
    }

    #[test]
    fn rejects_other_dtypes_and_order() {
        let bytes = encode_npy(&[2], &[0.0; 2]).unwrap();
        let int = replace_bytes(&bytes, b"<f4", b"<i4");
        assert!(parse_npy(&int).unwrap_err().contains("<i4"));
        let fortran = replace_bytes(&bytes, b"False", b"True ");
        assert!(parse_npy(&fortran).unwrap_err().contains("C-order"));
        assert!(parse_npy(b"not an array").unwrap_err().contains("magic"));
    }

    #[test]
    fn rejects_header_past_end() {
        let mut bytes = encode_npy(&[1], &[0.0]).unwrap();
        bytes[8] = 0xff;
        bytes[9] = 0xff;
        assert!(parse_npy(&bytes).unwrap_err().contains("past the end"));
    }

    /// Builds a version 1.0 file with the header dict `dict` and the data bytes `data`.
    fn npy_with_header(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn rejects_overflowing_shape() {
        let dict =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 9999), }";
        let error = parse_npy(&npy_with_header(dict, &[0; 4])).unwrap_err();
        assert!(error.contains("overflow"), "{error}");
    }

    #[test]
    fn reads_f64_and_version_2() {
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
        let mut data = 0.5f64.to_le_bytes().to_vec();
        data.extend_from_slice(&(-2.0f64).to_le_bytes());
        let array = parse_npy(&npy_with_header(dict, &data)).unwrap();
        assert_eq!(array.data, vec![0.5, -2.0]);

        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        v2.extend_from_slice(dict.as_bytes());
        v2.extend_from_slice(&data);
        assert_eq!(parse_npy(&v2).unwrap().shape, vec![2]);
    }
}
