//! Corrupt, truncated and hand-edited streams give typed errors, never a panic.

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::support::{block_pixels, ramp, read_stream, reseal_header, small_stream, write_stream};
use crate::measure::MeasureError;
use crate::record::{
    crc32, RecordError, RecordReader, Version, END_LEN, HEADER_LEN, VERSION_MAJOR,
};
use crate::Shape;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = read_stream(&bytes);
    }

    #[test]
    fn random_records_after_valid_header_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut stream = small_stream()[..HEADER_LEN].to_vec();
        stream.extend_from_slice(&tail);
        let _ = read_stream(&stream);
    }

    #[test]
    fn random_overwrites_are_detected(offset in 0usize..300, byte: u8) {
        let mut stream = small_stream();
        let offset = offset % stream.len();
        prop_assume!(stream[offset] != byte);
        stream[offset] = byte;
        prop_assert!(read_stream(&stream).is_err());
    }
}

#[test]
fn small_stream_reads_back() {
    let records = read_stream(&small_stream()).unwrap();
    let labels: Vec<_> = records.iter().map(|r| r.label).collect();
    assert_eq!(labels, [Some(0), Some(2), Some(1)]);
}

#[test]
fn every_truncation_is_an_error() {
    let stream = small_stream();
    for len in 0..stream.len() {
        let result = read_stream(&stream[..len]);
        assert!(
            result.is_err(),
            "truncated to {len} bytes read as {result:?}"
        );
    }
}

#[test]
fn truncation_at_record_boundary_is_missing_end() {
    let stream = small_stream();
    let without_end = &stream[..stream.len() - END_LEN];
    assert_eq!(
        read_stream(without_end),
        Err(RecordError::MissingEnd { records: 3 })
    );
}

#[test]
fn truncation_inside_record_names_its_offset() {
    let stream = small_stream();
    let first_record_len = {
        let count = u32::from_le_bytes(stream[76..80].try_into().unwrap()) as usize;
        20 + 4 * count
    };
    let cut = HEADER_LEN + first_record_len - 1;
    assert_eq!(
        read_stream(&stream[..cut]),
        Err(RecordError::Truncated {
            offset: HEADER_LEN,
            needed: first_record_len,
            available: first_record_len - 1
        })
    );
}

#[test]
fn every_bit_flip_is_an_error() {
    let stream = small_stream();
    for byte in 0..stream.len() {
        for bit in 0..8 {
            let mut flipped = stream.clone();
            flipped[byte] ^= 1 << bit;
            let result = read_stream(&flipped);
            assert!(
                result.is_err(),
                "flip of byte {byte} bit {bit} read as {result:?}"
            );
        }
    }
}

#[test]
fn value_bit_flip_is_crc_error() {
    let mut stream = small_stream();
    stream[HEADER_LEN + 16] ^= 0x10;
    assert!(matches!(
        read_stream(&stream),
        Err(RecordError::BadRecordCrc { record: 0, .. })
    ));
}

#[test]
fn bad_magic_is_rejected() {
    let mut stream = small_stream();
    stream[0] = b'X';
    assert_eq!(read_stream(&stream), Err(RecordError::BadMagic));
    assert_eq!(read_stream(b"PK\x03\x04"), Err(RecordError::BadMagic));
    assert!(matches!(
        read_stream(b"AM"),
        Err(RecordError::Truncated { offset: 0, .. })
    ));
}

#[test]
fn newer_major_version_is_rejected() {
    let mut stream = small_stream();
    stream[4..6].copy_from_slice(&(VERSION_MAJOR + 1).to_le_bytes());
    reseal_header(&mut stream, HEADER_LEN);
    assert_eq!(
        read_stream(&stream),
        Err(RecordError::UnsupportedVersion {
            major: VERSION_MAJOR + 1,
            minor: 0
        })
    );
}

#[test]
fn newer_minor_version_with_appended_field_is_read() {
    let original = small_stream();
    let expected = read_stream(&original).unwrap();

    // Version 1.1 with a hypothetical 4-byte field appended before the header CRC.
    let mut stream = Vec::new();
    stream.extend_from_slice(&original[..HEADER_LEN - 4]);
    stream.extend_from_slice(&[0xaa; 4]);
    stream.extend_from_slice(&[0; 4]);
    stream.extend_from_slice(&original[HEADER_LEN..]);
    stream[6..8].copy_from_slice(&1u16.to_le_bytes());
    stream[8..12].copy_from_slice(&80u32.to_le_bytes());
    reseal_header(&mut stream, 80);

    assert_eq!(read_stream(&stream), Ok(expected));
    let reader = RecordReader::new(&stream).unwrap();
    assert_eq!(reader.version(), Version { major: 1, minor: 1 });
    assert_eq!(reader.offset(), 80);
}

#[test]
fn header_length_must_match_version() {
    let mut stream = small_stream();
    stream[8..12].copy_from_slice(&80u32.to_le_bytes());
    assert_eq!(
        read_stream(&stream),
        Err(RecordError::InvalidHeaderLength { len: 80 })
    );

    stream[6..8].copy_from_slice(&1u16.to_le_bytes());
    stream[8..12].copy_from_slice(&78u32.to_le_bytes());
    assert_eq!(
        read_stream(&stream),
        Err(RecordError::InvalidHeaderLength { len: 78 })
    );
}

#[test]
fn header_crc_is_checked() {
    let mut stream = small_stream();
    stream[20] ^= 1;
    assert!(matches!(
        read_stream(&stream),
        Err(RecordError::BadHeaderCrc { .. })
    ));
}

#[test]
fn unknown_kind_is_rejected() {
    let mut stream = small_stream();
    stream[12] = 200;
    reseal_header(&mut stream, HEADER_LEN);
    assert_eq!(
        read_stream(&stream),
        Err(RecordError::UnknownKind { code: 200 })
    );
}

#[test]
fn invalid_params_are_rejected() {
    let mut stream = small_stream();
    stream[16..20].copy_from_slice(&1.5f32.to_le_bytes());
    reseal_header(&mut stream, HEADER_LEN);
    assert_eq!(
        read_stream(&stream),
        Err(RecordError::InvalidParams(
            MeasureError::InvalidProbability { value: 1.5 }
        ))
    );

    let mut stream = small_stream();
    stream[52..56].copy_from_slice(&0u32.to_le_bytes());
    reseal_header(&mut stream, HEADER_LEN);
    assert!(matches!(
        read_stream(&stream),
        Err(RecordError::InvalidParams(
            MeasureError::InvalidShape { .. }
        ))
    ));
}

#[test]
fn reserved_header_bits_are_rejected() {
    for (offset, value, field) in [(13, 0x04, "flags"), (14, 2, "interp"), (15, 1, "reserved")] {
        let mut stream = small_stream();
        stream[offset] = value;
        reseal_header(&mut stream, HEADER_LEN);
        assert_eq!(
            read_stream(&stream),
            Err(RecordError::InvalidHeaderField { field }),
            "byte {offset}"
        );
    }
}

/// Rewrites record 0 of `stream` with `edit` applied to its bytes and a fresh CRC.
fn edit_first_record(stream: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let count = u32::from_le_bytes(stream[76..80].try_into().unwrap()) as usize;
    let end = HEADER_LEN + 20 + 4 * count;
    let mut record = stream[HEADER_LEN..end - 4].to_vec();
    edit(&mut record);
    let crc = crc32(&record);
    record.extend_from_slice(&crc.to_le_bytes());

    let mut out = stream[..HEADER_LEN].to_vec();
    out.extend_from_slice(&record);
    out.extend_from_slice(&stream[end..]);
    out
}

#[test]
fn survivor_count_must_match_mask() {
    let stream = small_stream();
    let kept = u32::from_le_bytes(stream[76..80].try_into().unwrap()) as usize;
    let short = edit_first_record(&stream, |r| {
        r.truncate(r.len() - 4);
        r[0..4].copy_from_slice(&(kept as u32 - 1).to_le_bytes());
    });
    assert_eq!(
        read_stream(&short),
        Err(RecordError::ValueCountMismatch {
            record: 0,
            expected: kept,
            actual: kept - 1
        })
    );
}

#[test]
fn value_count_above_output_len_is_rejected() {
    let stream = small_stream();
    let mut bad = stream.clone();
    bad[76..80].copy_from_slice(&17u32.to_le_bytes());
    assert_eq!(
        read_stream(&bad),
        Err(RecordError::InvalidValueCount {
            record: 0,
            count: 17,
            max: 16
        })
    );
}

#[test]
fn non_finite_value_is_rejected() {
    let stream = small_stream();
    let bad = edit_first_record(&stream, |r| {
        r[16..20].copy_from_slice(&f32::NAN.to_le_bytes())
    });
    assert!(matches!(
        read_stream(&bad),
        Err(RecordError::NonFiniteValue { record: 0, .. })
    ));
}

#[test]
fn label_out_of_range_is_rejected() {
    let stream = small_stream();
    let bad = edit_first_record(&stream, |r| r[12..16].copy_from_slice(&3u32.to_le_bytes()));
    assert_eq!(
        read_stream(&bad),
        Err(RecordError::InvalidLabel {
            record: 0,
            label: Some(3),
            classes: 3
        })
    );
}

#[test]
fn end_marker_is_checked() {
    let stream = small_stream();
    let end = stream.len() - END_LEN;

    let mut wrong_count = stream.clone();
    wrong_count[end + 4..end + 12].copy_from_slice(&4u64.to_le_bytes());
    let crc = crc32(&wrong_count[end..end + 12]);
    wrong_count[end + 12..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        read_stream(&wrong_count),
        Err(RecordError::RecordCountMismatch {
            stored: 4,
            actual: 3
        })
    );

    let mut trailing = stream.clone();
    trailing.push(0);
    assert_eq!(
        read_stream(&trailing),
        Err(RecordError::TrailingBytes {
            offset: stream.len()
        })
    );
}

#[test]
fn reader_checks_values_len_and_repeats_errors() {
    let stream = small_stream();
    let mut reader = RecordReader::new(&stream).unwrap();
    let mut short = vec![0.0; 15];
    assert_eq!(
        reader.next_record(&mut short),
        Err(RecordError::LengthMismatch {
            what: "values",
            expected: 16,
            actual: 15
        })
    );

    let cut = &stream[..HEADER_LEN + 10];
    let mut reader = RecordReader::new(cut).unwrap();
    let mut values = vec![0.0; 16];
    let first = reader.next_record(&mut values);
    assert!(matches!(first, Err(RecordError::Truncated { .. })));
    assert_eq!(reader.next_record(&mut values), first);
    assert_eq!(reader.records(), 0);
}

#[test]
fn shared_mask_streams_are_checked_too() {
    let header = block_pixels(Shape::new(3, 3, 3), 0.4, false, false);
    let images = [(7, None, ramp(27)), (8, None, ramp(27))];
    let stream = write_stream(header, &images);
    assert_eq!(read_stream(&stream).unwrap().len(), 2);
    for len in 0..stream.len() {
        assert!(read_stream(&stream[..len]).is_err(), "truncated to {len}");
    }
}
