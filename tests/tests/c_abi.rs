//! C and C++ programs linked against `libambient.a`, built and run by `cargo test`.
//!
//! The programs live in `tests/c/`. Each includes `ambient.h` in two translation units
//! (its own and `util.c`, or `abi.cpp` and `abi_unit.cpp`) and compiles with warnings as
//! errors: C as `-std=c99 -Wall -Wextra -Werror -Wpedantic`, C++ as `-std=c++17` with the
//! same warnings. They need `gcc` and `g++` (or `CC` and `CXX`), which the set-up script
//! installs.

mod c_abi {
    pub mod cases;
    pub mod programs;
}

use std::mem::{offset_of, size_of};

use ambient::measurement::{AmbientMeasurement, AmbientMeasurementParams, AmbientShape};
use c_abi::cases::{self, parse_bits, Printed};
use c_abi::programs::{build_dir, cargo_build_ffi, compile, run, Language};

#[test]
fn c_measurements_match_core() {
    let program = compile("measure", Language::C, &["measure.c", "util.c"], &[]);
    let cases = cases::all();
    let case_file = build_dir().join("programs/measure-cases.txt");
    let lines: Vec<String> = cases.iter().map(|c| c.line()).collect();
    std::fs::write(&case_file, lines.join("\n") + "\n").unwrap();

    let printed = Printed::parse(&run(&program, &[&case_file]));
    for case in &cases {
        let expected = cases::expected(case);
        let init: i32 = printed.fields(&case.name, "init")[0].parse().unwrap();
        assert_eq!(init, expected.init, "init status of {}", case.name);
        let Some(lens) = expected.lens else {
            assert!(
                !printed.has(&case.name, "y"),
                "{} printed y after a failed init",
                case.name
            );
            continue;
        };
        let printed_lens: Vec<usize> = printed
            .fields(&case.name, "lens")
            .iter()
            .map(|f| f.parse().unwrap())
            .collect();
        assert_eq!(
            printed_lens, lens,
            "input, output and theta lengths of {}",
            case.name
        );
        for (what, want) in &expected.values {
            let got = parse_bits(printed.fields(&case.name, what));
            assert_eq!(got.len(), want.len(), "{what} length of {}", case.name);
            if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
                panic!(
                    "{what}[{i}] of {}: C gave {:e}, ambient-core {:e}",
                    case.name,
                    f32::from_bits(got[i]),
                    f32::from_bits(want[i])
                );
            }
        }
    }
}

#[test]
fn c_error_paths() {
    let program = compile("errors", Language::C, &["errors.c", "util.c"], &[]);
    let stdout = run(&program, &[]);
    assert!(stdout.contains("errors: "), "{stdout}");
}

#[test]
fn c_library_never_allocates() {
    let wrap = "-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,\
                --wrap=posix_memalign,--wrap=aligned_alloc,--wrap=memalign";
    let program = compile("no_heap", Language::C, &["no_heap.c", "util.c"], &[wrap]);
    let stdout = run(&program, &[]);
    assert!(
        stdout.contains("allocator calls by the library: 0\n"),
        "{stdout}"
    );
}

#[test]
fn cpp_program_uses_header() {
    let program = compile("abi_cpp", Language::Cxx, &["abi.cpp", "abi_unit.cpp"], &[]);
    let stdout = run(&program, &[]);
    assert!(stdout.contains("abi_cpp: "), "{stdout}");
}

#[test]
fn c_struct_layout_matches_rust() {
    let program = compile("layout", Language::C, &["layout.c", "util.c"], &[]);
    let printed = run(&program, &[]);
    let c_layout: std::collections::HashMap<&str, usize> = printed
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter_map(|(name, value)| Some((name, value.parse().ok()?)))
        .collect();

    type P = AmbientMeasurementParams;
    let rust_layout = [
        ("ambient_measurement_params", size_of::<P>()),
        ("ambient_measurement_params.kind", offset_of!(P, kind)),
        ("ambient_measurement_params.p", offset_of!(P, p)),
        ("ambient_measurement_params.rescale", offset_of!(P, rescale)),
        (
            "ambient_measurement_params.per_channel",
            offset_of!(P, per_channel),
        ),
        ("ambient_measurement_params.patch", offset_of!(P, patch)),
        (
            "ambient_measurement_params.kernel_size",
            offset_of!(P, kernel_size),
        ),
        ("ambient_measurement_params.sigma", offset_of!(P, sigma)),
        (
            "ambient_measurement_params.noise_std",
            offset_of!(P, noise_std),
        ),
        (
            "ambient_measurement_params.auto_pad",
            offset_of!(P, auto_pad),
        ),
        ("ambient_measurement_params.pad", offset_of!(P, pad)),
        ("ambient_measurement_params.angles", offset_of!(P, angles)),
        (
            "ambient_measurement_params.interpolation",
            offset_of!(P, interpolation),
        ),
        (
            "ambient_measurement_params.projections",
            offset_of!(P, projections),
        ),
        ("ambient_shape", size_of::<AmbientShape>()),
        ("ambient_shape.channels", offset_of!(AmbientShape, channels)),
        ("ambient_shape.height", offset_of!(AmbientShape, height)),
        ("ambient_shape.width", offset_of!(AmbientShape, width)),
        ("ambient_measurement", size_of::<AmbientMeasurement>()),
    ];
    for (name, rust) in rust_layout {
        assert_eq!(
            c_layout.get(name),
            Some(&rust),
            "{name}: C layout against Rust"
        );
    }
}

#[test]
fn staticlib_builds_for_cortex_m() {
    // The build fails if anything in the library needs an allocator, because this
    // no_std target has none.
    cargo_build_ffi(&["--target", "thumbv7em-none-eabihf"]);
    let library = build_dir().join("thumbv7em-none-eabihf/debug/libambient.a");
    assert!(library.is_file(), "no {}", library.display());
}
