//! `ambient-host measure` and `inspect` through the binary: the record file they write and
//! read holds the core's measurements of the built-in MNIST images.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ambient_core::measure::{Measurement, MeasurementKind, MeasurementParams, Operator};
use ambient_core::sampler::image_seed;
use ambient_host::data::records::RecordSet;
use ambient_host::data::{builtin_dir, mnist, MeasurementSet};

fn ambient_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ambient-host"))
        .args(args)
        .output()
        .expect("the ambient-host binary runs")
}

/// Returns an empty folder under the system's temporary folder, unique to this test.
fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ambient-record-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn measure_writes_core_measurements_and_grid() {
    let dir = temp_dir("measure");
    let file = dir.join("drop.ambr");
    let output = ambient_host(&[
        "measure",
        "--measurement",
        "drop-col",
        "--param",
        "p=0.5",
        "-n",
        "12",
        "--seed",
        "5",
        "-o",
        path_arg(&file),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.join("drop.png").is_file());

    let records = RecordSet::open(&file).unwrap();
    assert_eq!(records.len(), 12);
    let images = mnist::load_split(&builtin_dir(), mnist::Split::Train).unwrap();
    let params = MeasurementParams {
        p: 0.5,
        ..MeasurementParams::default()
    };
    let op = Operator::new(MeasurementKind::DropCol, images.shape(), &params).unwrap();
    assert_eq!(records.operator(), &op);
    let labels = images.labels().unwrap();
    for (i, &label) in labels.iter().enumerate().take(12) {
        let x = Vec::<f32>::try_from(&images.images().get(i as i64).flatten(0, -1)).unwrap();
        let seed = image_seed(5, i as u64);
        let mut y = vec![0.0f32; op.output_len()];
        op.measure(&x, seed, &mut y).unwrap();
        let got = Vec::<f32>::try_from(&records.measurements().get(i as i64).flatten(0, -1));
        assert_eq!(records.seeds()[i], seed, "image {i}");
        assert_eq!(got.unwrap(), y, "image {i}");
        assert_eq!(records.labels().unwrap()[i], u32::from(label), "image {i}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_prints_header_and_summary() {
    let dir = temp_dir("inspect");
    let file = dir.join("bp.ambr");
    let measured = ambient_host(&["measure", "-n", "20", "-o", path_arg(&file)]);
    assert!(
        measured.status.success(),
        "{}",
        String::from_utf8_lossy(&measured.stderr)
    );

    let output = ambient_host(&["inspect", path_arg(&file)]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("format 1.0"), "{text}");
    assert!(text.contains("measurement   block-pixels"), "{text}");
    assert!(
        text.contains("parameters    p=0.9 rescale=true per_channel=true"),
        "{text}"
    );
    assert!(
        text.contains("images        [1, 28, 28], values in [0, 1]"),
        "{text}"
    );
    assert!(text.contains("classes       10"), "{text}");
    assert!(text.contains("records       20"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_file_is_an_error_naming_it() {
    let dir = temp_dir("truncated");
    let file = dir.join("bp.ambr");
    let measured = ambient_host(&["measure", "-n", "5", "-o", path_arg(&file)]);
    assert!(
        measured.status.success(),
        "{}",
        String::from_utf8_lossy(&measured.stderr)
    );
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.join("cut.ambr");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();

    let output = ambient_host(&["inspect", path_arg(&cut)]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains(path_arg(&cut)), "{message}");
    assert!(message.contains("truncated"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn measure_rejects_invalid_parameter() {
    let dir = temp_dir("invalid");
    let file = dir.join("x.ambr");
    let output = ambient_host(&["measure", "--param", "p=1.5", "-o", path_arg(&file)]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("p = 1.5 is outside [0, 1)"), "{message}");
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
