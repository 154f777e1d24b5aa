//! The NumPy `.npy` format, version 1.0, for little-endian f32 arrays.
//!
//! Layout: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian `u16` header length,
//! then an ASCII Python dict `{'descr': '<f4', 'fortran_order': False, 'shape': (...), }`
//! padded with spaces and ended by `\n` so that the data starts at a multiple of 64 bytes,
//! then the values in C order.

use std::path::Path;

use super::ImageIoError;

/// Encodes `data`, shaped `shape` in C order, as a `.npy` file.
///
/// Returns an error when `data` does not hold exactly the product of `shape` values.
pub fn encode_npy(shape: &[usize], data: &[f32]) -> Result<Vec<u8>, ImageIoError> {
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected != Some(data.len()) {
        return Err(ImageIoError::Shape {
            shape: shape.iter().map(|&d| d as i64).collect(),
            reason: "the array's values do not match its shape",
        });
    }

    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');

    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for value in data {
        out.extend_from_slice(&value.to_le_bytes());
    }
    Ok(out)
}

/// Writes `data`, shaped `shape`, to a `.npy` file at `path`.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), ImageIoError> {
    let bytes = encode_npy(shape, data)?;
    std::fs::write(path, bytes).map_err(|source| ImageIoError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_pads_to_64_bytes() {
        let bytes = encode_npy(&[2, 1, 2, 2], &[0.0; 8]).unwrap();
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(
            header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2, 2), }")
        );
        assert!(header.ends_with('\n'));
        assert_eq!(bytes.len(), 10 + header_len + 32);
    }

    #[test]
    fn one_dimension_has_trailing_comma() {
        let bytes = encode_npy(&[3], &[1.0, 2.0, 3.0]).unwrap();
        let text = String::from_utf8_lossy(&bytes[10..74]).to_string();
        assert!(text.contains("'shape': (3,)"));
        assert_eq!(&bytes[bytes.len() - 4..], &3.0f32.to_le_bytes());
    }

    #[test]
    fn rejects_wrong_length() {
        assert!(encode_npy(&[2, 2], &[0.0; 3]).is_err());
    }
}
