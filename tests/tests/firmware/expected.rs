//! What the firmware must print, computed on the host with `ambient-core` from the same
//! model and seeds: the latent, the image, the Block-Pixels measurement and the record
//! stream, each as the bytes the firmware prints.

use ambient_core::format::ValueRange;
use ambient_core::measure::{Measurement, MeasurementKind, MeasurementParams, Operator};
use ambient_core::nn::Model;
use ambient_core::record::{RecordHeader, RecordWriter, ValueRange as RecordRange};
use ambient_core::sampler::Sampler;

use super::models::{scratch, scratch_bytes};

/// The seed of the firmware's latent (`LATENT_SEED` in main.c).
const LATENT_SEED: u64 = 0x00A3_B1E7;

/// The seed of the Block-Pixels θ (`MEASUREMENT_SEED` in main.c).
pub const MEASUREMENT_SEED: u64 = 0x00C0_FFEE_1234_5678;

/// The outputs of one firmware run, each as little-endian bytes.
pub struct Outputs {
    /// The latent vector, f32.
    pub latent: Vec<u8>,
    /// The generated image, f32.
    pub image: Vec<u8>,
    /// The Block-Pixels measurement of the image, f32.
    pub measurement: Vec<u8>,
    /// The record stream: header, one record, end marker.
    pub record: Vec<u8>,
}

/// Returns `len` standard normal draws of the core's sampler from `seed`, as
/// `ambient_sample_latent` writes them.
pub fn gaussian(seed: u64, len: usize) -> Vec<f32> {
    let mut sampler = Sampler::new(seed);
    (0..len).map(|_| sampler.gaussian()).collect()
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Runs the firmware's steps on the host for the weight file `model_bytes`.
pub fn outputs(model_bytes: &[u8]) -> Outputs {
    let model = Model::parse(model_bytes).expect("parse the firmware's model");
    let z = gaussian(LATENT_SEED, model.latent());
    let mut buffer = scratch(model.scratch_len(1).expect("scratch for one image"));
    let mut image = vec![0.0f32; model.output_len()];
    model
        .generate(&z, None, &mut image, scratch_bytes(&mut buffer))
        .expect("generate on the host");

    let shape = model.output_shape();
    let params = MeasurementParams::default();
    let op = Operator::new(MeasurementKind::BlockPixels, shape, &params)
        .expect("Block-Pixels with the default parameters");
    let mut measurement = vec![0.0f32; op.output_len()];
    op.measure(&image, MEASUREMENT_SEED, &mut measurement)
        .expect("measure on the host");

    let range = match model.header().range {
        ValueRange::ZeroOne => RecordRange { lo: 0.0, hi: 1.0 },
        ValueRange::MinusOneOne => RecordRange { lo: -1.0, hi: 1.0 },
        other => panic!("the firmware takes no model with values {other:?}"),
    };
    let header = RecordHeader::new(MeasurementKind::BlockPixels, params, shape).with_range(range);
    let mut writer = RecordWriter::new(header).expect("record writer");
    let mut record = vec![0u8; writer.header_len() + writer.max_record_len() + writer.end_len()];
    let mut used = writer.write_header(&mut record).expect("record header");
    used += writer
        .write_record(MEASUREMENT_SEED, None, &measurement, &mut record[used..])
        .expect("record");
    used += writer.write_end(&mut record[used..]).expect("end marker");
    record.truncate(used);

    Outputs {
        latent: le_bytes(&z),
        image: le_bytes(&image),
        measurement: le_bytes(&measurement),
        record,
    }
}
