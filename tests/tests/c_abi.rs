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
use ambient::record::AmbientRecordWriter;
use ambient_core::measure::{Measurement, MeasurementKind, MeasurementParams, Operator};
use ambient_core::record::RecordReader;
use ambient_core::sampler::image_seed;
use ambient_core::Shape;
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
        ("ambient_record_writer", size_of::<AmbientRecordWriter>()),
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

/// A stream `tests/c/record.c` writes, with its default parameters.
struct RecordStream {
    name: &'static str,
    kind: MeasurementKind,
    shape: Shape,
    range: [f32; 2],
    classes: u32,
    records: u64,
}

/// The streams of `tests/c/record.c`, in its order.
const RECORD_STREAMS: [RecordStream; 4] = [
    RecordStream {
        name: "block-pixels",
        kind: MeasurementKind::BlockPixels,
        shape: Shape::new(1, 28, 28),
        range: [0.0, 1.0],
        classes: 0,
        records: 5,
    },
    RecordStream {
        name: "convolve-noise",
        kind: MeasurementKind::ConvolveNoise,
        shape: Shape::new(3, 16, 12),
        range: [-1.0, 1.0],
        classes: 10,
        records: 4,
    },
    RecordStream {
        name: "drop-row-col",
        kind: MeasurementKind::DropRowCol,
        shape: Shape::new(1, 28, 28),
        range: [0.0, 1.0],
        classes: 0,
        records: 3,
    },
    RecordStream {
        name: "keep-patch",
        kind: MeasurementKind::KeepPatch,
        shape: Shape::new(1, 28, 28),
        range: [0.0, 1.0],
        classes: 2,
        records: 3,
    },
];

#[test]
fn c_record_streams_read_back() {
    let program = compile("record", Language::C, &["record.c", "util.c"], &[]);
    let out_dir = build_dir().join("programs/records");
    std::fs::create_dir_all(&out_dir).unwrap();
    run(&program, &[&out_dir]);

    for expected in RECORD_STREAMS {
        let RecordStream {
            name,
            kind,
            shape,
            range: [lo, hi],
            classes,
            records,
        } = expected;
        let stream = std::fs::read(out_dir.join(format!("{name}.ambr"))).unwrap();
        let mut reader = RecordReader::new(&stream).unwrap_or_else(|e| panic!("{name}: {e}"));
        let header = *reader.header();
        assert_eq!(header.kind, kind, "{name}");
        assert_eq!(header.params, MeasurementParams::default(), "{name}");
        assert_eq!(header.shape, shape, "{name}");
        assert_eq!((header.range.lo, header.range.hi), (lo, hi), "{name}");
        assert_eq!(header.classes, classes, "{name}");

        let op = Operator::new(kind, shape, &MeasurementParams::default()).unwrap();
        let n_in = shape.checked_len().unwrap();
        let images = cases::image(records as usize * n_in);
        let mut values = vec![0.0; op.output_len()];
        let mut want = vec![0.0; op.output_len()];
        for (i, x) in images.chunks_exact(n_in).enumerate() {
            let info = reader.next_record(&mut values).unwrap().expect("a record");
            let seed = image_seed(77, i as u64);
            assert_eq!(info.seed, seed, "{name} record {i}");
            let label = (classes > 0).then(|| i as u32 % classes);
            assert_eq!(info.label, label, "{name} record {i}");
            op.measure(x, seed, &mut want).unwrap();
            assert!(
                values
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} record {i}: values differ from ambient-core's measurement"
            );
        }
        assert_eq!(
            reader.next_record(&mut values).unwrap(),
            None,
            "{name}: end marker"
        );
        assert_eq!(reader.records(), records, "{name}");
    }
}
