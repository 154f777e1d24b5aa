//! C and C++ programs linked against `libambient.a`, built and run by `cargo test`.
//!
//! The programs live in `tests/c/`. Each includes `ambient.h` in two translation units
//! (its own and `util.c`, or `abi.cpp` and `abi_unit.cpp`) and compiles with warnings as
//! errors: C as `-std=c99 -Wall -Wextra -Werror -Wpedantic`, C++ as `-std=c++17` with the
//! same warnings. They need `gcc` and `g++` (or `CC` and `CXX`), which the set-up script
//! installs.
//!
//! Most programs link the product build of the library (`cargo build -p ambient-ffi`
//! alone). Bit-for-bit comparison of float generator outputs uses a second build with the
//! core's `std` feature, because the f32 GEMM kernel depends on that feature and the Rust
//! side of these tests has it; the product build is compared within rounding.

mod c_abi {
    pub mod cases;
    pub mod models;
    pub mod programs;
}

use std::mem::{offset_of, size_of};

use ambient::measurement::{AmbientMeasurement, AmbientMeasurementParams, AmbientShape};
use ambient::model::{AmbientModel, AmbientModelInfo, AMBIENT_SCRATCH_ALIGN};
use ambient::record::AmbientRecordWriter;
use ambient::status::AmbientStatus;
use ambient_core::measure::{Measurement, MeasurementKind, MeasurementParams, Operator};
use ambient_core::nn::Model;
use ambient_core::record::RecordReader;
use ambient_core::sampler::image_seed;
use ambient_core::Shape;
use c_abi::cases::{self, parse_bits, Printed};
use c_abi::models;
use c_abi::programs::{
    self, build_dir, cargo_build_ffi, compile, compile_example, compile_for, run, Build, Language,
};

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
    let paths: Vec<&std::path::Path> = model_files()
        .iter()
        .map(|(_, path, _)| path.as_path())
        .collect();
    let stdout = run(&program, &paths);
    assert!(
        stdout.contains("allocator calls by the library: 0\n"),
        "{stdout}"
    );
}

#[test]
fn cpp_program_uses_header() {
    let program = compile("abi_cpp", Language::Cxx, &["abi.cpp", "abi_unit.cpp"], &[]);
    let (_, model, _) = model_files().iter().find(|m| m.0 == "dcgan-f32").unwrap();
    let stdout = run(&program, &[model]);
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
        ("ambient_model", size_of::<AmbientModel>()),
        ("ambient_model_info", size_of::<AmbientModelInfo>()),
        (
            "ambient_model_info.latent_len",
            offset_of!(AmbientModelInfo, latent_len),
        ),
        (
            "ambient_model_info.classes",
            offset_of!(AmbientModelInfo, classes),
        ),
        (
            "ambient_model_info.output_shape",
            offset_of!(AmbientModelInfo, output_shape),
        ),
        (
            "ambient_model_info.output_len",
            offset_of!(AmbientModelInfo, output_len),
        ),
        (
            "ambient_model_info.file_len",
            offset_of!(AmbientModelInfo, file_len),
        ),
        (
            "ambient_model_info.compute",
            offset_of!(AmbientModelInfo, compute),
        ),
        (
            "ambient_model_info.value_range",
            offset_of!(AmbientModelInfo, value_range),
        ),
        (
            "ambient_model_info.format_major",
            offset_of!(AmbientModelInfo, format_major),
        ),
        (
            "ambient_model_info.format_minor",
            offset_of!(AmbientModelInfo, format_minor),
        ),
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
    cargo_build_ffi(Build::Product, &["--target", "thumbv7em-none-eabihf"]);
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

/// A weight file of the model tests: its name, path and bytes.
type ModelFile = (&'static str, std::path::PathBuf, Vec<u8>);

/// Returns the weight files of the model tests, written once per test process into the
/// program directory (tests run in parallel, and two writing one file would race).
fn model_files() -> &'static [ModelFile] {
    static FILES: std::sync::OnceLock<Vec<ModelFile>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let dir = build_dir().join("programs/models");
        std::fs::create_dir_all(&dir).unwrap();
        let models = [
            ("dcgan-f32", models::dcgan(false)),
            ("dcgan-f16", models::dcgan(true)),
            ("conditional", models::conditional()),
            ("dcgan-int8", models::dcgan_int8()),
        ];
        models
            .into_iter()
            .map(|(name, bytes)| {
                let path = dir.join(format!("{name}.amb"));
                std::fs::write(&path, &bytes).unwrap();
                (name, path, bytes)
            })
            .collect()
    })
}

/// What `model generate` printed for one weight file.
struct Generated {
    info: Vec<usize>,
    scratch: usize,
    out: Vec<u32>,
}

/// Runs `program generate path seed batch` and parses its `info`, `scratch` and `out`
/// lines.
fn run_generate(
    program: &std::path::Path,
    path: &std::path::Path,
    seed: u64,
    batch: usize,
) -> Generated {
    let seed_arg = std::path::PathBuf::from(seed.to_string());
    let batch_arg = std::path::PathBuf::from(batch.to_string());
    let generate = std::path::Path::new("generate");
    let stdout = run(program, &[generate, path, &seed_arg, &batch_arg]);
    let line = |what: &str| -> Vec<String> {
        let prefix = format!("{what} ");
        let line = stdout.lines().find(|l| l.starts_with(&prefix));
        let line = line.unwrap_or_else(|| panic!("no `{what}` line in\n{stdout}"));
        line.split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    Generated {
        info: line("info").iter().map(|f| f.parse().unwrap()).collect(),
        scratch: line("scratch")[0].parse().unwrap(),
        out: parse_bits(&line("out")),
    }
}

/// Returns the fields of `ambient_model_info` for `bytes`, in the order `model.c` prints
/// them.
fn expected_info(bytes: &[u8]) -> Vec<usize> {
    let model = Model::parse(bytes).unwrap();
    let header = model.header();
    let shape = model.output_shape();
    let compute = u8::from(header.compute != ambient_core::format::Compute::Float);
    let range = match header.range {
        ambient_core::format::ValueRange::Unbounded => 0,
        ambient_core::format::ValueRange::ZeroOne => 1,
        _ => 2,
    };
    vec![
        model.latent(),
        model.classes(),
        shape.channels,
        shape.height,
        shape.width,
        model.output_len(),
        bytes.len(),
        usize::from(compute),
        range,
        usize::from(header.major),
        usize::from(header.minor),
    ]
}

#[test]
fn c_generate_matches_core() {
    // The library with the core's `std` feature, as on the Rust side: same f32 kernel.
    let program = compile_for(
        Build::CoreStd,
        "model",
        Language::C,
        &["model.c", "util.c"],
        &[],
    );
    let (seed, batch) = (11u64, 3usize);
    for (name, path, bytes) in model_files() {
        let generated = run_generate(&program, path, seed, batch);
        assert_eq!(
            generated.info,
            expected_info(bytes),
            "{name}: ambient_model_info"
        );
        let model = Model::parse(bytes).unwrap();
        let scratch = model.scratch_len(batch).unwrap();
        assert_eq!(generated.scratch, scratch, "{name}: scratch length");
        assert_eq!(model.scratch_align(), AMBIENT_SCRATCH_ALIGN, "{name}");

        let want = models::generate(bytes, seed, batch);
        let got = &generated.out;
        assert_eq!(got.len(), want.len(), "{name}: output length");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            panic!(
                "{name}: out[{i}] is {:e} from C, {:e} from ambient-core",
                f32::from_bits(got[i]),
                f32::from_bits(want[i])
            );
        }
    }
}

/// The largest difference allowed between the product build's float outputs and the Rust
/// side's. The two run the f32 GEMM with different tiles (and FMA only on the Rust side,
/// where the CPU has it), so sums are rounded in a different order. The outputs here lie in
/// [-1, 1]; the largest difference seen is one unit in the last place (1.2e-7 at 1), and
/// 1e-6 is about eight.
const PRODUCT_FLOAT_TOLERANCE: f32 = 1e-6;

#[test]
fn c_product_generate_close_to_core() {
    let program = compile("model", Language::C, &["model.c", "util.c"], &[]);
    let (seed, batch) = (11u64, 3usize);
    for (name, path, bytes) in model_files() {
        let generated = run_generate(&program, path, seed, batch);
        assert_eq!(
            generated.info,
            expected_info(bytes),
            "{name}: ambient_model_info"
        );
        let want = models::generate(bytes, seed, batch);
        let got = &generated.out;
        assert_eq!(got.len(), want.len(), "{name}: output length");
        // The int8 path is integer arithmetic up to one dequantisation, the same in every
        // build.
        let tolerance = if name.ends_with("int8") {
            0.0
        } else {
            PRODUCT_FLOAT_TOLERANCE
        };
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            let (g, w) = (f32::from_bits(g), f32::from_bits(w));
            assert!(
                (g - w).abs() <= tolerance,
                "{name}: out[{i}] is {g:e} from C, {w:e} from ambient-core"
            );
        }
    }
}

#[test]
fn c_corrupt_models_rejected() {
    let program = compile("model", Language::C, &["model.c", "util.c"], &[]);
    let dir = build_dir().join("programs/corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let valid = models::dcgan(false);
    let mut files = vec![("valid", valid.clone(), "Ok")];
    files.extend(models::corrupt(&valid));
    let paths: Vec<std::path::PathBuf> = files
        .iter()
        .map(|(name, bytes, _)| {
            let path = dir.join(format!("{name}.amb"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    let mut args: Vec<&std::path::Path> = vec![std::path::Path::new("open")];
    args.extend(paths.iter().map(|p| p.as_path()));
    let stdout = run(&program, &args);

    for ((name, bytes, status_name), path) in files.iter().zip(&paths) {
        let expected = match Model::parse(bytes) {
            Ok(_) => AmbientStatus::Ok,
            Err(e) => AmbientStatus::from(e),
        };
        assert_eq!(
            format!("{expected:?}"),
            *status_name,
            "{name}: status from ambient-core"
        );
        let line = format!("open {} {}", path.display(), expected as i32);
        assert!(
            stdout.lines().any(|l| l == line),
            "{name}: expected `{line}` in\n{stdout}"
        );
    }
}

/// Reads a binary PGM (`P5`) or PPM (`P6`) file: the magic, width, height and pixels.
fn read_picture(path: &std::path::Path) -> (String, usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut start = 0;
    // Four whitespace-separated header fields: magic, width, height, maximum value.
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_whitespace() {
            fields.push(String::from_utf8(bytes[start..i].to_vec()).unwrap());
            start = i + 1;
            if fields.len() == 4 {
                break;
            }
        }
    }
    assert_eq!(fields[3], "255", "{}: maximum value", path.display());
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (fields[0].clone(), width, height, bytes[start..].to_vec())
}

/// Returns the pixels `examples/c/generate.c` writes for one generated image (channel
/// planes interleaved per pixel), with the same f32 arithmetic.
fn expected_pixels(bytes: &[u8], seed: u64, label: u32) -> Vec<u8> {
    let mut model = Model::parse(bytes).unwrap();
    model.set_gemm_route(ambient_core::nn::GemmRoute::Blocked);
    let z = models::latent(seed, model.latent());
    let labels = [label];
    let labels = (model.classes() > 0).then_some(&labels[..]);
    let mut image = vec![0.0f32; model.output_len()];
    let mut scratch = models::AlignedScratch::new(model.scratch_len(1).unwrap());
    model
        .generate(&z, labels, &mut image, scratch.bytes())
        .unwrap();

    let minus_one_one = model.header().range == ambient_core::format::ValueRange::MinusOneOne;
    let shape = model.output_shape();
    let plane = shape.height * shape.width;
    let mut pixels = Vec::new();
    for i in 0..plane {
        for c in 0..shape.channels {
            let value = image[c * plane + i];
            let unit = if minus_one_one {
                (value + 1.0) / 2.0
            } else {
                value
            };
            pixels.push((unit.clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
        }
    }
    pixels
}

#[test]
fn example_writes_generated_picture() {
    let program = compile_example("generate");
    let out_dir = build_dir().join("programs/pictures");
    std::fs::create_dir_all(&out_dir).unwrap();
    let cases = [("dcgan-f32", "P5", 1u32), ("conditional", "P6", 2)];
    for (model_name, magic, label) in cases {
        let (_, model_path, bytes) = model_files().iter().find(|m| m.0 == model_name).unwrap();
        let picture = out_dir.join(format!("{model_name}.pnm"));
        let seed = std::path::PathBuf::from("7");
        let label_arg = std::path::PathBuf::from(label.to_string());
        let stdout = run(&program, &[model_path, &picture, &seed, &label_arg]);
        assert!(stdout.starts_with("wrote a 8x8 image"), "{stdout}");

        let (got_magic, width, height, pixels) = read_picture(&picture);
        assert_eq!(got_magic, magic, "{model_name}");
        assert_eq!((width, height), (8, 8), "{model_name}");
        // The example links the product build, whose float outputs may differ from the
        // Rust side's by rounding (see PRODUCT_FLOAT_TOLERANCE), which can move a value
        // across a pixel boundary: allow one level.
        let expected = expected_pixels(bytes, 7, label);
        assert_eq!(pixels.len(), expected.len(), "{model_name}: pixel count");
        for (i, (&got, &want)) in pixels.iter().zip(&expected).enumerate() {
            assert!(
                got.abs_diff(want) <= 1,
                "{model_name}: pixel {i} is {got}, expected {want}"
            );
        }
    }
}

#[test]
fn pkg_config_file_matches_crate() {
    let libdir = build_dir().join("debug");
    let version = programs::pkg_config(&["--modversion"], &libdir);
    assert_eq!(version.trim(), env!("CARGO_PKG_VERSION"));
    let libs = programs::pkg_config(&["--libs"], &libdir);
    for native in programs::NATIVE_LIBS {
        assert!(
            libs.split_whitespace().any(|f| f == native),
            "{native} missing from {libs}"
        );
    }
    let library = libdir.join("libambient.a");
    assert!(libs.contains(library.to_str().unwrap()), "{libs}");
}
