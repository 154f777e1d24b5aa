//! Measurement operators over C: build one from parameters into caller memory, query its
//! lengths, apply it to an image or a batch with a seed, write its θ.

mod params;

pub use params::{
    AmbientInterpolation, AmbientMeasurementKind, AmbientMeasurementParams, AmbientShape,
};

use ambient_core::measure::{measure_batch, Measurement, Operator};
use ambient_core::sampler::image_seed;

use crate::boundary::{guard, input, input_array, out_param, output_array, CallResult};
use crate::handle;
use crate::status::AmbientStatus;

/// Caller-owned storage for one measurement operator, filled by `ambient_measurement_init`.
///
/// Declare it anywhere (stack, static, a struct); 512 bytes, aligned to 8. It holds plain
/// data only: it may be copied with `memcpy`, and nothing needs to be freed. Zero it
/// (`= {0}`) before use so that a call on a handle whose init failed or never ran returns
/// `AMBIENT_STATUS_INVALID_HANDLE`; a handle whose memory was never written at all is
/// undefined behaviour, as with any uninitialised C object.
#[repr(C)]
pub struct AmbientMeasurement {
    opaque: [u64; 64],
}

/// Marks initialised measurement storage: "AMBMEAS" and a layout version.
const TAG: u64 = u64::from_le_bytes(*b"AMBMEAS1");

const _: () = assert!(handle::fits::<AmbientMeasurement, Operator>());

/// Returns the operator in a measurement handle.
///
/// # Safety
///
/// A non-NULL `measurement` must point at an `ambient_measurement` whose memory has been
/// written.
pub(crate) unsafe fn operator<'a>(
    measurement: *const AmbientMeasurement,
) -> Result<&'a Operator, AmbientStatus> {
    unsafe { handle::get(measurement, TAG) }
}

/// Fills `out` with the default parameters (the AmbientGAN paper's MNIST settings) for the
/// measurement `kind`, an `ambient_measurement_kind` code.
///
/// Fails with `AMBIENT_STATUS_UNKNOWN_MEASUREMENT` on an unknown code; `out` is written only
/// on success.
///
/// # Safety
///
/// `out` must be NULL or point at writable memory for one `ambient_measurement_params`.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_params_default(
    kind: u8,
    out: *mut AmbientMeasurementParams,
) -> AmbientStatus {
    guard(|| {
        let out = out_param(out)?;
        let params = AmbientMeasurementParams::defaults(kind);
        params.to_core()?;
        unsafe { out.write(params) };
        Ok(())
    })
}

/// Builds the measurement `params` describes for images of `shape` into `out`, checking
/// every parameter the kind uses.
///
/// Fails with `AMBIENT_STATUS_UNKNOWN_MEASUREMENT`, `_UNSUPPORTED_MEASUREMENT`,
/// `_INVALID_PARAMETER`, `_INVALID_SHAPE` or `_SIZE_OVERFLOW`; `out` is written only on
/// success.
///
/// # Safety
///
/// `out` must be NULL or point at writable memory for one `ambient_measurement`, and
/// `params` NULL or at a readable `ambient_measurement_params`.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_init(
    out: *mut AmbientMeasurement,
    params: *const AmbientMeasurementParams,
    shape: AmbientShape,
) -> AmbientStatus {
    guard(|| {
        let out = handle::out_handle(out)?;
        let params = unsafe { input(params) }?;
        let (kind, core_params) = params.to_core()?;
        let operator = Operator::new(kind, shape.into(), &core_params)?;
        unsafe { handle::put(out, TAG, operator) };
        Ok(())
    })
}

/// Which length a query returns.
#[derive(Clone, Copy)]
enum Length {
    Input,
    Output,
    Theta,
}

/// Writes one of the operator's lengths to `out_len`.
unsafe fn query(
    handle: *const AmbientMeasurement,
    which: Length,
    out_len: *mut usize,
) -> CallResult {
    let out_len = out_param(out_len)?;
    let operator = unsafe { operator(handle) }?;
    let len = match which {
        Length::Input => operator
            .input_shape()
            .checked_len()
            .ok_or(AmbientStatus::SizeOverflow)?,
        Length::Output => operator.output_len(),
        Length::Theta => operator.theta_len(),
    };
    unsafe { out_len.write(len) };
    Ok(())
}

/// Writes to `out_len` the number of floats in one input image (channels * height * width).
///
/// # Safety
///
/// `measurement` must be NULL or point at an `ambient_measurement` whose memory has been
/// written, and `out_len` NULL or at a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_input_len(
    measurement: *const AmbientMeasurement,
    out_len: *mut usize,
) -> AmbientStatus {
    guard(|| unsafe { query(measurement, Length::Input, out_len) })
}

/// Writes to `out_len` the number of floats the measurement of one image produces.
///
/// # Safety
///
/// As for `ambient_measurement_input_len`.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_output_len(
    measurement: *const AmbientMeasurement,
    out_len: *mut usize,
) -> AmbientStatus {
    guard(|| unsafe { query(measurement, Length::Output, out_len) })
}

/// Writes to `out_len` the number of floats `ambient_measurement_theta` writes for one
/// image.
///
/// # Safety
///
/// As for `ambient_measurement_input_len`.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_theta_len(
    measurement: *const AmbientMeasurement,
    out_len: *mut usize,
) -> AmbientStatus {
    guard(|| unsafe { query(measurement, Length::Theta, out_len) })
}

/// Measures one image: writes y = f_theta(x) into the first `output_len` floats of `y`, with
/// theta drawn from `seed`.
///
/// `x_len` must equal the input length exactly and `y_len` be at least the output length.
/// `x` and `y` must not overlap. `y` is written only on success.
///
/// # Safety
///
/// `measurement` as for `ambient_measurement_input_len`; `x` NULL or `x_len` readable
/// floats; `y` NULL or `y_len` writable floats, not accessed by anything else meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_apply(
    measurement: *const AmbientMeasurement,
    x: *const f32,
    x_len: usize,
    seed: u64,
    y: *mut f32,
    y_len: usize,
) -> AmbientStatus {
    guard(|| {
        let operator = unsafe { operator(measurement) }?;
        let x = unsafe { input_array(x, x_len) }?;
        let y = output_array(y, y_len)?;
        y.check_disjoint(x)?;

        let n_in = operator
            .input_shape()
            .checked_len()
            .ok_or(AmbientStatus::SizeOverflow)?;
        if x.len() != n_in {
            return Err(AmbientStatus::LengthMismatch);
        }
        let y = unsafe { y.prefix(operator.output_len()) }?;
        operator.measure(x, seed, y)?;
        Ok(())
    })
}

/// Measures a batch: `x` holds `x_len / input_len` images one after another, and image
/// `i` is measured with seed `ambient_image_seed(batch_seed, i)` into slot `i` of `y`.
///
/// `x_len` must be a nonzero multiple of the input length, and `y_len` at least the batch
/// size times the output length. `x` and `y` must not overlap. `y` is written only on
/// success.
///
/// # Safety
///
/// As for `ambient_measurement_apply`.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_apply_batch(
    measurement: *const AmbientMeasurement,
    x: *const f32,
    x_len: usize,
    batch_seed: u64,
    y: *mut f32,
    y_len: usize,
) -> AmbientStatus {
    guard(|| {
        let operator = unsafe { operator(measurement) }?;
        let x = unsafe { input_array(x, x_len) }?;
        let y = output_array(y, y_len)?;
        y.check_disjoint(x)?;

        let n_in = operator
            .input_shape()
            .checked_len()
            .ok_or(AmbientStatus::SizeOverflow)?;
        if x.is_empty() || x.len() % n_in != 0 {
            return Err(AmbientStatus::LengthMismatch);
        }
        let n_out = (x.len() / n_in)
            .checked_mul(operator.output_len())
            .ok_or(AmbientStatus::SizeOverflow)?;
        let y = unsafe { y.prefix(n_out) }?;
        measure_batch(operator, x, batch_seed, y)?;
        Ok(())
    })
}

/// Writes the theta that `seed` draws (a mask, patch offsets, angles, a noise field, ...) into
/// the first `theta_len` floats of `theta`; what each value means is documented per
/// operator in ambient-core. `theta` is written only on success.
///
/// # Safety
///
/// `measurement` as for `ambient_measurement_input_len`; `theta` NULL or `theta_len`
/// writable floats.
#[no_mangle]
pub unsafe extern "C" fn ambient_measurement_theta(
    measurement: *const AmbientMeasurement,
    seed: u64,
    theta: *mut f32,
    theta_len: usize,
) -> AmbientStatus {
    guard(|| {
        let operator = unsafe { operator(measurement) }?;
        let theta = output_array(theta, theta_len)?;
        let theta = unsafe { theta.prefix(operator.theta_len()) }?;
        operator.theta(seed, theta)?;
        Ok(())
    })
}

/// Returns the seed of image `index` in a batch measured with `batch_seed`, the one
/// `ambient_measurement_apply_batch` uses, so that a device can record per-image seeds.
#[no_mangle]
pub extern "C" fn ambient_image_seed(batch_seed: u64, index: u64) -> u64 {
    image_seed(batch_seed, index)
}
