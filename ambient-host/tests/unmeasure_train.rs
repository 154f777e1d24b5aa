//! The `unmeasure` training mode through the built program: short runs on the built-in
//! MNIST set with each kind of repair, and the option checks.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-host");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("unmeasure_train")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

/// Runs a 3-step `train` into `out` with small batches, quiet progress and one thread.
fn train(out: &Path, extra: &[&str]) -> Output {
    train_steps(out, "3", extra)
}

/// Runs `train` for `steps` steps, as [`train`] does.
fn train_steps(out: &Path, steps: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--out",
        out.to_str().unwrap(),
        "--progress",
        "quiet",
        "--threads",
        "1",
        "--steps",
        steps,
        "--batch",
        "8",
        "--grid-images",
        "4",
        "--checkpoint-every",
        "2",
    ];
    args.extend_from_slice(extra);
    Command::new(BIN)
        .args(&args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("the ambient-host binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn config(run: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
}

#[test]
fn block_pixels_defaults_to_blur() {
    let run = scratch("blur");
    let output = train(&run, &["--mode", "unmeasure"]);
    assert!(output.status.success(), "{}", stderr(&output));

    let config = config(&run);
    assert_eq!(config["mode"], "unmeasure");
    assert_eq!(config["unmeasure"], "blur");
    assert_eq!(
        config["discriminator_input"],
        serde_json::json!([1, 28, 28])
    );
    assert!(run.join("real.png").is_file());
    assert!(run.join("checkpoint.safetensors").is_file());
}

#[test]
fn convolve_noise_defaults_to_wiener() {
    let run = scratch("wiener");
    let output = train(
        &run,
        &["--mode", "unmeasure", "--measurement", "convolve-noise"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(config(&run)["unmeasure"], "wiener");
}

#[test]
fn masked_repairs_train() {
    for (repair, measurement) in [
        ("median", "block-pixels"),
        ("tv", "block-pixels"),
        ("inpaint", "block-patch"),
    ] {
        let run = scratch(repair);
        let args = ["--mode", "unmeasure", "--unmeasure", repair];
        let output = train(&run, &[&args[..], &["--measurement", measurement]].concat());
        assert!(output.status.success(), "{repair}: {}", stderr(&output));
        assert_eq!(config(&run)["unmeasure"], repair);
    }
}

#[test]
fn wiener_rejected_for_block_pixels() {
    let run = scratch("mismatch");
    let output = train(&run, &["--mode", "unmeasure", "--unmeasure", "wiener"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("wiener"), "{message}");
    assert!(message.contains("convolve-noise"), "{message}");
}

#[test]
fn repair_needs_unmeasure_mode() {
    let run = scratch("no-mode");
    let output = train(&run, &["--unmeasure", "blur"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--mode unmeasure"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_repair_is_rejected() {
    let run = scratch("unknown");
    let output = train(&run, &["--mode", "unmeasure", "--unmeasure", "sharpen"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("sharpen"), "{}", stderr(&output));
}

#[test]
fn resume_keeps_the_repair() {
    let run = scratch("resume");
    let first = train_steps(&run, "2", &["--mode", "unmeasure", "--unmeasure", "median"]);
    assert!(first.status.success(), "{}", stderr(&first));

    // The repair comes back from config.json when it is not given again.
    let resumed = train_steps(&run, "4", &["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(config(&run)["unmeasure"], "median");

    // Another repair would continue on a different curve.
    let changed = train_steps(&run, "6", &["--resume", "--unmeasure", "tv"]);
    assert!(!changed.status.success());
    assert!(
        stderr(&changed).contains("unmeasure"),
        "{}",
        stderr(&changed)
    );
}
