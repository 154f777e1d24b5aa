//! Generators over C: open a weight file held in caller memory without copying it, query
//! its sizes, and generate a batch into caller buffers.

use ambient_core::format::{Compute, FormatError, ValueRange};
use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use ambient_core::nn::{GemmRoute, InferError, Model};
use ambient_core::sampler::Sampler;

use crate::boundary::{guard, input_array, out_param, output_array, OutputArray};
use crate::handle;
use crate::measurement::AmbientShape;
use crate::status::AmbientStatus;

/// The alignment in bytes that generator scratch must start at.
pub const AMBIENT_SCRATCH_ALIGN: usize = 16;

/// Caller-owned storage for one opened generator, filled by `ambient_model_open`.
///
/// 32 KiB, aligned to 8: the model's layer table, which points into the weight bytes.
/// Plain data like `ambient_measurement` (zero it before use, nothing to free), but valid
/// only while the weight bytes it was opened from stay in place and unchanged. On a
/// microcontroller declare it `static`: it is too large for most stacks.
#[repr(C)]
pub struct AmbientModel {
    opaque: [u64; 4096],
}

/// An opened model and the weight bytes it borrows, kept to check that outputs do not
/// overlap them.
struct Opened {
    model: Model<'static>,
    bytes: &'static [u8],
}

/// Marks initialised model storage: "AMBMODL" and a layout version.
const TAG: u64 = u64::from_le_bytes(*b"AMBMODL1");

const _: () = assert!(handle::fits::<AmbientModel, Opened>());

/// The arithmetic of a model (the `compute` field of `ambient_model_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum AmbientCompute {
    /// f32 arithmetic, weights stored as f32 or f16.
    Float = 0,
    /// int8 weights and activations with i32 accumulation (the TensorFlow Lite
    /// convention); outputs are dequantised to float.
    Int8 = 1,
}

/// The range of a model's output values (the `value_range` field of `ambient_model_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum AmbientValueRange {
    /// No bounded activation at the end.
    Unbounded = 0,
    /// [0, 1], after a sigmoid (MNIST): pixel = 255 * value.
    ZeroOne = 1,
    /// [-1, 1], after a tanh (colour data sets): pixel = 127.5 * (value + 1).
    MinusOneOne = 2,
}

/// The sizes and kind of an opened model, all a caller needs to run it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmbientModelInfo {
    /// Floats of `z` per image.
    pub latent_len: usize,
    /// Number of classes; 0 for an unconditional generator, which takes no labels.
    pub classes: usize,
    /// Shape of one generated image.
    pub output_shape: AmbientShape,
    /// Floats of one generated image (channels * height * width).
    pub output_len: usize,
    /// The weight file's length in bytes.
    pub file_len: usize,
    /// An `ambient_compute` code.
    pub compute: u8,
    /// An `ambient_value_range` code.
    pub value_range: u8,
    /// Major version of the weight format.
    pub format_major: u16,
    /// Minor version of the weight format.
    pub format_minor: u16,
}

impl From<FormatError> for AmbientStatus {
    fn from(error: FormatError) -> Self {
        match error {
            FormatError::BadMagic => Self::NotAModel,
            FormatError::UnsupportedVersion { .. } => Self::UnsupportedModelVersion,
            FormatError::CrcMismatch { .. } => Self::ModelChecksumMismatch,
            FormatError::Truncated { .. } | FormatError::LengthMismatch { .. } => {
                Self::ModelTruncated
            }
            FormatError::BufferTooSmall { .. } => Self::BufferTooSmall,
            // Every other variant is a structural error in the file.
            _ => Self::InvalidModel,
        }
    }
}

impl From<InferError> for AmbientStatus {
    fn from(error: InferError) -> Self {
        match error {
            InferError::LengthMismatch { .. } | InferError::InvalidLatentLength { .. } => {
                Self::LengthMismatch
            }
            InferError::MissingLabels
            | InferError::UnexpectedLabels
            | InferError::LabelOutOfRange { .. } => Self::InvalidLabel,
            InferError::ScratchTooSmall { .. } => Self::BufferTooSmall,
            InferError::ScratchMisaligned { .. } => Self::Misaligned,
            InferError::BatchTooLarge { .. } => Self::SizeOverflow,
            // Calibration and raw int8 output are not exported, so nothing else occurs.
            _ => Self::InternalError,
        }
    }
}

/// Returns the opened model in a model handle.
///
/// # Safety
///
/// A non-NULL `model` must point at an `ambient_model` whose memory has been written, and
/// whose weight bytes are still valid.
unsafe fn opened<'a>(model: *const AmbientModel) -> Result<&'a Opened, AmbientStatus> {
    unsafe { handle::get(model, TAG) }
}

/// Opens the weight file (`.amb`) in `bytes` into `out`, checking its CRC-32 and every
/// size, offset and layer. Nothing is copied: the model reads its weights from `bytes`
/// (flash on a microcontroller), which must stay valid and unchanged while `out` is used.
/// `bytes` may have any alignment; 16-byte-aligned bytes make f32 weights faster to read.
///
/// Fails with `AMBIENT_STATUS_NOT_A_MODEL`, `_UNSUPPORTED_MODEL_VERSION`,
/// `_MODEL_CHECKSUM_MISMATCH`, `_MODEL_TRUNCATED` or `_INVALID_MODEL`. The model is built
/// inside `out`, so opening needs little stack; when opening fails, `out` is zeroed (an
/// invalid handle), whatever it held before.
///
/// # Safety
///
/// `out` must be NULL or point at writable memory for one `ambient_model`; `bytes` NULL or
/// `bytes_len` readable bytes, kept valid and unchanged while the model is used.
#[no_mangle]
pub unsafe extern "C" fn ambient_model_open(
    out: *mut AmbientModel,
    bytes: *const u8,
    bytes_len: usize,
) -> AmbientStatus {
    guard(|| {
        let out = handle::out_handle(out)?;
        // SAFETY: valid and unchanged while the model is used (caller), which is what the
        // 'static lifetime stands for here.
        let bytes: &'static [u8] = unsafe { input_array(bytes, bytes_len) }?;
        // The table is built in the handle itself: `Model::parse` would return it by value
        // and move it through a stack that a microcontroller may not have.
        let init = |slot: &mut MaybeUninit<Opened>| {
            let opened = slot.as_mut_ptr();
            // SAFETY: `opened` points at writable memory for an `Opened`; its fields are
            // written through raw pointers, never read, until both are initialised.
            let model = unsafe { &mut *addr_of_mut!((*opened).model).cast() };
            let model = Model::parse_into(bytes, model)?;
            // The blocked kernel packs into the caller's scratch; the other route allocates.
            model.set_gemm_route(GemmRoute::Blocked);
            if model.scratch_align() > AMBIENT_SCRATCH_ALIGN {
                return Err(AmbientStatus::InternalError);
            }
            // SAFETY: as above.
            unsafe { addr_of_mut!((*opened).bytes).write(bytes) };
            Ok(())
        };
        // SAFETY: `Opened` fits the handle (checked at compile time) and TAG is only used
        // for it. `out` is writable (caller), and `init` initialises both fields on success.
        unsafe { handle::put_in_place(out, TAG, init) }?;
        Ok(())
    })
}

/// Writes the model's sizes and kind into `out`.
///
/// # Safety
///
/// `model` must be NULL or point at an `ambient_model` whose memory has been written and
/// whose weight bytes are still valid; `out` NULL or a writable `ambient_model_info`.
#[no_mangle]
pub unsafe extern "C" fn ambient_model_get_info(
    model: *const AmbientModel,
    out: *mut AmbientModelInfo,
) -> AmbientStatus {
    guard(|| {
        let out = out_param(out)?;
        let Opened { model, .. } = unsafe { opened(model) }?;
        let header = model.header();
        let compute = match header.compute {
            Compute::Float => AmbientCompute::Float,
            Compute::Int8 => AmbientCompute::Int8,
            _ => return Err(AmbientStatus::InternalError),
        };
        let value_range = match header.range {
            ValueRange::Unbounded => AmbientValueRange::Unbounded,
            ValueRange::ZeroOne => AmbientValueRange::ZeroOne,
            ValueRange::MinusOneOne => AmbientValueRange::MinusOneOne,
            _ => return Err(AmbientStatus::InternalError),
        };
        let info = AmbientModelInfo {
            latent_len: model.latent(),
            classes: model.classes(),
            output_shape: model.output_shape().into(),
            output_len: model.output_len(),
            file_len: model.file_len(),
            compute: compute as u8,
            value_range: value_range as u8,
            format_major: header.major,
            format_minor: header.minor,
        };
        unsafe { out.write(info) };
        Ok(())
    })
}

/// Writes to `out_len` the exact number of scratch bytes `ambient_model_generate` needs
/// for `batch` images (every live activation and the largest layer's working memory).
///
/// Fails with `AMBIENT_STATUS_SIZE_OVERFLOW` when the size does not fit in `size_t`.
///
/// # Safety
///
/// As for `ambient_model_get_info`, with `out_len` a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ambient_model_scratch_len(
    model: *const AmbientModel,
    batch: usize,
    out_len: *mut usize,
) -> AmbientStatus {
    guard(|| {
        let out_len = out_param(out_len)?;
        let Opened { model, .. } = unsafe { opened(model) }?;
        let len = model.scratch_len(batch)?;
        unsafe { out_len.write(len) };
        Ok(())
    })
}

/// Generates a batch: `z` contains `batch * latent_len` floats, one latent vector after the
/// other (`z_len` must be a nonzero multiple of `latent_len`), and the first
/// `batch * output_len` floats of `out` receive the images one after the other, each
/// `[channels, height, width]`.
///
/// `labels` contains one class index below `classes` per image for a conditional model; pass
/// NULL and 0 for an unconditional one. `scratch` is working memory of at least
/// `ambient_model_scratch_len(batch)` bytes starting at a multiple of
/// `AMBIENT_SCRATCH_ALIGN`; its contents are unspecified afterwards. No two of `z`,
/// `labels`, `out`, `scratch` and the weight bytes may overlap. `out` is written only on
/// success.
///
/// Fails with `AMBIENT_STATUS_LENGTH_MISMATCH` (z or labels), `_INVALID_LABEL`,
/// `_BUFFER_TOO_SMALL` (out or scratch), `_MISALIGNED`, `_OVERLAP` or `_SIZE_OVERFLOW`.
///
/// # Safety
///
/// `model` as for `ambient_model_get_info`; every non-NULL array must hold as many valid
/// elements as its length says, and nothing else may access `out` and `scratch` meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ambient_model_generate(
    model: *const AmbientModel,
    z: *const f32,
    z_len: usize,
    labels: *const u32,
    labels_len: usize,
    out: *mut f32,
    out_len: usize,
    scratch: *mut u8,
    scratch_len: usize,
) -> AmbientStatus {
    guard(|| {
        let Opened { model, bytes } = unsafe { opened(model) }?;
        let z = unsafe { input_array(z, z_len) }?;
        let labels = if labels.is_null() && labels_len == 0 {
            None
        } else {
            Some(unsafe { input_array(labels, labels_len) }?)
        };
        let out = output_array(out, out_len)?;
        let scratch = output_array(scratch, scratch_len)?;
        check_generate_disjoint(&out, &scratch, z, labels, bytes)?;

        let latent = model.latent();
        if z.is_empty() || z.len() % latent != 0 {
            return Err(AmbientStatus::LengthMismatch);
        }
        let images = (z.len() / latent)
            .checked_mul(model.output_len())
            .ok_or(AmbientStatus::SizeOverflow)?;
        let out = unsafe { out.prefix(images) }?;
        let scratch = unsafe { scratch.prefix(scratch_len) }?;
        model.generate(z, labels, out, scratch)?;
        Ok(())
    })
}

/// Checks that neither output of a generation overlaps an input or the other output.
fn check_generate_disjoint(
    out: &OutputArray<f32>,
    scratch: &OutputArray<u8>,
    z: &[f32],
    labels: Option<&[u32]>,
    weights: &[u8],
) -> Result<(), AmbientStatus> {
    let labels = labels.unwrap_or(&[]);
    out.check_disjoint(z)?;
    out.check_disjoint(labels)?;
    out.check_disjoint(weights)?;
    scratch.check_disjoint(z)?;
    scratch.check_disjoint(labels)?;
    scratch.check_disjoint(weights)?;
    scratch.check_disjoint_output(out)
}

/// Fills `z` with independent standard normal draws from `seed`, by the core's sampler
/// (Box-Muller in f32, identical on every target), to use as latent vectors.
///
/// # Safety
///
/// `z` must be NULL or point at `z_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn ambient_sample_latent(
    seed: u64,
    z: *mut f32,
    z_len: usize,
) -> AmbientStatus {
    guard(|| {
        let z = output_array(z, z_len)?;
        let z = unsafe { z.prefix(z_len) }?;
        let mut sampler = Sampler::new(seed);
        for value in z {
            *value = sampler.gaussian();
        }
        Ok(())
    })
}
