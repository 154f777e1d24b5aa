//! Measurement record files (`.ambr`): a training set of real measurements read from a file,
//! and the recording of a clean image set through a measurement into one.
//!
//! The byte format belongs to `ambient-core` (`ambient_core::record`, specified in
//! `docs/record-format.md`); this module only moves whole files in and out of tensors.

use std::path::{Path, PathBuf};

use ambient_core::measure::{Measurement, MeasurementKind, MeasurementParams, Operator};
use ambient_core::record::{
    RecordError, RecordHeader, RecordReader, RecordWriter, ValueRange, Version, RECORD_OVERHEAD,
};
use ambient_core::sampler::image_seed;
use tch::{Kind, Tensor};

use super::{DataError, ImageSet, MeasurementSet};
use crate::measure::TchMeasurement;

/// Every measurement of a record file, decoded, with the operator that produced them.
#[derive(Debug)]
pub struct RecordSet {
    source: PathBuf,
    header: RecordHeader,
    version: Version,
    op: Operator,
    measurements: Tensor,
    seeds: Vec<u64>,
    labels: Option<Vec<u32>>,
    stored_values: u64,
    file_len: usize,
}

impl RecordSet {
    /// Reads and decodes the record file at `path`.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Decodes a whole record stream; `source` names it in errors and reports.
    ///
    /// Every record is checked (CRC, value count against its seed's mask, label) and the
    /// stream must end with its end marker, so a truncated file is an error.
    pub fn from_bytes(source: &Path, bytes: &[u8]) -> Result<Self, DataError> {
        let mut reader = RecordReader::new(bytes).map_err(|e| record_error(source, e))?;
        let header = *reader.header();
        let op = reader.operator().clone();
        let values_per_record = reader.output_len();

        let mut values: Vec<f32> = Vec::new();
        let mut record = vec![0.0f32; values_per_record];
        let mut seeds = Vec::new();
        let mut labels = Vec::new();
        let mut stored_values = 0u64;
        loop {
            let start = reader.offset();
            let Some(info) = reader
                .next_record(&mut record)
                .map_err(|e| record_error(source, e))?
            else {
                break;
            };
            // Every record decodes to the full output length, however few values it
            // stores, so the decoded set can be far larger than the file.
            values
                .try_reserve(values_per_record)
                .map_err(|_| DataError::Record {
                    path: source.to_path_buf(),
                    source: format!(
                        "not enough memory to decode record {} ({} values each)",
                        seeds.len(),
                        values_per_record
                    )
                    .into(),
                })?;
            values.extend_from_slice(&record);
            seeds.push(info.seed);
            labels.extend(info.label);
            stored_values += ((reader.offset() - start - RECORD_OVERHEAD) / 4) as u64;
        }
        if seeds.is_empty() {
            return Err(DataError::Empty {
                path: source.to_path_buf(),
            });
        }

        let mut size = vec![seeds.len() as i64];
        size.extend(TchMeasurement::new(op.clone()).output_shape());
        let measurements = Tensor::f_from_slice(&values)
            .and_then(|t| t.f_view(size.as_slice()))
            .map_err(|e| torch_error(source, e))?;
        Ok(Self {
            source: source.to_path_buf(),
            header,
            version: reader.version(),
            op,
            measurements,
            seeds,
            labels: (header.classes > 0).then_some(labels),
            stored_values,
            file_len: bytes.len(),
        })
    }

    /// Returns the file's header: measurement, parameters, image shape, value range,
    /// classes.
    pub fn header(&self) -> &RecordHeader {
        &self.header
    }

    /// Returns the file's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Returns every measurement, `[N, ...TchMeasurement::output_shape()]`, f32 on the CPU.
    pub fn measurements(&self) -> &Tensor {
        &self.measurements
    }

    /// Returns the seed of each record, in file order.
    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }

    /// Returns the label of each record when the file has classes.
    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    /// Returns the number of values stored in the file over all records (survivors only,
    /// for the mask measurements).
    pub fn stored_values(&self) -> u64 {
        self.stored_values
    }

    /// Returns the file's length in bytes.
    pub fn file_len(&self) -> usize {
        self.file_len
    }
}

impl MeasurementSet for RecordSet {
    fn source(&self) -> &Path {
        &self.source
    }

    fn len(&self) -> usize {
        self.seeds.len()
    }

    fn operator(&self) -> &Operator {
        &self.op
    }

    fn params(&self) -> &MeasurementParams {
        &self.header.params
    }

    fn batch(&self, indices: &[usize]) -> Result<Tensor, DataError> {
        let len = self.seeds.len();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(DataError::IndexOutOfRange {
                path: self.source.clone(),
                index,
                len,
            });
        }
        let index: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        Tensor::f_from_slice(&index)
            .and_then(|t| self.measurements.f_index_select(0, &t))
            .map_err(|e| torch_error(&self.source, e))
    }
}

/// An error of recording an image set into a record stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordImagesError {
    /// The measurement or the header is invalid for the images.
    #[error("cannot record the images of {path}: {source}")]
    Record {
        /// The image set.
        path: PathBuf,
        /// The record writer's error.
        source: RecordError,
    },
    /// libtorch failed while reading the images.
    #[error("libtorch error while reading the images of {path}: {source}")]
    Torch {
        /// The image set.
        path: PathBuf,
        /// The libtorch error.
        source: tch::TchError,
    },
}

/// Measures the first `count` images of `set` (all when `None`) with the measurement
/// `kind` and `params`, and returns the record stream.
///
/// Image `i` is measured with seed [`image_seed`]`(seed, i)` and recorded with its label.
/// The header's value range is `[0, 1]`, the range of every [`ImageSet`], and its class
/// count is one more than the largest label (0 for an unlabelled set). `progress(done)` is
/// called after each image.
pub fn record_images(
    set: &ImageSet,
    kind: MeasurementKind,
    params: &MeasurementParams,
    seed: u64,
    count: Option<usize>,
    mut progress: impl FnMut(usize),
) -> Result<Vec<u8>, RecordImagesError> {
    let path = set.source();
    let count = count.map_or(set.len(), |n| n.min(set.len()));
    // NOTE: a labelled set whose largest class never occurs gets too few classes.
    let classes = set
        .labels()
        .map_or(0, |l| l.iter().max().map_or(0, |&m| u32::from(m) + 1));
    let header = RecordHeader::new(kind, *params, set.shape())
        .with_range(ValueRange::UNIT)
        .with_classes(classes);
    let record_error = |source| RecordImagesError::Record {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = RecordWriter::new(header).map_err(record_error)?;
    let images = images_as_f32(set, count)?;

    let image_len = set.shape().checked_len().unwrap_or(0);
    let mut y = vec![0.0f32; writer.operator().output_len()];
    let mut out = vec![0u8; writer.header_len()];
    writer.write_header(&mut out).map_err(record_error)?;
    let mut buffer = vec![0u8; writer.max_record_len()];
    for (i, x) in images.chunks_exact(image_len.max(1)).enumerate() {
        let image_seed = image_seed(seed, i as u64);
        writer
            .operator()
            .measure(x, image_seed, &mut y)
            .map_err(|e| record_error(e.into()))?;
        let label = set.labels().and_then(|l| l.get(i)).map(|&l| u32::from(l));
        let n = writer
            .write_record(image_seed, label, &y, &mut buffer)
            .map_err(record_error)?;
        out.extend_from_slice(&buffer[..n]);
        progress(i + 1);
    }
    let mut end = vec![0u8; writer.end_len()];
    let n = writer.write_end(&mut end).map_err(record_error)?;
    out.extend_from_slice(&end[..n]);
    Ok(out)
}

/// Copies the first `count` images of `set` to a flat f32 vector.
fn images_as_f32(set: &ImageSet, count: usize) -> Result<Vec<f32>, RecordImagesError> {
    let torch = |source| RecordImagesError::Torch {
        path: set.source().to_path_buf(),
        source,
    };
    let flat = set
        .images()
        .f_narrow(0, 0, count as i64)
        .and_then(|t| t.f_to_device(tch::Device::Cpu))
        .and_then(|t| t.f_to_kind(Kind::Float))
        .and_then(|t| t.f_contiguous())
        .and_then(|t| t.f_flatten(0, -1))
        .map_err(torch)?;
    Vec::<f32>::try_from(&flat).map_err(torch)
}

fn record_error(path: &Path, source: RecordError) -> DataError {
    DataError::Record {
        path: path.to_path_buf(),
        source: Box::new(source),
    }
}

fn torch_error(path: &Path, source: tch::TchError) -> DataError {
    DataError::Torch {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ambient_core::Shape;

    /// Returns a path under the system's temporary folder unique to this process and test.
    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("ambient-records-{}-{name}", std::process::id()))
    }

    fn ramp(len: usize, offset: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i + offset) % 17) as f32 / 16.0)
            .collect()
    }

    /// Writes a stream with the core's writer: one record per seed, image `i` a ramp.
    fn core_stream(header: RecordHeader, seeds: &[u64]) -> Vec<u8> {
        let mut writer = RecordWriter::new(header).unwrap();
        let mut stream = vec![0u8; writer.header_len()];
        writer.write_header(&mut stream).unwrap();
        let len = header.shape.checked_len().unwrap();
        let mut y = vec![0.0; writer.operator().output_len()];
        let mut buffer = vec![0u8; writer.max_record_len()];
        for (i, &seed) in seeds.iter().enumerate() {
            writer
                .operator()
                .measure(&ramp(len, i), seed, &mut y)
                .unwrap();
            let label = (header.classes > 0).then(|| i as u32 % header.classes);
            let n = writer.write_record(seed, label, &y, &mut buffer).unwrap();
            stream.extend_from_slice(&buffer[..n]);
        }
        let mut end = vec![0u8; writer.end_len()];
        writer.write_end(&mut end).unwrap();
        stream.extend_from_slice(&end);
        stream
    }

    fn block_pixels_header(shape: Shape) -> RecordHeader {
        let params = MeasurementParams {
            p: 0.7,
            ..MeasurementParams::default()
        };
        RecordHeader::new(MeasurementKind::BlockPixels, params, shape).with_classes(3)
    }

    #[test]
    fn core_file_reads_as_core_measurements() {
        let shape = Shape::new(1, 6, 5);
        let header = block_pixels_header(shape);
        let seeds = [7, 1 << 40, 3, u64::MAX];
        let path = temp_path("core-file.ambr");
        std::fs::write(&path, core_stream(header, &seeds)).unwrap();

        let set = RecordSet::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();

        assert_eq!(set.len(), 4);
        assert_eq!(set.seeds(), seeds);
        assert_eq!(set.labels(), Some(&[0, 1, 2, 0][..]));
        assert_eq!(set.operator().kind(), MeasurementKind::BlockPixels);
        assert_eq!(set.operator().input_shape(), shape);
        assert_eq!(set.params().p, 0.7);
        assert_eq!(set.measurements().size(), [4, 1, 6, 5]);
        for (i, &seed) in seeds.iter().enumerate() {
            let mut y = vec![0.0f32; 30];
            set.operator().measure(&ramp(30, i), seed, &mut y).unwrap();
            let row = set.measurements().get(i as i64).flatten(0, -1);
            let got = Vec::<f32>::try_from(&row).unwrap();
            assert_eq!(got, y, "record {i}");
        }
    }

    #[test]
    fn one_dimensional_measurements_keep_their_length() {
        let params = MeasurementParams {
            projections: 9,
            ..MeasurementParams::default()
        };
        let header = RecordHeader::new(
            MeasurementKind::GaussianProjection,
            params,
            Shape::new(1, 4, 4),
        );
        let set =
            RecordSet::from_bytes(Path::new("g.ambr"), &core_stream(header, &[1, 2])).unwrap();
        assert_eq!(set.measurements().size(), [2, 9]);
        assert_eq!(set.labels(), None);
        assert_eq!(set.stored_values(), 18);
    }

    #[test]
    fn truncated_file_names_the_file() {
        let stream = core_stream(block_pixels_header(Shape::new(1, 4, 4)), &[1, 2, 3]);
        let path = temp_path("truncated.ambr");
        std::fs::write(&path, &stream[..stream.len() - 30]).unwrap();

        let error = RecordSet::open(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();

        let message = error.to_string();
        assert!(matches!(error, DataError::Record { .. }), "{error:?}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("truncated"), "{message}");
    }

    #[test]
    fn corrupt_record_is_reported() {
        let mut stream = core_stream(block_pixels_header(Shape::new(1, 4, 4)), &[1, 2]);
        let first_value = ambient_core::record::HEADER_LEN + 16;
        stream[first_value] ^= 0x40;
        let error = RecordSet::from_bytes(Path::new("bad.ambr"), &stream).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("bad.ambr"), "{message}");
        assert!(message.contains("record 0 CRC mismatch"), "{message}");
    }

    #[test]
    fn missing_file_and_empty_stream_are_errors() {
        let missing = RecordSet::open(Path::new("/nonexistent/records.ambr")).unwrap_err();
        assert!(matches!(missing, DataError::Io { .. }), "{missing:?}");

        let empty = core_stream(block_pixels_header(Shape::new(1, 4, 4)), &[]);
        let error = RecordSet::from_bytes(Path::new("empty.ambr"), &empty).unwrap_err();
        assert!(matches!(error, DataError::Empty { .. }), "{error:?}");
    }

    #[test]
    fn batch_gathers_rows() {
        let stream = core_stream(block_pixels_header(Shape::new(1, 4, 4)), &[5, 6, 7]);
        let set = RecordSet::from_bytes(Path::new("b.ambr"), &stream).unwrap();
        let batch = set.batch(&[2, 0]).unwrap();
        assert_eq!(batch.size(), [2, 1, 4, 4]);
        assert!(batch.get(0).equal(&set.measurements().get(2)));
        assert!(batch.get(1).equal(&set.measurements().get(0)));
        assert!(matches!(
            set.batch(&[3]),
            Err(DataError::IndexOutOfRange {
                index: 3,
                len: 3,
                ..
            })
        ));
    }

    #[test]
    fn recorded_images_read_back_as_measured() {
        let shape = Shape::new(1, 5, 4);
        let pixels: Vec<u8> = (0..3 * 20).map(|i| (i * 37 % 256) as u8).collect();
        let set =
            ImageSet::from_bytes(Path::new("digits"), shape, &pixels, Some(vec![4, 0, 9])).unwrap();
        let params = MeasurementParams {
            p: 0.5,
            ..MeasurementParams::default()
        };
        let mut reported = Vec::new();
        let stream = record_images(&set, MeasurementKind::DropRow, &params, 11, None, |done| {
            reported.push(done)
        })
        .unwrap();
        assert_eq!(reported, [1, 2, 3]);

        let records = RecordSet::from_bytes(Path::new("digits.ambr"), &stream).unwrap();
        assert_eq!(records.header().classes, 10);
        assert_eq!(records.labels(), Some(&[4, 0, 9][..]));
        let op = Operator::new(MeasurementKind::DropRow, shape, &params).unwrap();
        for i in 0..3 {
            let x: Vec<f32> = pixels[20 * i..20 * (i + 1)]
                .iter()
                .map(|&v| f32::from(v) / 255.0)
                .collect();
            let seed = image_seed(11, i as u64);
            let mut y = vec![0.0f32; 20];
            op.measure(&x, seed, &mut y).unwrap();
            assert_eq!(records.seeds()[i], seed);
            let row = records.measurements().get(i as i64).flatten(0, -1);
            assert_eq!(Vec::<f32>::try_from(&row).unwrap(), y, "image {i}");
        }
    }

    #[test]
    fn record_images_honours_count_and_rejects_bad_params() {
        let shape = Shape::new(1, 4, 4);
        let set = ImageSet::from_bytes(Path::new("d"), shape, &[100; 48], None).unwrap();
        let params = MeasurementParams::default();
        let stream = record_images(
            &set,
            MeasurementKind::BlockPixels,
            &params,
            0,
            Some(2),
            |_| {},
        )
        .unwrap();
        let records = RecordSet::from_bytes(Path::new("d.ambr"), &stream).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records.header().classes, 0);

        let bad = MeasurementParams {
            p: 1.0,
            ..MeasurementParams::default()
        };
        let error =
            record_images(&set, MeasurementKind::BlockPixels, &bad, 0, None, |_| {}).unwrap_err();
        assert!(error.to_string().contains("outside [0, 1)"), "{error}");
    }
}
