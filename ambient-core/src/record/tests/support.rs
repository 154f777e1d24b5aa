//! Helpers shared by the record tests: building streams and reading them back whole.

use std::vec;
use std::vec::Vec;

use crate::measure::{Measurement, MeasurementKind, MeasurementParams};
use crate::record::{RecordError, RecordHeader, RecordInfo, RecordReader, RecordWriter};
use crate::Shape;

/// One measured image as read back from a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub seed: u64,
    pub label: Option<u32>,
    pub y: Vec<f32>,
}

/// Measures each of `images` with its seed and writes a whole stream (header, records,
/// end marker), checking each piece's length against the writer's exact sizes.
pub fn write_stream(header: RecordHeader, images: &[(u64, Option<u32>, Vec<f32>)]) -> Vec<u8> {
    let mut writer = RecordWriter::new(header).unwrap();
    let mut stream = vec![0u8; writer.header_len()];
    assert_eq!(
        writer.write_header(&mut stream).unwrap(),
        writer.header_len()
    );

    for (seed, label, x) in images {
        let mut y = vec![0.0; writer.operator().output_len()];
        writer.operator().measure(x, *seed, &mut y).unwrap();
        let mut buf = vec![0u8; writer.max_record_len()];
        let n = writer.write_record(*seed, *label, &y, &mut buf).unwrap();
        assert!(n <= writer.max_record_len());
        stream.extend_from_slice(&buf[..n]);
    }

    let mut end = vec![0u8; writer.end_len()];
    assert_eq!(writer.write_end(&mut end).unwrap(), writer.end_len());
    stream.extend_from_slice(&end);
    stream
}

/// Reads every record of `stream`, or returns the first error.
pub fn read_stream(stream: &[u8]) -> Result<Vec<Measured>, RecordError> {
    let mut reader = RecordReader::new(stream)?;
    let mut values = vec![0.0; reader.output_len()];
    let mut out = Vec::new();
    while let Some(RecordInfo { seed, label }) = reader.next_record(&mut values)? {
        out.push(Measured {
            seed,
            label,
            y: values.clone(),
        });
    }
    Ok(out)
}

/// Measures `x` with `seed` through the header's operator.
pub fn measure(header: &RecordHeader, x: &[f32], seed: u64) -> Vec<f32> {
    let writer = RecordWriter::new(*header).unwrap();
    let mut y = vec![0.0; writer.operator().output_len()];
    writer.operator().measure(x, seed, &mut y).unwrap();
    y
}

/// Builds a Block-Pixels header for unlabelled images in [0, 1].
pub fn block_pixels(shape: Shape, p: f32, rescale: bool, per_channel: bool) -> RecordHeader {
    let params = MeasurementParams {
        p,
        rescale,
        per_channel,
        ..MeasurementParams::default()
    };
    RecordHeader::new(MeasurementKind::BlockPixels, params, shape)
}

/// Returns an image of `len` distinct nonzero values `(i + 1) / len`.
pub fn ramp(len: usize) -> Vec<f32> {
    (0..len).map(|i| (i + 1) as f32 / len as f32).collect()
}

/// Writes a small valid stream: three labelled 1×4×4 Block-Pixels records and the end
/// marker.
pub fn small_stream() -> Vec<u8> {
    let header = block_pixels(Shape::new(1, 4, 4), 0.5, true, true).with_classes(3);
    let images = [
        (11, Some(0), ramp(16)),
        (12, Some(2), ramp(16)),
        (13, Some(1), ramp(16)),
    ];
    write_stream(header, &images)
}

/// Recomputes the header CRC after a test edited header bytes.
pub fn reseal_header(stream: &mut [u8], header_len: usize) {
    let crc = crate::record::crc32(&stream[..header_len - 4]);
    stream[header_len - 4..header_len].copy_from_slice(&crc.to_le_bytes());
}
