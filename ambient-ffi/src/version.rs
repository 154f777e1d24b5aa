//! The library version, as compile-time macros in the header and at run time.

use core::ffi::{c_char, CStr};

/// Major version of the header. Compare with `ambient_version()` to detect a header and
/// library from different releases.
pub const AMBIENT_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const AMBIENT_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const AMBIENT_VERSION_PATCH: u32 = 0;

/// The crate version with a NUL terminator, checked against Cargo's at compile time.
const VERSION: &CStr = c"0.1.0";

const _: () = assert!(bytes_equal(
    VERSION.to_bytes(),
    env!("CARGO_PKG_VERSION").as_bytes()
));

const fn bytes_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Returns the library version as a static, NUL-terminated string such as "0.1.0". The
/// string must not be freed.
#[no_mangle]
pub extern "C" fn ambient_version() -> *const c_char {
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_match_cargo_version() {
        let parts = [
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            env!("CARGO_PKG_VERSION_PATCH"),
        ];
        let macros = [
            AMBIENT_VERSION_MAJOR,
            AMBIENT_VERSION_MINOR,
            AMBIENT_VERSION_PATCH,
        ];
        for (part, value) in parts.iter().zip(macros) {
            assert_eq!(part.parse::<u32>().unwrap(), value);
        }
    }

    #[test]
    fn version_string_is_cargo_version() {
        let version = unsafe { CStr::from_ptr(ambient_version()) };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
