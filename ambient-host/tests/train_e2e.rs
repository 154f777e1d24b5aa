//! End to end through the built program: short `train` runs on the built-in MNIST set
//! write every artifact, resume on the same curve, reproduce from their seed, and refuse
//! runs they cannot continue; `sample` and `doctor` work on the result.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-host");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("train_e2e")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

fn ambient_host(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("the ambient-host binary runs")
}

/// Runs `train` into `out` with quiet progress and one CPU thread: the tests run in
/// parallel, and several multi-threaded libtorch processes on few cores slow each other
/// down many times over.
fn train(out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "train",
        "--out",
        out,
        "--progress",
        "quiet",
        "--threads",
        "1",
    ];
    args.extend_from_slice(extra);
    ambient_host(&args)
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Reads metrics.jsonl as (step, record) pairs.
fn metrics(run: &Path) -> Vec<(u64, Value)> {
    fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["step"].as_u64().unwrap(), v)
        })
        .collect()
}

/// Returns the losses of each step, without the timing.
fn losses(run: &Path) -> Vec<(u64, f64, f64)> {
    metrics(run)
        .into_iter()
        .map(|(s, v)| {
            (
                s,
                v["d_loss"].as_f64().unwrap(),
                v["g_loss"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn checkpoint(run: &Path) -> HashMap<String, tch::Tensor> {
    tch::Tensor::read_safetensors(run.join("checkpoint.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

fn is_png(path: &Path) -> bool {
    fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n"))
}

/// A short run in small batches: 12 steps, grids and checkpoints every 4.
const SHORT: [&str; 8] = [
    "--steps",
    "12",
    "--sample-every",
    "4",
    "--checkpoint-every",
    "4",
    "--batch",
    "16",
];

#[test]
fn ambient_run_writes_every_artifact() {
    let run = scratch("artifacts");
    let output = train(&run, &SHORT);
    assert_ok(&output);

    let config: Value =
        serde_json::from_str(&fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["measurement"], "block-pixels");
    assert_eq!(config["params"]["p"], "0.9");
    assert_eq!(config["mode"], "ambient");
    assert_eq!(config["preset"], "cpu");
    assert_eq!(config["steps"], 12);
    assert_eq!(config["batch"], 16);
    assert_eq!(config["examples"], 9000);
    assert_eq!(config["latent_dim"], 64);
    assert_eq!(config["device"], "cpu");

    let steps: Vec<u64> = metrics(&run).iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, (1..=12).collect::<Vec<_>>());
    let (_, first) = &metrics(&run)[0];
    for key in ["d_loss", "g_loss", "d_real", "d_fake", "step_ms"] {
        assert!(
            first[key].as_f64().is_some_and(f64::is_finite),
            "{key} in {first}"
        );
    }

    for step in [4, 8, 12] {
        for name in ["samples", "measured"] {
            let grid = run.join(format!("grids/step-{step:06}-{name}.png"));
            assert!(is_png(&grid), "{}", grid.display());
        }
    }
    for name in ["real", "samples", "measured"] {
        assert!(is_png(&run.join(format!("{name}.png"))), "{name}.png");
    }

    let tensors = checkpoint(&run);
    assert_eq!(tensors["train.step"].int64_value(&[0]), 12);
    assert_eq!(tensors["optim.gen.steps"].int64_value(&[0]), 12);
    assert_eq!(tensors["optim.disc.steps"].int64_value(&[0]), 12);
    assert_eq!(tensors["gen.fc.weight"].size(), vec![128 * 7 * 7, 64]);
    assert_eq!(tensors["disc.conv1.weight"].size(), vec![64, 1, 4, 4]);
    assert!(tensors.contains_key("gen.bn0.running_mean"));
    assert!(tensors.contains_key("optim.gen.exp_avg_sq.gen.up2.weight"));
    let leftovers: Vec<_> = fs::read_dir(&run)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // sample: a .npy of [N, C, H, W] in [0, 1] and a PNG grid.
    let npy = run.join("ten.npy");
    let run_arg = run.to_str().unwrap();
    assert_ok(&ambient_host(&[
        "sample",
        run_arg,
        "-n",
        "10",
        "-o",
        npy.to_str().unwrap(),
    ]));
    let bytes = fs::read(&npy).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8_lossy(&bytes[10..10 + header_len]).into_owned();
    assert!(header.contains("'shape': (10, 1, 28, 28)"), "{header}");
    let values: Vec<f32> = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(values.len(), 10 * 28 * 28);
    assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
    let png = run.join("grid.png");
    assert_ok(&ambient_host(&[
        "sample",
        run_arg,
        "-n",
        "9",
        "-o",
        png.to_str().unwrap(),
    ]));
    assert!(is_png(&png));
    let txt = run.join("grid.txt");
    let bad = ambient_host(&["sample", run_arg, "-o", txt.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains(".png"), "{}", stderr(&bad));
}

#[test]
fn resume_continues_same_curve() {
    let straight = scratch("straight");
    assert_ok(&train(&straight, &SHORT));

    // The same run, killed after its checkpoint at step 8: metrics written after the
    // checkpoint (steps 9-10 here, one of them cut short) are dropped on resume.
    let resumed = scratch("resumed");
    let mut first = SHORT;
    first[1] = "8";
    assert_ok(&train(&resumed, &first));
    let mut log = fs::read_to_string(resumed.join("metrics.jsonl")).unwrap();
    log.push_str("{\"step\":9,\"d_loss\":9.0,\"g_loss\":9.0}\n{\"step\":10,\"d_lo");
    fs::write(resumed.join("metrics.jsonl"), log).unwrap();

    let output = train(&resumed, &["--resume", "--steps", "12"]);
    assert_ok(&output);
    assert!(
        stderr(&output).contains("steps 8..12"),
        "{}",
        stderr(&output)
    );
    assert_eq!(losses(&resumed), losses(&straight));
    assert_eq!(
        checkpoint(&resumed)["gen.fc.weight"],
        checkpoint(&straight)["gen.fc.weight"]
    );
}

#[test]
fn ema_average_survives_resume() {
    let with_ema = ["--ema", "0.9"];
    let straight = scratch("ema-straight");
    assert_ok(&train(&straight, &[&SHORT[..], &with_ema].concat()));

    let resumed = scratch("ema-resumed");
    let mut first = SHORT;
    first[1] = "8";
    assert_ok(&train(&resumed, &[&first[..], &with_ema].concat()));
    assert_ok(&train(&resumed, &["--resume", "--steps", "12"]));

    let (a, b) = (checkpoint(&straight), checkpoint(&resumed));
    assert_eq!(a["ema.gen.fc.weight"], b["ema.gen.fc.weight"]);
    assert_eq!(a["ema.gen.bn0.running_mean"], b["ema.gen.bn0.running_mean"]);

    // The average lags the trained weights, so after 12 steps the two differ.
    let lag = (&a["ema.gen.fc.weight"] - &a["gen.fc.weight"]).abs().max();
    assert!(lag.double_value(&[]) > 0.0);
    let config: Value =
        serde_json::from_str(&fs::read_to_string(resumed.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["ema"], 0.9);
}

#[test]
fn seed_reproduces_run() {
    let a = scratch("seed-a");
    let b = scratch("seed-b");
    let c = scratch("seed-c");
    let args = ["--steps", "4", "--seed", "11", "--batch", "16"];
    assert_ok(&train(&a, &args));
    assert_ok(&train(&b, &args));
    assert_eq!(losses(&a), losses(&b));

    let mut other = args;
    other[3] = "12";
    assert_ok(&train(&c, &other));
    assert_ne!(losses(&a), losses(&c));
}

#[test]
fn resume_rejects_changed_option() {
    let run = scratch("changed");
    assert_ok(&train(&run, &["--steps", "2", "--batch", "8"]));
    let output = train(&run, &["--resume", "--steps", "4", "--mode", "ignore"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("option mode"), "{message}");

    let again = train(&run, &["--steps", "2", "--batch", "8"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));
}

#[test]
fn resume_rejects_other_architecture() {
    let run = scratch("architecture");
    assert_ok(&train(&run, &["--steps", "2", "--batch", "8"]));

    // Make config.json describe the paper preset consistently, so that the only
    // mismatch left is the checkpoint's variables.
    let path = run.join("config.json");
    let mut config: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let paper = [
        ("preset", Value::from("paper")),
        ("generator", Value::from("wgan28")),
        ("discriminator", Value::from("wgan-conv")),
        ("loss", Value::from("wgan-gp")),
        ("latent_dim", Value::from(128)),
        ("latent", Value::from("uniform")),
        ("critic_steps", Value::from(5)),
        ("beta2", Value::from(0.9999)),
        ("gp_lambda", Value::from(10.0)),
    ];
    for (key, value) in paper {
        config[key] = value;
    }
    fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();

    let output = train(&run, &["--resume", "--steps", "3"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("does not match the model"), "{message}");
    assert!(message.contains("gen."), "{message}");
}

#[test]
fn baseline_modes_and_paper_preset_run() {
    for mode in ["clean", "ignore"] {
        let run = scratch(mode);
        assert_ok(&train(
            &run,
            &["--steps", "3", "--batch", "8", "--mode", mode],
        ));
        assert_eq!(metrics(&run).len(), 3);
        assert!(is_png(&run.join("samples.png")));
        assert_eq!(run.join("measured.png").exists(), mode == "ignore");
    }

    let run = scratch("paper");
    assert_ok(&train(
        &run,
        &["--steps", "2", "--preset", "paper", "--batch", "8"],
    ));
    let records = metrics(&run);
    assert_eq!(records.len(), 2);
    assert!(records[1].1["gp"].as_f64().is_some_and(|g| g >= 0.0));
    assert_eq!(checkpoint(&run)["gen.fc.weight"].size(), vec![4096, 128]);
}

#[test]
fn invalid_options_rejected() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["--mode", "unmeasure", "--unmeasure", "wiener"],
            "convolve-noise",
        ),
        (&["--measurement", "blur"], "unknown measurement blur"),
        (&["--param", "p=2"], "invalid"),
        (&["--param", "q=1"], "the keys are"),
        (&["--batch", "0"], "--batch"),
        (&["--ema", "1"], "--ema"),
        (&["--loss", "ac-wgan-gp"], "auxiliary classifier"),
        (&["--gp-lambda", "5"], "no gradient penalty"),
        (&["--loss", "wgan-gp", "--gp-every", "0"], "--gp-every"),
    ];
    for (i, (args, expected)) in cases.iter().enumerate() {
        let run = scratch(&format!("invalid-{i}"));
        let output = train(&run, args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn doctor_reports_setup() {
    let output = ambient_host(&["doctor", "--device", "cpu"]);
    assert_ok(&output);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("libtorch:"), "{text}");
    assert!(text.contains("training device: cpu"), "{text}");
    assert!(
        text.contains("9000 training and 1000 test images"),
        "{text}"
    );
}

#[test]
fn help_explains_options() {
    let output = ambient_host(&["train", "--help"]);
    assert_ok(&output);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    for option in [
        "--data",
        "--measurement",
        "--param",
        "--mode",
        "--preset",
        "--steps",
    ] {
        assert!(text.contains(option), "{option} missing from train --help");
    }
    for command in ["sample", "doctor"] {
        assert_ok(&ambient_host(&[command, "--help"]));
    }
}

#[test]
fn trains_from_measure_record_file() {
    let dir = scratch("from-records");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("digits.ambr");
    let measured = ambient_host(&["measure", "-n", "64", "-o", file.to_str().unwrap()]);
    assert_ok(&measured);

    let run = dir.join("run");
    let output = train(
        &run,
        &[
            "--data",
            file.to_str().unwrap(),
            "--steps",
            "4",
            "--batch",
            "16",
        ],
    );
    assert_ok(&output);

    let config: Value =
        serde_json::from_str(&fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["measurement"], "block-pixels");
    assert_eq!(config["examples"], 64);
    let steps: Vec<u64> = metrics(&run).iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![1, 2, 3, 4]);
}
