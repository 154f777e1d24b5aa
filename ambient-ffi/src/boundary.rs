//! What every exported function does at the boundary: catch panics where the platform can,
//! and turn raw C pointers into references only after checking them.
//!
//! Each check here turns a caller mistake that would be undefined behaviour in Rust (a
//! NULL or misaligned pointer, a length past `isize::MAX` bytes, an output aliasing an
//! input) into a status. What no library can check, that a non-NULL pointer really points
//! at `len` valid elements that nothing else writes during the call, stays the caller's
//! contract, as in every C API.

use core::mem::{align_of, size_of};

use crate::status::AmbientStatus;

/// The result of an exported function's body.
pub(crate) type CallResult = Result<(), AmbientStatus>;

/// Runs the body of an exported function and returns its status.
///
/// On hosted targets a panic (only a library bug can cause one, because every input is
/// checked first) is caught and becomes `AMBIENT_STATUS_INTERNAL_ERROR`, unless the
/// library was built with `panic = "abort"`, in which case the process aborts. On
/// bare-metal targets there is no unwinding, and the crate's panic handler stops the
/// core. A panic never unwinds into C.
pub(crate) fn guard(body: impl FnOnce() -> CallResult) -> AmbientStatus {
    into_status(catch(body))
}

fn into_status(result: Option<CallResult>) -> AmbientStatus {
    match result {
        Some(Ok(())) => AmbientStatus::Ok,
        Some(Err(status)) => status,
        None => AmbientStatus::InternalError,
    }
}

#[cfg(not(target_os = "none"))]
fn catch(body: impl FnOnce() -> CallResult) -> Option<CallResult> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).ok()
}

#[cfg(target_os = "none")]
fn catch(body: impl FnOnce() -> CallResult) -> Option<CallResult> {
    Some(body())
}

/// Checks that `ptr` is non-NULL and aligned for `T`.
fn check_pointer<T>(ptr: *const T) -> CallResult {
    if ptr.is_null() {
        return Err(AmbientStatus::NullPointer);
    }
    if (ptr as usize) % align_of::<T>() != 0 {
        return Err(AmbientStatus::Misaligned);
    }
    Ok(())
}

/// Checks `ptr` and `len` as the start and length of a `[T]` (see [`check_pointer`]),
/// and returns the array's size in bytes.
fn check_array<T>(ptr: *const T, len: usize) -> Result<usize, AmbientStatus> {
    check_pointer(ptr)?;
    match len.checked_mul(size_of::<T>()) {
        Some(bytes) if bytes <= isize::MAX as usize => Ok(bytes),
        _ => Err(AmbientStatus::LengthTooLarge),
    }
}

/// Returns the C object at `ptr` as a shared reference, after the NULL and alignment checks.
///
/// # Safety
///
/// A non-NULL `ptr` must point at a valid `T` that nothing writes for `'a`.
pub(crate) unsafe fn input<'a, T>(ptr: *const T) -> Result<&'a T, AmbientStatus> {
    check_pointer(ptr)?;
    // SAFETY: non-NULL and aligned (checked); valid and not written for 'a (caller).
    Ok(unsafe { &*ptr })
}

/// Returns the C array at `ptr` of `len` elements as a slice, after the NULL, alignment and
/// size checks.
///
/// # Safety
///
/// A non-NULL `ptr` must point at `len` valid `T` that nothing writes for `'a`.
pub(crate) unsafe fn input_array<'a, T>(
    ptr: *const T,
    len: usize,
) -> Result<&'a [T], AmbientStatus> {
    check_array(ptr, len)?;
    // SAFETY: non-NULL, aligned and at most isize::MAX bytes (checked); valid and not
    // written for 'a (caller).
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// An output array checked by [`output_array`] but not yet borrowed, so that it can be
/// tested for overlap with the inputs first.
pub(crate) struct OutputArray<T> {
    ptr: *mut T,
    len: usize,
    bytes: usize,
}

/// Checks the C output array at `ptr` of `len` elements: NULL, alignment and size.
pub(crate) fn output_array<T>(ptr: *mut T, len: usize) -> Result<OutputArray<T>, AmbientStatus> {
    let bytes = check_array(ptr, len)?;
    Ok(OutputArray { ptr, len, bytes })
}

impl<T> OutputArray<T> {
    /// Fails with `AMBIENT_STATUS_OVERLAP` when this array shares a byte with `input`.
    pub(crate) fn check_disjoint<U>(&self, input: &[U]) -> CallResult {
        let input_range = (input.as_ptr() as usize, core::mem::size_of_val(input));
        check_ranges_disjoint((self.ptr as usize, self.bytes), input_range)
    }

    /// Fails with `AMBIENT_STATUS_OVERLAP` when this array shares a byte with `other`.
    pub(crate) fn check_disjoint_output<U>(&self, other: &OutputArray<U>) -> CallResult {
        check_ranges_disjoint(
            (self.ptr as usize, self.bytes),
            (other.ptr as usize, other.bytes),
        )
    }

    /// Returns the first `len` elements as a mutable slice; `len` must not exceed
    /// [`OutputArray::len`].
    ///
    /// # Safety
    ///
    /// The array must be `len()` valid `T` that nothing else reads or writes for `'a`.
    pub(crate) unsafe fn prefix<'a>(&self, len: usize) -> Result<&'a mut [T], AmbientStatus> {
        if len > self.len {
            return Err(AmbientStatus::BufferTooSmall);
        }
        // SAFETY: non-NULL, aligned and in bounds (checked); exclusive for 'a (caller).
        Ok(unsafe { core::slice::from_raw_parts_mut(self.ptr, len) })
    }
}

/// Fails with `AMBIENT_STATUS_OVERLAP` when two byte ranges `(start, len)` share a byte.
/// Both lie inside the address space, so neither end overflows; an empty range overlaps
/// nothing.
fn check_ranges_disjoint(a: (usize, usize), b: (usize, usize)) -> CallResult {
    let ((a_start, a_len), (b_start, b_len)) = (a, b);
    if a_len > 0 && b_len > 0 && a_start < b_start + b_len && b_start < a_start + a_len {
        Err(AmbientStatus::Overlap)
    } else {
        Ok(())
    }
}

/// An out-parameter, checked for NULL and alignment before the call does any work and
/// written only when it succeeds.
pub(crate) struct OutParam<T>(*mut T);

/// Checks the out-parameter `ptr`.
pub(crate) fn out_param<T>(ptr: *mut T) -> Result<OutParam<T>, AmbientStatus> {
    check_pointer(ptr)?;
    Ok(OutParam(ptr))
}

impl<T> OutParam<T> {
    /// Writes `value` without reading or dropping what was there.
    ///
    /// # Safety
    ///
    /// The pointer must be valid for writing a `T` that nothing else accesses meanwhile.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL and aligned (checked); valid for writes (caller).
        unsafe { self.0.write(value) }
    }

    /// Returns the raw pointer, for out-parameters that are larger objects.
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_passes_status_through() {
        assert_eq!(guard(|| Ok(())), AmbientStatus::Ok);
        assert_eq!(
            guard(|| Err(AmbientStatus::Overlap)),
            AmbientStatus::Overlap
        );
    }

    #[test]
    fn guard_catches_panic() {
        let status = guard(|| panic!("a bug"));
        assert_eq!(status, AmbientStatus::InternalError);
    }

    #[test]
    fn input_array_checks() {
        let values = [1.0f32, 2.0, 3.0];
        let null: *const f32 = core::ptr::null();
        let odd = (values.as_ptr() as usize + 1) as *const f32;
        assert_eq!(
            unsafe { input_array(null, 0) },
            Err(AmbientStatus::NullPointer)
        );
        assert_eq!(
            unsafe { input_array(odd, 1) },
            Err(AmbientStatus::Misaligned)
        );
        let huge = isize::MAX as usize / 4 + 1;
        let too_long = unsafe { input_array(values.as_ptr(), huge) };
        assert_eq!(too_long, Err(AmbientStatus::LengthTooLarge));
        let ok = unsafe { input_array(values.as_ptr(), 3) }.unwrap();
        assert_eq!(ok, &values);
    }

    #[test]
    fn overlap_detected() {
        let mut buffer = [0.0f32; 8];
        let base = buffer.as_mut_ptr();
        let input = unsafe { core::slice::from_raw_parts(base, 4) };
        let touching = output_array(unsafe { base.add(4) }, 4).unwrap();
        assert_eq!(touching.check_disjoint(input), Ok(()));
        let sharing = output_array(unsafe { base.add(3) }, 4).unwrap();
        assert_eq!(sharing.check_disjoint(input), Err(AmbientStatus::Overlap));
        let same = output_array(base, 1).unwrap();
        assert_eq!(same.check_disjoint(input), Err(AmbientStatus::Overlap));
        let empty = unsafe { core::slice::from_raw_parts(base.add(1), 0) };
        assert_eq!(same.check_disjoint(empty), Ok(()));
        let inner = output_array(unsafe { base.add(2) }, 2).unwrap();
        assert_eq!(
            sharing.check_disjoint_output(&inner),
            Err(AmbientStatus::Overlap)
        );
        assert_eq!(touching.check_disjoint_output(&same), Ok(()));
    }

    #[test]
    fn prefix_rejects_more_than_len() {
        let mut buffer = [0.0f32; 4];
        let out = output_array(buffer.as_mut_ptr(), 4).unwrap();
        assert_eq!(
            unsafe { out.prefix(5) }.err(),
            Some(AmbientStatus::BufferTooSmall)
        );
        assert_eq!(unsafe { out.prefix(4) }.unwrap().len(), 4);
    }
}
