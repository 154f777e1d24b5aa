//! The stream header: format version, measurement, image shape, value range and classes.

use super::le::{item, Fields, Writer};
use super::{RecordError, HEADER_LEN, MAGIC, VERSION_MAJOR, VERSION_MINOR};
use crate::crc32::crc32;
use crate::measure::{Interpolation, MeasurementKind, MeasurementParams};
use crate::Shape;

/// The `pad` field's value for `pad: None` (the operator picks the padding).
const PAD_AUTO: u32 = u32::MAX;

const FLAG_RESCALE: u8 = 1 << 0;
const FLAG_PER_CHANNEL: u8 = 1 << 1;
const FLAGS_KNOWN: u8 = FLAG_RESCALE | FLAG_PER_CHANNEL;

/// The closed range `[lo, hi]` of the image values the measurements were taken from
/// (`[0, 1]` for MNIST, `[-1, 1]` for colour data sets). The trainer picks the generator's
/// output activation from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    /// Smallest image value.
    pub lo: f32,
    /// Largest image value.
    pub hi: f32,
}

impl ValueRange {
    /// The range `[0, 1]`.
    pub const UNIT: Self = Self { lo: 0.0, hi: 1.0 };

    fn is_valid(&self) -> bool {
        self.lo.is_finite() && self.hi.is_finite() && self.lo < self.hi
    }
}

/// A format version `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Incremented on any change an older reader would misread.
    pub major: u16,
    /// Incremented when fields are appended to the header.
    pub minor: u16,
}

/// The description of a record stream: the measurement that produced every record, the
/// image shape it was applied to, the image value range and the number of classes.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RecordHeader {
    /// The measurement family.
    pub kind: MeasurementKind,
    /// Every measurement parameter, including those `kind` does not read.
    pub params: MeasurementParams,
    /// The shape of the images that were measured.
    pub shape: Shape,
    /// The range of the image values before measurement.
    pub range: ValueRange,
    /// The number of classes; 0 when records carry no label.
    pub classes: u32,
}

impl RecordHeader {
    /// Creates a header for unlabelled records of images in `[0, 1]`.
    pub fn new(kind: MeasurementKind, params: MeasurementParams, shape: Shape) -> Self {
        Self {
            kind,
            params,
            shape,
            range: ValueRange::UNIT,
            classes: 0,
        }
    }

    /// Returns the header with the image value range set to `range`.
    pub fn with_range(mut self, range: ValueRange) -> Self {
        self.range = range;
        self
    }

    /// Returns the header with `classes` classes; every record then carries a label in
    /// `0..classes`.
    pub fn with_classes(mut self, classes: u32) -> Self {
        self.classes = classes;
        self
    }

    /// Writes the header (exactly [`HEADER_LEN`] bytes) to the front of `out`.
    ///
    /// Only the fields' encodability is checked here; the writer validates the
    /// measurement before it calls this.
    pub(crate) fn encode(&self, out: &mut [u8]) -> Result<usize, RecordError> {
        let p = &self.params;
        let pad = match p.pad {
            None => PAD_AUTO,
            Some(pad) => to_u32(pad, "pad").and_then(|v| {
                if v == PAD_AUTO {
                    Err(RecordError::InvalidHeaderField { field: "pad" })
                } else {
                    Ok(v)
                }
            })?,
        };
        if !self.range.is_valid() {
            return Err(RecordError::InvalidHeaderField { field: "range" });
        }
        if self.classes == u32::MAX {
            return Err(RecordError::InvalidHeaderField { field: "classes" });
        }
        let counts = [
            to_u32(p.patch, "patch")?,
            to_u32(p.kernel_size, "kernel_size")?,
            pad,
            to_u32(p.angles, "angles")?,
            to_u32(p.projections, "projections")?,
            to_u32(self.shape.channels, "channels")?,
            to_u32(self.shape.height, "height")?,
            to_u32(self.shape.width, "width")?,
        ];

        let mut w = Writer::new(out);
        w.put(&MAGIC);
        w.u16(VERSION_MAJOR);
        w.u16(VERSION_MINOR);
        w.u32(HEADER_LEN as u32);
        w.u8(self.kind as u8);
        w.u8(flags(p));
        w.u8(p.interpolation as u8);
        w.u8(0);
        w.f32(p.p);
        w.f32(p.sigma);
        w.f32(p.noise_std);
        for count in counts {
            w.u32(count);
        }
        w.f32(self.range.lo);
        w.f32(self.range.hi);
        w.u32(self.classes);
        w.finish_with_crc()
    }

    /// Parses the header at the front of `stream`; returns it, the stream's version and
    /// the header length (where the first record starts).
    pub(crate) fn decode(stream: &[u8]) -> Result<(Self, Version, usize), RecordError> {
        let (version, len) = decode_prefix(stream)?;
        let bytes = item(stream, 0, len)?;
        let (body, stored) = bytes.split_at(len - 4);
        let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
        let computed = crc32(body);
        if stored != computed {
            return Err(RecordError::BadHeaderCrc { stored, computed });
        }

        // Fields appended by a newer minor version lie between these and the CRC; this
        // reader skips them.
        let mut f = Fields::new(&body[12..], 12);
        let code = f.u8()?;
        let kind =
            MeasurementKind::from_code(code).map_err(|_| RecordError::UnknownKind { code })?;
        let flags = f.u8()?;
        if flags & !FLAGS_KNOWN != 0 {
            return Err(RecordError::InvalidHeaderField { field: "flags" });
        }
        let interpolation = match f.u8()? {
            0 => Interpolation::Nearest,
            1 => Interpolation::Bilinear,
            _ => return Err(RecordError::InvalidHeaderField { field: "interp" }),
        };
        if f.u8()? != 0 {
            return Err(RecordError::InvalidHeaderField { field: "reserved" });
        }
        let (p, sigma, noise_std) = (f.f32()?, f.f32()?, f.f32()?);
        let patch = to_usize(f.u32()?, "patch")?;
        let kernel_size = to_usize(f.u32()?, "kernel_size")?;
        let pad = match f.u32()? {
            PAD_AUTO => None,
            pad => Some(to_usize(pad, "pad")?),
        };
        let angles = to_usize(f.u32()?, "angles")?;
        let projections = to_usize(f.u32()?, "projections")?;
        let params = MeasurementParams {
            p,
            rescale: flags & FLAG_RESCALE != 0,
            per_channel: flags & FLAG_PER_CHANNEL != 0,
            patch,
            kernel_size,
            sigma,
            noise_std,
            pad,
            angles,
            interpolation,
            projections,
        };
        let shape = Shape::new(
            to_usize(f.u32()?, "channels")?,
            to_usize(f.u32()?, "height")?,
            to_usize(f.u32()?, "width")?,
        );
        let range = ValueRange {
            lo: f.f32()?,
            hi: f.f32()?,
        };
        if !range.is_valid() {
            return Err(RecordError::InvalidHeaderField { field: "range" });
        }
        let classes = f.u32()?;
        if classes == u32::MAX {
            return Err(RecordError::InvalidHeaderField { field: "classes" });
        }

        let header = Self {
            kind,
            params,
            shape,
            range,
            classes,
        };
        Ok((header, version, len))
    }
}

/// Checks the magic and the version and returns the version and the header length.
///
/// The version is checked before the CRC because a newer major version may lay out, or
/// checksum, its header differently.
fn decode_prefix(stream: &[u8]) -> Result<(Version, usize), RecordError> {
    match stream.get(..4) {
        Some(magic) if magic == MAGIC => {}
        Some(_) => return Err(RecordError::BadMagic),
        None if MAGIC.starts_with(stream) => {
            return Err(RecordError::Truncated {
                offset: 0,
                needed: HEADER_LEN,
                available: stream.len(),
            })
        }
        None => return Err(RecordError::BadMagic),
    }
    let prefix = item(stream, 0, 12).map_err(|_| RecordError::Truncated {
        offset: 0,
        needed: HEADER_LEN,
        available: stream.len(),
    })?;
    let mut f = Fields::new(&prefix[4..], 4);
    let version = Version {
        major: f.u16()?,
        minor: f.u16()?,
    };
    if version.major != VERSION_MAJOR {
        return Err(RecordError::UnsupportedVersion {
            major: version.major,
            minor: version.minor,
        });
    }
    let len_field = f.u32()?;
    let len = usize::try_from(len_field)
        .map_err(|_| RecordError::InvalidHeaderLength { len: len_field })?;
    let len_ok = match known_header_len(version.minor) {
        Some(known) => len == known,
        // A newer minor version appends fields, keeping the length a multiple of 4.
        None => len >= HEADER_LEN && len % 4 == 0,
    };
    if !len_ok {
        return Err(RecordError::InvalidHeaderLength { len: len_field });
    }
    Ok((version, len))
}

/// Returns the header length minor version `minor` defines, or `None` for a minor version
/// newer than this code.
fn known_header_len(minor: u16) -> Option<usize> {
    match minor {
        VERSION_MINOR => Some(HEADER_LEN),
        _ => None,
    }
}

fn flags(p: &MeasurementParams) -> u8 {
    let mut flags = 0;
    if p.rescale {
        flags |= FLAG_RESCALE;
    }
    if p.per_channel {
        flags |= FLAG_PER_CHANNEL;
    }
    flags
}

fn to_u32(v: usize, field: &'static str) -> Result<u32, RecordError> {
    u32::try_from(v).map_err(|_| RecordError::InvalidHeaderField { field })
}

fn to_usize(v: u32, field: &'static str) -> Result<usize, RecordError> {
    usize::try_from(v).map_err(|_| RecordError::InvalidHeaderField { field })
}
