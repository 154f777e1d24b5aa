//! Opening a model into a handle: the table is built in place, and a failed open leaves an
//! invalid, zeroed handle.

use std::boxed::Box;

use crate::model::{ambient_model_get_info, ambient_model_open, AmbientModel, AmbientModelInfo};
use crate::status::AmbientStatus;

/// The small int8 generator the firmware example embeds (latent 16, output 1x28x28).
const SMALL_MODEL: &[u8] = include_bytes!("../../examples/firmware-cortex-m4/model/small-int8.amb");

fn zeroed_handle() -> Box<AmbientModel> {
    // SAFETY: a handle is plain words, for which all zeros is a valid (invalid-tag) value.
    unsafe { Box::new(core::mem::zeroed()) }
}

fn info(model: &AmbientModel) -> Result<AmbientModelInfo, AmbientStatus> {
    let mut info = core::mem::MaybeUninit::<AmbientModelInfo>::uninit();
    // SAFETY: both pointers are valid; `info` is written on success only.
    let status = unsafe { ambient_model_get_info(model, info.as_mut_ptr()) };
    match status {
        // SAFETY: written on success.
        AmbientStatus::Ok => Ok(unsafe { info.assume_init() }),
        other => Err(other),
    }
}

fn open(model: &mut AmbientModel, bytes: &[u8]) -> AmbientStatus {
    // SAFETY: `model` is a writable handle and `bytes` outlives every use in these tests.
    unsafe { ambient_model_open(model, bytes.as_ptr(), bytes.len()) }
}

#[test]
fn open_builds_model_in_handle() {
    let mut model = zeroed_handle();
    assert_eq!(open(&mut model, SMALL_MODEL), AmbientStatus::Ok);
    let info = info(&model).unwrap();
    assert_eq!(info.latent_len, 16);
    assert_eq!(info.output_len, 784);
    assert_eq!(info.file_len, SMALL_MODEL.len());
    assert_eq!((info.format_major, info.format_minor), (1, 1));
}

#[test]
fn failed_open_zeroes_handle() {
    let mut model = zeroed_handle();
    assert_eq!(open(&mut model, SMALL_MODEL), AmbientStatus::Ok);

    let mut corrupt = SMALL_MODEL.to_vec();
    corrupt[SMALL_MODEL.len() / 2] ^= 1;
    assert_eq!(
        open(&mut model, &corrupt),
        AmbientStatus::ModelChecksumMismatch
    );
    assert_eq!(info(&model), Err(AmbientStatus::InvalidHandle));
    assert!(is_zero(&model), "the failed open left bytes behind");

    // An error found after every layer was parsed into the handle: the header's output
    // shape (offset 28) no longer matches the last layer's, and the CRC is made valid.
    assert_eq!(open(&mut model, SMALL_MODEL), AmbientStatus::Ok);
    let mut wrong_shape = SMALL_MODEL.to_vec();
    wrong_shape[28] = 2;
    let end = wrong_shape.len() - 4;
    let crc = ambient_core::format::crc32(&wrong_shape[..end]);
    wrong_shape[end..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(open(&mut model, &wrong_shape), AmbientStatus::InvalidModel);
    assert_eq!(info(&model), Err(AmbientStatus::InvalidHandle));
    assert!(is_zero(&model), "the failed open left layers behind");
}

fn is_zero(model: &AmbientModel) -> bool {
    // SAFETY: the handle is plain words.
    let words: &[u64; 4096] = unsafe { &*(model as *const AmbientModel).cast() };
    words.iter().all(|&w| w == 0)
}
