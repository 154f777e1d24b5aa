//! Cross-crate tests of ambient: parity between `ambient-core` and `ambient-host`, and C
//! and C++ programs linked against `ambient-ffi`. The tests live under `tests/tests/`.
