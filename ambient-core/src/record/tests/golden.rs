//! Value-stability tests: the bytes of a fixed header, record and end marker are pinned.
//!
//! The expected bytes were produced independently of this crate by a Python script. It packs
//! the documented layout with `struct.pack('<...')` and checksums it with `zlib.crc32`. For
//! the record it also replays PCG32 (`pcg32_srandom_r` with the sampler's stream) and the
//! Block-Pixels rule `uniform >= p` in plain Python.

use std::vec;

use super::support::{block_pixels, measure, ramp, read_stream, write_stream};
use crate::measure::{MeasurementKind, MeasurementParams};
use crate::record::{crc32, RecordHeader, RecordWriter};
use crate::Shape;

/// Block-Pixels with the default parameters (p = 0.9, rescale, per-channel masks, and the
/// defaults of every other kind's parameters), 1×28×28 images in [0, 1], 10 classes.
const MNIST_HEADER: [u8; 76] = [
    0x41, 0x4d, 0x42, 0x52, 0x01, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00, //
    0x01, 0x03, 0x00, 0x00, 0x66, 0x66, 0x66, 0x3f, 0x00, 0x00, 0x80, 0x3f, //
    0xcd, 0xcc, 0xcc, 0x3d, 0x0e, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, //
    0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, //
    0x01, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x0a, 0x00, 0x00, 0x00, //
    0xcd, 0x7f, 0x4e, 0x0b,
];

#[test]
fn header_bytes_are_stable() {
    let header = RecordHeader::new(
        MeasurementKind::BlockPixels,
        MeasurementParams::default(),
        Shape::new(1, 28, 28),
    )
    .with_classes(10);
    let writer = RecordWriter::new(header).unwrap();
    let mut out = [0u8; 76];
    assert_eq!(writer.write_header(&mut out).unwrap(), 76);
    assert_eq!(out, MNIST_HEADER);
    assert_eq!(crc32(&out[..72]), 0x0b4e_7fcd);
}

/// The record of seed 9 for the 1×4×4 image `(i + 1) / 16` under Block-Pixels p = 0.5
/// with rescaling: 9 survivors, each `2 · x[i]`.
const SEED9_RECORD: &str = "090000000900000000000000ffffffff0000803e0000c03e0000203f0000603f\
                            0000903f0000c03f0000d03f0000e03f0000004038ad9abc";

const END_OF_THREE: &str = "ffffffff03000000000000001cf87071";

#[test]
fn record_bytes_are_stable() {
    let header = block_pixels(Shape::new(1, 4, 4), 0.5, true, true);
    let y = measure(&header, &ramp(16), 9);
    let mut writer = RecordWriter::new(header).unwrap();
    let mut out = vec![0u8; writer.max_record_len()];
    let n = writer.write_record(9, None, &y, &mut out).unwrap();
    assert_eq!(hex(&out[..n]), SEED9_RECORD);
}

#[test]
fn end_marker_bytes_are_stable() {
    let header = block_pixels(Shape::new(1, 2, 2), 0.5, true, true);
    let stream = write_stream(
        header,
        &[(1, None, ramp(4)), (2, None, ramp(4)), (3, None, ramp(4))],
    );
    assert_eq!(hex(&stream[stream.len() - 16..]), END_OF_THREE);
    assert_eq!(read_stream(&stream).unwrap().len(), 3);
}

fn hex(bytes: &[u8]) -> std::string::String {
    use core::fmt::Write;
    let mut s = std::string::String::new();
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}
