//! End to end through the built program. Short `train` runs on the built-in MNIST set are
//! exported as f32, f16 and int8, reloaded with `ambient-core` and compared with the tch
//! generator. A repeated export is byte-identical. `sample` and `inspect` read the
//! exported files and reject corrupt ones with a clear message.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ambient_core::format::{Compute, DType, Op};
use ambient_core::nn::Model;
use ambient_host::export::{LoadedRun, WeightDtype};

const BIN: &str = env!("CARGO_BIN_EXE_ambient-host");

const DTYPES: [WeightDtype; 3] = [WeightDtype::F32, WeightDtype::F16, WeightDtype::Int8];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("export_e2e")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn ambient_host(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("the ambient-host binary runs")
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Trains `preset` for 12 steps in batches of 16 into a fresh run folder.
fn train(name: &str, preset: &str) -> PathBuf {
    let run = scratch(name).join("run");
    let out = run.to_str().unwrap();
    let args = [
        "train",
        "--out",
        out,
        "--progress",
        "quiet",
        "--preset",
        preset,
        "--steps",
        "12",
        "--batch",
        "16",
        "--device",
        "cpu",
    ];
    assert_ok(&ambient_host(&args));
    run
}

/// Returns the CPU preset's run (batch norm, normal latents), trained once for all tests.
fn cpu_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| train("cpu", "cpu"))
}

/// Returns the paper preset's run (crops, uniform latents), trained once for all tests.
fn paper_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| train("paper", "paper"))
}

/// Exports `run` as `dtype` to `out` with the program.
fn export(run: &Path, dtype: WeightDtype, out: &Path) -> Output {
    let args = [
        "export",
        run.to_str().unwrap(),
        "--dtype",
        dtype.name(),
        "-o",
        out.to_str().unwrap(),
    ];
    ambient_host(&args)
}

/// Returns the dtype of every heavy layer's weight.
fn weight_dtypes(model: &Model<'_>) -> Vec<DType> {
    model
        .layers()
        .iter()
        .filter(|l| matches!(l.op, Op::Dense { .. } | Op::ConvTranspose2d(_)))
        .map(|l| l.tensors[0].unwrap().dtype)
        .collect()
}

fn export_every_dtype(run: &Path, name: &str) {
    let dir = scratch(name);
    let loaded = LoadedRun::open(run).unwrap();
    let mut sizes = Vec::new();
    for dtype in DTYPES {
        let path = dir.join(format!("{}.amb", dtype.name()));
        let output = export(run, dtype, &path);
        assert_ok(&output);
        let text = stdout(&output);
        assert!(text.contains("largest absolute error"), "{text}");
        assert!(text.contains("largest relative error"), "{text}");
        assert!(text.contains(&format!("as {}", dtype.name())), "{text}");

        let bytes = fs::read(&path).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let expected = match dtype {
            WeightDtype::F32 => (Compute::Float, DType::F32),
            WeightDtype::F16 => (Compute::Float, DType::F16),
            _ => (Compute::Int8, DType::I8),
        };
        assert_eq!(model.header().compute, expected.0, "{dtype:?}");
        assert!(
            weight_dtypes(&model).iter().all(|&d| d == expected.1),
            "{dtype:?}"
        );

        // Reloaded from the file, the core's output is within the dtype's bound of the tch
        // generator in eval mode.
        let report = loaded.check(&bytes, dtype).unwrap();
        assert!(report.within_bound().is_ok(), "{dtype:?}: {report:?}");
        assert!(
            report.comparison.max_abs <= report.bound.value,
            "{report:?}"
        );
        assert_eq!(report.file_len, bytes.len());
        sizes.push(bytes.len());
    }
    assert!(
        sizes[1] < sizes[0],
        "f16 {} not below f32 {}",
        sizes[1],
        sizes[0]
    );
    assert!(
        sizes[2] < sizes[1],
        "int8 {} not below f16 {}",
        sizes[2],
        sizes[1]
    );
}

#[test]
fn cpu_preset_exports_every_dtype() {
    export_every_dtype(cpu_run(), "cpu-dtypes");
}

#[test]
fn paper_preset_exports_every_dtype() {
    export_every_dtype(paper_run(), "paper-dtypes");
}

#[test]
fn batch_norm_folds_away() {
    let dir = scratch("folded");
    let path = dir.join("f32.amb");
    assert_ok(&export(cpu_run(), WeightDtype::F32, &path));
    let bytes = fs::read(&path).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let ops: Vec<Op> = model.layers().iter().map(|l| l.op).collect();
    // dense, reshape, relu, conv-transpose, relu, conv-transpose, sigmoid: both batch
    // norms are folded into the dense layer and the first transposed convolution.
    assert_eq!(ops.len(), 7, "{ops:?}");
    assert!(!ops.iter().any(|op| matches!(op, Op::BatchNorm)), "{ops:?}");
    assert!(matches!(ops[1], Op::Reshape { .. }), "{ops:?}");
    assert_eq!(ops[2], Op::Relu);
}

#[test]
fn export_twice_gives_identical_bytes() {
    let dir = scratch("twice");
    for run in [cpu_run(), paper_run()] {
        for dtype in DTYPES {
            let first = dir.join(format!("first-{}.amb", dtype.name()));
            let second = dir.join(format!("second-{}.amb", dtype.name()));
            assert_ok(&export(run, dtype, &first));
            assert_ok(&export(run, dtype, &second));
            let (a, b) = (fs::read(&first).unwrap(), fs::read(&second).unwrap());
            assert!(
                a == b,
                "{} {dtype:?}: the two exports differ",
                run.display()
            );
        }
    }
}

#[test]
fn default_output_is_in_run_folder() {
    let run = cpu_run();
    let output = ambient_host(&["export", run.to_str().unwrap(), "--dtype", "int8"]);
    assert_ok(&output);
    let path = run.join("generator-int8.amb");
    assert!(Model::parse(&fs::read(&path).unwrap()).is_ok());
    assert!(stdout(&output).contains(&format!("wrote {}", path.display())));
}

#[test]
fn another_run_model_fails_check() {
    // The CPU run checked against the model of a second CPU run with another seed.
    let dir = scratch("mismatch");
    let other = scratch("other-seed").join("run");
    let args = [
        "train",
        "--out",
        other.to_str().unwrap(),
        "--progress",
        "quiet",
        "--steps",
        "12",
        "--batch",
        "16",
        "--device",
        "cpu",
        "--seed",
        "5",
    ];
    assert_ok(&ambient_host(&args));
    let other_path = dir.join("other.amb");
    assert_ok(&export(&other, WeightDtype::F32, &other_path));

    let loaded = LoadedRun::open(cpu_run()).unwrap();
    let report = loaded
        .check(&fs::read(&other_path).unwrap(), WeightDtype::F32)
        .unwrap();
    assert!(report.within_bound().is_err(), "{report:?}");
    assert!(report.comparison.max_abs > 1e-2, "{report:?}");
}

/// Reads a little-endian f32 `.npy` as its header and values.
fn read_npy(path: &Path) -> (String, Vec<f32>) {
    let bytes = fs::read(path).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8_lossy(&bytes[10..10 + header_len]).into_owned();
    let values = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (header, values)
}

#[test]
fn sample_model_matches_tch() {
    // `sample MODEL.amb --seed 9` draws the latents a device draws from seed 9; the tch
    // generator on the same latents gives the same images to f32 rounding.
    let dir = scratch("sample");
    for (run, latent) in [(cpu_run(), "normal"), (paper_run(), "uniform")] {
        let model = dir.join("f32.amb");
        assert_ok(&export(run, WeightDtype::F32, &model));
        let npy = dir.join("model.npy");
        let args = [
            "sample",
            model.to_str().unwrap(),
            "--latent",
            latent,
            "-n",
            "5",
            "--seed",
            "9",
            "-o",
            npy.to_str().unwrap(),
        ];
        let output = ambient_host(&args);
        assert_ok(&output);
        assert!(
            stderr(&output).contains("ambient-core"),
            "{}",
            stderr(&output)
        );

        let loaded = LoadedRun::open(run).unwrap();
        let z = loaded.latents(5, 9).z_tensor().unwrap();
        let images = tch::no_grad(|| loaded.generator.forward(&z, false));
        let want = Vec::<f32>::try_from(images.flatten(0, -1)).unwrap();
        let (header, got) = read_npy(&npy);
        assert!(header.contains("'shape': (5, 1, 28, 28)"), "{header}");
        assert_eq!(got.len(), want.len());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            worst < 2e-5,
            "{}: largest difference {worst}",
            run.display()
        );

        let png = dir.join("grid.png");
        let args = [
            "sample",
            model.to_str().unwrap(),
            "-n",
            "4",
            "-o",
            png.to_str().unwrap(),
        ];
        assert_ok(&ambient_host(&args));
        assert!(fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    }
}

#[test]
fn corrupt_model_is_clear_error() {
    let dir = scratch("corrupt");
    let good = dir.join("good.amb");
    assert_ok(&export(cpu_run(), WeightDtype::Int8, &good));
    let bytes = fs::read(&good).unwrap();
    let out = dir.join("out.npy");
    let out = out.to_str().unwrap();

    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x10;
    let truncated = bytes[..bytes.len() - 100].to_vec();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("flipped.amb", flipped, "CRC-32"),
        ("truncated.amb", truncated, "declares"),
        ("garbage.amb", b"not a model at all".to_vec(), "magic"),
    ];
    for (name, contents, message) in cases {
        let path = dir.join(name);
        fs::write(&path, contents).unwrap();
        let output = ambient_host(&["sample", path.to_str().unwrap(), "-o", out]);
        assert!(!output.status.success(), "{name}: sample succeeded");
        let text = stderr(&output);
        assert!(text.contains(message), "{name}: {text}");
        assert!(text.contains(name), "{name}: {text}");
        assert!(!text.contains("panicked"), "{name}: {text}");
    }
}

#[test]
fn inspect_lists_layers() {
    let dir = scratch("inspect");
    for dtype in [WeightDtype::F16, WeightDtype::Int8] {
        let path = dir.join(format!("{}.amb", dtype.name()));
        assert_ok(&export(cpu_run(), dtype, &path));
        let output = ambient_host(&["inspect", path.to_str().unwrap()]);
        assert_ok(&output);
        let text = stdout(&output);
        assert!(text.contains("latent: 64 values"), "{text}");
        assert!(text.contains("output: [1, 28, 28] in [0, 1]"), "{text}");
        assert!(text.contains("conv-transpose2d 4x4 s2x2 p1x1"), "{text}");
        assert!(text.contains("sigmoid"), "{text}");
        let weight = if dtype == WeightDtype::Int8 {
            "i8 [6272, 64]"
        } else {
            "f16 [6272, 64]"
        };
        assert!(text.contains(weight), "{text}");
    }

    let corrupt = dir.join("corrupt.amb");
    let mut bytes = fs::read(dir.join("int8.amb")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&corrupt, bytes).unwrap();
    let output = ambient_host(&["inspect", corrupt.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("CRC-32"), "{}", stderr(&output));
}

#[test]
fn export_without_run_is_error() {
    let dir = scratch("no-run");
    let out = dir.join("model.amb");
    let output = export(&dir, WeightDtype::F32, &out);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("config.json"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!out.exists());
}
