//! The IDX loader on files written here in the real format (plain and gzipped), on the
//! built-in MNIST subset, and on corrupt files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ambient_host::data::idx::{encode_idx, read_idx};
use ambient_host::data::mnist::{load_split, Split};
use ambient_host::data::{builtin_dir, DataError};
use flate2::write::GzEncoder;
use flate2::Compression;

/// A fresh folder under cargo's per-target temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("idx_loader")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Three 2×3 images with pixel values 0, 1, ..., 17 and labels 4, 0, 9.
fn tiny_set() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..18).collect();
    let images = encode_idx(&[3, 2, 3], &pixels).unwrap();
    let labels = encode_idx(&[3], &[4, 0, 9]).unwrap();
    (images, labels)
}

fn check_tiny(dir: &Path) {
    let set = load_split(dir, Split::Train).unwrap();
    assert_eq!(set.len(), 3);
    let shape = set.shape();
    assert_eq!((shape.channels, shape.height, shape.width), (1, 2, 3));
    assert_eq!(set.labels(), Some([4u8, 0, 9].as_slice()));
    assert_eq!(set.images().size(), vec![3, 1, 2, 3]);
    let values = Vec::<f32>::try_from(set.images().flatten(0, -1)).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(*v, i as f32 / 255.0, "pixel {i}");
    }
}

#[test]
fn plain_files_load() {
    let dir = scratch("plain");
    let (images, labels) = tiny_set();
    fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
    check_tiny(&dir);
}

#[test]
fn gzipped_files_load() {
    let dir = scratch("gzipped");
    let (images, labels) = tiny_set();
    fs::write(dir.join("train-images-idx3-ubyte.gz"), gzip(&images)).unwrap();
    fs::write(dir.join("train-labels-idx1-ubyte.gz"), gzip(&labels)).unwrap();
    check_tiny(&dir);
}

#[test]
fn gzip_detected_by_content() {
    // A gzipped file without the .gz suffix is still decompressed.
    let dir = scratch("content");
    let (images, _) = tiny_set();
    fs::write(dir.join("train-images-idx3-ubyte"), gzip(&images)).unwrap();
    let set = load_split(&dir, Split::Train).unwrap();
    assert_eq!(set.len(), 3);
    assert!(set.labels().is_none());
}

#[test]
fn builtin_set_matches_golden_values() {
    // Golden values from Python: gzip.open(...).read() on the same files; labels[:10],
    // sum(labels) and the pixel sum of image 0.
    let train = load_split(&builtin_dir(), Split::Train).unwrap();
    assert_eq!(train.len(), 9000);
    let labels = train.labels().unwrap();
    assert_eq!(&labels[..10], &[9, 3, 7, 0, 9, 7, 7, 9, 6, 5]);
    assert_eq!(labels.iter().map(|&l| u64::from(l)).sum::<u64>(), 39_993);
    let first = train
        .images()
        .get(0)
        .sum(tch::Kind::Double)
        .double_value(&[]);
    // Each pixel is v / 255 in f32, so the sum carries rounding of about 1e-4.
    assert!(
        (first * 255.0 - 28_397.0).abs() < 1e-2,
        "pixel sum {}",
        first * 255.0
    );
    let max = train.images().max().double_value(&[]);
    let min = train.images().min().double_value(&[]);
    assert_eq!((min, max), (0.0, 1.0));

    let test = load_split(&builtin_dir(), Split::Test).unwrap();
    assert_eq!(test.len(), 1000);
    assert_eq!(
        &test.labels().unwrap()[..10],
        &[0, 4, 7, 7, 5, 8, 0, 1, 9, 2]
    );
}

fn write_and_read(name: &str, bytes: &[u8]) -> Result<(), DataError> {
    let dir = scratch(name);
    let path = dir.join("file-idx3-ubyte");
    fs::write(&path, bytes).unwrap();
    read_idx(&path).map(|_| ())
}

#[test]
fn bad_magic_rejected() {
    let mut bytes = tiny_set().0;
    bytes[0] = 0x12;
    let err = write_and_read("magic", &bytes).unwrap_err();
    assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("file-idx3-ubyte"), "{err}");
}

#[test]
fn element_type_rejected() {
    let mut bytes = tiny_set().0;
    bytes[2] = 0x0d; // float
    let err = write_and_read("element", &bytes).unwrap_err();
    assert!(
        matches!(err, DataError::UnsupportedElementType { code: 0x0d, .. }),
        "{err}"
    );
}

#[test]
fn truncated_data_rejected() {
    let bytes = tiny_set().0;
    let err = write_and_read("truncated", &bytes[..bytes.len() - 5]).unwrap_err();
    match err {
        DataError::Truncated {
            expected, found, ..
        } => {
            assert_eq!(expected, 16 + 18);
            assert_eq!(found, 16 + 13);
        }
        other => panic!("expected Truncated, got {other}"),
    }
}

#[test]
fn truncated_header_rejected() {
    let bytes = tiny_set().0;
    let err = write_and_read("header", &bytes[..9]).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 16,
                found: 9,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn dims_not_matching_size_rejected() {
    let mut bytes = tiny_set().0;
    bytes.extend_from_slice(&[0; 7]);
    let err = write_and_read("trailing", &bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::SizeMismatch {
                expected: 34,
                found: 41,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn overflowing_dims_rejected() {
    let bytes = encode_idx(&[u32::MAX as usize; 3], &[]).unwrap();
    let err = write_and_read("overflow", &bytes).unwrap_err();
    // (2^32 - 1)^3 exceeds u64::MAX, so the product overflows on every target.
    assert!(matches!(err, DataError::SizeOverflow { .. }), "{err}");
}

#[test]
fn corrupt_gzip_rejected() {
    let gz = gzip(&tiny_set().0);
    let err = write_and_read("gzip", &gz[..gz.len() / 2]).unwrap_err();
    assert!(matches!(err, DataError::Gzip { .. }), "{err}");
}

#[test]
fn label_count_mismatch_rejected() {
    let dir = scratch("labels");
    let (images, _) = tiny_set();
    fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    let labels = encode_idx(&[2], &[1, 2]).unwrap();
    fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
    let err = load_split(&dir, Split::Train).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelCount {
                image_count: 3,
                label_count: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn wrong_rank_rejected() {
    let dir = scratch("rank");
    let images = encode_idx(&[18], &[0; 18]).unwrap();
    fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    let err = load_split(&dir, Split::Train).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::WrongRank {
                expected: 3,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn missing_images_named() {
    let dir = scratch("missing");
    let err = load_split(&dir, Split::Test).unwrap_err();
    assert!(matches!(err, DataError::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("t10k-images-idx3-ubyte"), "{err}");
}
