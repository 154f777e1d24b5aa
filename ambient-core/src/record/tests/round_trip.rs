//! Write-then-read returns what the device measured; the writer checks its inputs.

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::support::{block_pixels, measure, ramp, read_stream, write_stream};
use crate::measure::{Measurement, MeasurementKind, MeasurementParams, Operator};
use crate::record::mask::for_each_kept;
use crate::record::{RecordError, RecordHeader, RecordWriter, Storage, RECORD_OVERHEAD};
use crate::Shape;

fn shapes() -> impl Strategy<Value = Shape> {
    (1usize..=3, 1usize..=9, 1usize..=9).prop_map(|(c, h, w)| Shape::new(c, h, w))
}

/// The kinds stored as survivors.
fn mask_kinds() -> impl Strategy<Value = MeasurementKind> {
    prop_oneof![
        Just(MeasurementKind::BlockPixels),
        Just(MeasurementKind::DropRow),
        Just(MeasurementKind::DropCol),
        Just(MeasurementKind::DropRowCol),
    ]
}

/// Builds a header of `kind` with small parameters that fit images of at least 3×3.
fn small_header(kind: MeasurementKind, shape: Shape) -> RecordHeader {
    let params = MeasurementParams {
        p: 0.5,
        patch: 2,
        kernel_size: 3,
        sigma: 0.8,
        noise_std: 0.05,
        angles: 3,
        projections: 7,
        ..MeasurementParams::default()
    };
    RecordHeader::new(kind, params, shape)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mask_kinds_round_trip_equals_measure(
        kind in mask_kinds(),
        shape in shapes(),
        p in 0.0f32..0.99,
        rescale: bool,
        per_channel: bool,
        seeds in proptest::collection::vec(any::<u64>(), 0..5),
        pixel_seed: u64,
    ) {
        let mut header = block_pixels(shape, p, rescale, per_channel).with_classes(4);
        header.kind = kind;
        let len = shape.checked_len().unwrap();
        let images: Vec<_> = seeds
            .iter()
            .enumerate()
            .map(|(i, &seed)| {
                let x: Vec<f32> = (0..len)
                    .map(|j| ((pixel_seed >> (j % 61)) as u8) as f32 / 255.0)
                    .collect();
                (seed, Some(i as u32 % 4), x)
            })
            .collect();

        let stream = write_stream(header, &images);
        let read = read_stream(&stream).unwrap();

        prop_assert_eq!(read.len(), images.len());
        for (got, (seed, label, x)) in read.iter().zip(&images) {
            prop_assert_eq!(got.seed, *seed);
            prop_assert_eq!(got.label, *label);
            let y = measure(&header, x, *seed);
            prop_assert_eq!(bits(&got.y), bits(&y));
        }
    }

    #[test]
    fn mask_visitor_matches_theta(
        kind in mask_kinds(),
        shape in shapes(),
        p in 0.0f32..0.99,
        per_channel: bool,
        seed: u64,
    ) {
        let mut header = block_pixels(shape, p, false, per_channel);
        header.kind = kind;
        let op = Operator::new(header.kind, shape, &header.params).unwrap();
        let mut theta = vec![0.0; op.theta_len()];
        op.theta(seed, &mut theta).unwrap();

        let mut visited = vec![None; theta.len()];
        let mut order = Vec::new();
        for_each_kept(&op, seed, |i, kept| {
            order.push(i);
            visited[i] = Some(kept);
        })
        .unwrap();
        prop_assert_eq!(order, (0..theta.len()).collect::<Vec<_>>());
        for (i, (v, t)) in visited.iter().zip(&theta).enumerate() {
            prop_assert_eq!(*v, Some(*t != 0.0), "value {}", i);
        }
    }

    #[test]
    fn every_kind_round_trips(
        kind in proptest::sample::select(MeasurementKind::ALL.to_vec()),
        (c, h, w) in (1usize..=2, 3usize..=7, 3usize..=7),
        seeds in proptest::collection::vec(any::<u64>(), 1..4),
    ) {
        let shape = Shape::new(c, h, w);
        let header = small_header(kind, shape);
        let images: Vec<_> = seeds.iter().map(|&s| (s, None, ramp(c * h * w))).collect();

        let stream = write_stream(header, &images);
        let read = read_stream(&stream).unwrap();

        prop_assert_eq!(read.len(), images.len());
        for (got, (seed, _, x)) in read.iter().zip(&images) {
            let y = measure(&header, x, *seed);
            prop_assert_eq!(got.seed, *seed);
            prop_assert_eq!(bits(&got.y), bits(&y));
        }
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn dense_record_stores_every_value() {
    let shape = Shape::new(1, 4, 4);
    for kind in MeasurementKind::ALL {
        let header = small_header(kind, shape);
        let y = measure(&header, &ramp(16), 3);
        let mut writer = RecordWriter::new(header).unwrap();
        let mut buf = vec![0u8; writer.max_record_len()];
        let n = writer.write_record(3, None, &y, &mut buf).unwrap();

        let stored = u32::from_le_bytes(buf[0..4].try_into().unwrap()) as usize;
        assert_eq!(n, RECORD_OVERHEAD + 4 * stored, "{kind:?}");
        match Storage::of(kind) {
            Storage::Dense => assert_eq!(stored, y.len(), "{kind:?}"),
            Storage::Survivors => {
                let nonzero = y.iter().filter(|&&v| v != 0.0).count();
                assert_eq!(stored, nonzero, "{kind:?}: ramp values are nonzero");
            }
        }
    }
}

#[test]
fn record_stores_only_survivors() {
    let shape = Shape::new(1, 4, 4);
    let header = block_pixels(shape, 0.5, true, true);
    let x = ramp(16);
    let y = measure(&header, &x, 9);
    let survivors: Vec<f32> = y.iter().copied().filter(|&v| v != 0.0).collect();
    assert!(
        !survivors.is_empty() && survivors.len() < 16,
        "seed 9 keeps some, drops some"
    );

    let mut writer = RecordWriter::new(header).unwrap();
    let mut buf = vec![0u8; writer.max_record_len()];
    let n = writer.write_record(9, None, &y, &mut buf).unwrap();

    assert_eq!(n, RECORD_OVERHEAD + 4 * survivors.len());
    assert_eq!(&buf[0..4], &(survivors.len() as u32).to_le_bytes());
    assert_eq!(&buf[4..12], &9u64.to_le_bytes());
    assert_eq!(&buf[12..16], &u32::MAX.to_le_bytes());
    for (k, v) in survivors.iter().enumerate() {
        assert_eq!(
            &buf[16 + 4 * k..20 + 4 * k],
            &v.to_le_bytes(),
            "survivor {k}"
        );
    }
    let crc = crate::record::crc32(&buf[..n - 4]);
    assert_eq!(&buf[n - 4..n], &crc.to_le_bytes());
}

#[test]
fn sizes_are_exact() {
    let writer = RecordWriter::new(block_pixels(Shape::new(3, 8, 5), 0.9, true, true)).unwrap();
    assert_eq!(writer.header_len(), 76);
    assert_eq!(writer.max_record_len(), 20 + 4 * 120);
    assert_eq!(writer.end_len(), 16);
}

#[test]
fn p_zero_keeps_every_value() {
    let shape = Shape::new(2, 3, 3);
    let header = block_pixels(shape, 0.0, true, false);
    let stream = write_stream(header, &[(5, None, ramp(18))]);
    let header_and_end = 76 + 16;
    assert_eq!(stream.len(), header_and_end + 20 + 4 * 18);
    assert_eq!(read_stream(&stream).unwrap()[0].y, ramp(18));
}

#[test]
fn empty_stream_has_header_and_end() {
    let stream = write_stream(block_pixels(Shape::new(1, 2, 2), 0.5, true, true), &[]);
    assert_eq!(stream.len(), 76 + 16);
    assert_eq!(read_stream(&stream).unwrap(), vec![]);
}

#[test]
fn writer_rejects_mask_of_another_seed() {
    let header = block_pixels(Shape::new(1, 4, 4), 0.5, true, true);
    let y = measure(&header, &ramp(16), 1);
    let mut writer = RecordWriter::new(header).unwrap();
    let mut buf = vec![0u8; writer.max_record_len()];

    // Seeds 1 and 2 draw different masks over these 16 pixels, so some value seed 2
    // drops is nonzero in y.
    let err = writer.write_record(2, None, &y, &mut buf).unwrap_err();
    assert!(matches!(err, RecordError::MaskMismatch { .. }), "{err:?}");
    assert_eq!(writer.records(), 0);
}

#[test]
fn writer_checks_labels_against_classes() {
    let shape = Shape::new(1, 2, 2);
    let y = [0.0; 4];
    let mut buf = [0u8; 64];

    let mut unlabelled = RecordWriter::new(block_pixels(shape, 0.5, true, true)).unwrap();
    assert_eq!(
        unlabelled.write_record(0, Some(0), &y, &mut buf),
        Err(RecordError::InvalidLabel {
            record: 0,
            label: Some(0),
            classes: 0
        })
    );

    let header = block_pixels(shape, 0.5, true, true).with_classes(10);
    let mut labelled = RecordWriter::new(header).unwrap();
    assert_eq!(
        labelled.write_record(0, Some(10), &y, &mut buf),
        Err(RecordError::InvalidLabel {
            record: 0,
            label: Some(10),
            classes: 10
        })
    );
    assert_eq!(
        labelled.write_record(0, None, &y, &mut buf),
        Err(RecordError::InvalidLabel {
            record: 0,
            label: None,
            classes: 10
        })
    );
    assert!(labelled.write_record(0, Some(9), &y, &mut buf).is_ok());
}

#[test]
fn writer_rejects_bad_slices() {
    let header = block_pixels(Shape::new(1, 2, 2), 0.5, true, true);
    let mut writer = RecordWriter::new(header).unwrap();
    let mut buf = [0u8; 100];

    assert_eq!(
        writer.write_record(0, None, &[0.0; 3], &mut buf),
        Err(RecordError::LengthMismatch {
            what: "y",
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(
        writer.write_record(0, None, &[0.0, f32::NAN, 0.0, 0.0], &mut buf),
        Err(RecordError::NonFiniteValue {
            record: 0,
            index: 1
        })
    );
    assert_eq!(
        writer.write_header(&mut buf[..75]),
        Err(RecordError::BufferTooSmall {
            needed: 76,
            available: 75
        })
    );
    assert_eq!(
        writer.write_end(&mut buf[..15]),
        Err(RecordError::BufferTooSmall {
            needed: 16,
            available: 15
        })
    );
}

#[test]
fn writer_reports_exact_need_of_small_buffer() {
    let header = block_pixels(Shape::new(1, 4, 4), 0.0, true, true);
    let mut writer = RecordWriter::new(header).unwrap();
    let y = ramp(16);
    let mut buf = vec![0u8; 50];
    assert_eq!(
        writer.write_record(3, None, &y, &mut buf),
        Err(RecordError::BufferTooSmall {
            needed: 84,
            available: 50
        })
    );
    assert_eq!(writer.records(), 0);
}

#[test]
fn writer_rejects_invalid_header() {
    let shape = Shape::new(1, 4, 4);
    let bad_p = block_pixels(shape, 1.0, true, true);
    assert!(matches!(
        RecordWriter::new(bad_p),
        Err(RecordError::InvalidParams(
            crate::measure::MeasureError::InvalidProbability { .. }
        ))
    ));

    let empty_range = block_pixels(shape, 0.5, true, true)
        .with_range(crate::record::ValueRange { lo: 1.0, hi: 1.0 });
    assert_eq!(
        RecordWriter::new(empty_range).unwrap_err(),
        RecordError::InvalidHeaderField { field: "range" }
    );

    let mut huge_pad = block_pixels(shape, 0.5, true, true);
    huge_pad.params.pad = Some(u32::MAX as usize);
    assert_eq!(
        RecordWriter::new(huge_pad).unwrap_err(),
        RecordError::InvalidHeaderField { field: "pad" }
    );
}
