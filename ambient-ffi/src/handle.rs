//! Handles: Rust values stored in caller-owned C structs of a fixed, stated size.
//!
//! A handle struct (`ambient_measurement`, `ambient_record_writer`, ...) is an array of
//! `u64` words. An init function writes a tag word and then the Rust value into it; every
//! other function checks the tag before it touches the value, so a zeroed handle, or one
//! whose init failed, gets `AMBIENT_STATUS_INVALID_HANDLE`. Each handle type has its own
//! tag, so passing one kind of handle where another is expected is caught too.

use core::mem::{align_of, needs_drop, size_of, MaybeUninit};
use core::ptr::addr_of_mut;

use crate::boundary::{input, out_param, OutParam};
use crate::status::AmbientStatus;

/// The layout written into a handle struct.
#[repr(C)]
struct Tagged<T> {
    tag: u64,
    value: T,
}

/// Returns whether a `T` fits a handle struct `S` with its tag: size, alignment, and no
/// destructor, since C copies handles with `memcpy` and never frees them.
pub(crate) const fn fits<S, T>() -> bool {
    size_of::<Tagged<T>>() <= size_of::<S>()
        && align_of::<Tagged<T>>() <= align_of::<S>()
        && !needs_drop::<T>()
}

/// Checks the handle pointer (NULL, alignment) and its tag.
///
/// # Safety
///
/// A non-NULL `handle` must point at a handle struct whose memory has been written.
unsafe fn check<S>(handle: *const S, tag: u64) -> Result<(), AmbientStatus> {
    unsafe { input(handle) }?;
    // Only the tag word is read until it matches: the rest may be any bytes.
    // SAFETY: non-NULL and aligned for S (checked), hence for its first u64 word.
    let stored = unsafe { *handle.cast::<u64>() };
    if stored == tag {
        Ok(())
    } else {
        Err(AmbientStatus::InvalidHandle)
    }
}

/// Returns the value in the handle `handle` with tag `tag`.
///
/// # Safety
///
/// `fits::<S, T>()` must hold and `tag` must be used only for `T` in `S`. A non-NULL
/// `handle` must point at an `S` whose memory has been written and that nothing writes
/// for `'a`.
pub(crate) unsafe fn get<'a, S, T>(handle: *const S, tag: u64) -> Result<&'a T, AmbientStatus> {
    unsafe { check(handle, tag) }?;
    // SAFETY: the tag is written only together with a valid `Tagged<T>` (see `put`), and
    // `S` is large and aligned enough for it (caller, checked at compile time).
    Ok(unsafe { &(*handle.cast::<Tagged<T>>()).value })
}

/// Returns the value in the handle `handle` with tag `tag`, mutably.
///
/// # Safety
///
/// As for [`get`], and nothing else may read or write the handle for `'a`.
pub(crate) unsafe fn get_mut<'a, S, T>(
    handle: *mut S,
    tag: u64,
) -> Result<&'a mut T, AmbientStatus> {
    unsafe { check(handle, tag) }?;
    // SAFETY: as in `get`; exclusive access for 'a (caller).
    Ok(unsafe { &mut (*handle.cast::<Tagged<T>>()).value })
}

/// Checks the pointer a handle will be written to, before the init does any work.
pub(crate) fn out_handle<S>(handle: *mut S) -> Result<OutParam<S>, AmbientStatus> {
    out_param(handle)
}

/// Writes `value` with `tag` into the handle.
///
/// # Safety
///
/// `fits::<S, T>()` must hold, `tag` must be used only for `T` in `S`, and the handle
/// must be writable.
pub(crate) unsafe fn put<S, T>(handle: OutParam<S>, tag: u64, value: T) {
    // SAFETY: `S` is large and aligned enough for `Tagged<T>` (caller, checked at compile
    // time) and writable (caller).
    unsafe {
        handle
            .as_ptr()
            .cast::<Tagged<T>>()
            .write(Tagged { tag, value })
    }
}

/// Builds the value of a handle in place with `init`, which gets the handle's value slot,
/// and writes `tag` only when `init` succeeds. The value is never moved through the stack,
/// which matters for values as large as a model's layer table. On failure the whole handle
/// is zeroed, so it reads as invalid and contains no part of a value.
///
/// # Safety
///
/// As for [`put`]; `init` must return `Ok` only after it initialised the slot.
pub(crate) unsafe fn put_in_place<S, T>(
    handle: OutParam<S>,
    tag: u64,
    init: impl FnOnce(&mut MaybeUninit<T>) -> Result<(), AmbientStatus>,
) -> Result<(), AmbientStatus> {
    let tagged = handle.as_ptr().cast::<Tagged<T>>();
    // SAFETY: `S` is large and aligned enough for `Tagged<T>` (caller, checked at compile
    // time) and writable (caller). The value field is only written through the
    // `MaybeUninit` view until `init` reports it initialised.
    unsafe {
        addr_of_mut!((*tagged).tag).write(0);
        let value = &mut *addr_of_mut!((*tagged).value).cast::<MaybeUninit<T>>();
        match init(value) {
            Ok(()) => {
                addr_of_mut!((*tagged).tag).write(tag);
                Ok(())
            }
            Err(status) => {
                handle.as_ptr().cast::<u8>().write_bytes(0, size_of::<S>());
                Err(status)
            }
        }
    }
}
