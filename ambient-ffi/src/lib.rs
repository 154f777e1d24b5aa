//! `ambient-ffi`: the C ABI over `ambient-core`.
#![no_std]
