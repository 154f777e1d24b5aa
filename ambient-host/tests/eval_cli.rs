//! `classifier train` and `eval` through the built program: a short classifier run writes
//! its weights and summary, and `eval` scores a `.npy` array and a run folder with it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ambient_host::data::builtin_dir;
use ambient_host::data::mnist::{load_split, Split};
use ambient_host::image_io::write_npy;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-host");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("eval_cli")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn ambient_host(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the ambient-host binary runs")
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

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Trains a classifier for 40 steps once, for every test of this file, and returns its path.
fn classifier() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = scratch("classifier").join("quick.safetensors");
        let output = ambient_host(&[
            "classifier",
            "train",
            "--steps",
            "40",
            "--seed",
            "3",
            "--threads",
            "2",
            "--quiet",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_ok(&output);
        path
    })
}

/// Writes the built-in test digits, [1000, 1, 28, 28], to `path`.
fn write_test_digits(path: &Path) {
    let test = load_split(&builtin_dir(), Split::Test).unwrap();
    let values = Vec::<f32>::try_from(test.images().flatten(0, -1)).unwrap();
    write_npy(path, &[test.len(), 1, 28, 28], &values).unwrap();
}

#[test]
fn classifier_train_writes_weights_and_summary() {
    let path = classifier();
    assert!(path.is_file());
    let summary = read_json(&path.with_extension("json"));
    assert_eq!(summary["format"], "ambient-mnist-cnn");
    assert_eq!(summary["weights"], "quick.safetensors");
    assert_eq!(summary["steps"], 40);
    assert_eq!(summary["seed"], 3);
    assert_eq!(summary["threads"], 2);
    assert_eq!(summary["train_images"], 9000);
    assert_eq!(
        summary["data"], "data/mnist-10k",
        "the built-in set, workspace-relative"
    );
    assert_eq!(summary["test_images"], 1000);
    assert_eq!(summary["shape"]["hidden"], 128);
    let accuracy = summary["test_accuracy"].as_f64().unwrap();
    let correct = summary["test_correct"].as_f64().unwrap();
    assert!((accuracy - correct / 1000.0).abs() < 1e-12);
    // 40 steps lift a 10-class network far above chance (0.1).
    assert!(accuracy > 0.5, "accuracy {accuracy}");
    let real_is = summary["test_inception_score"]["mean"].as_f64().unwrap();
    assert!(real_is > 1.0, "{real_is}");
    assert!(real_is <= 10.0, "{real_is}");
    let command = summary["command"].as_str().unwrap();
    assert!(
        !command.contains("--data"),
        "the built-in set is the default: {command}"
    );
    assert!(
        command.contains("--out "),
        "a non-default path is named: {command}"
    );
    assert!(
        command.starts_with("ambient-host classifier train "),
        "{command}"
    );
    assert!(
        command.contains("--steps 40") && command.contains("--seed 3"),
        "{command}"
    );
}

#[test]
fn eval_of_real_digits_matches_summary() {
    let dir = scratch("real-digits");
    let npy = dir.join("test.npy");
    write_test_digits(&npy);
    let json = dir.join("report.json");
    let output = ambient_host(&[
        "eval",
        npy.to_str().unwrap(),
        "--classifier",
        classifier().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_ok(&output);

    let report = read_json(&json);
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report, printed, "the file and stdout hold the same report");
    assert_eq!(report["kind"], "npy");
    assert_eq!(report["samples"], 1000);
    assert_eq!(report["real_images"], 1000);
    assert_eq!(report["real_data"], "data/mnist-10k", "workspace-relative");
    assert_eq!(report["feature_dim"], 128);
    assert_eq!(
        report["inception_score"]["splits"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    // The samples are the reference itself: identical features, distance 0, and the
    // inception score the classifier's summary reports for the test digits.
    let distance = report["frechet_distance"].as_f64().unwrap();
    assert!(distance.abs() < 1e-6, "{distance}");
    let summary = read_json(&classifier().with_extension("json"));
    let expected = summary["test_inception_score"]["mean"].as_f64().unwrap();
    let score = report["inception_score"]["mean"].as_f64().unwrap();
    assert!((score - expected).abs() < 1e-9, "{score} vs {expected}");
    let histogram: Vec<u64> = report["class_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(histogram.len(), 10);
    assert_eq!(histogram.iter().sum::<u64>(), 1000);
    assert!(stderr(&output).contains("IS "), "{}", stderr(&output));
}

#[test]
fn eval_rejects_small_and_misshapen_sets() {
    let dir = scratch("rejects");
    let npy = dir.join("test.npy");
    write_test_digits(&npy);
    let classifier = classifier().to_str().unwrap();
    let few = ambient_host(&[
        "eval",
        npy.to_str().unwrap(),
        "-n",
        "999",
        "--classifier",
        classifier,
    ]);
    assert!(!few.status.success());
    assert!(stderr(&few).contains("at least 1000"), "{}", stderr(&few));

    let colour = dir.join("colour.npy");
    write_npy(&colour, &[1000, 3, 28, 28], &vec![0.5; 1000 * 3 * 784]).unwrap();
    let output = ambient_host(&["eval", colour.to_str().unwrap(), "--classifier", classifier]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("[1000, 3, 28, 28]"),
        "{}",
        stderr(&output)
    );

    let small = dir.join("small.npy");
    write_npy(&small, &[10, 1, 28, 28], &vec![0.5; 10 * 784]).unwrap();
    let output = ambient_host(&["eval", small.to_str().unwrap(), "--classifier", classifier]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("contains 10 images"),
        "{}",
        stderr(&output)
    );

    let missing = dir.join("none.safetensors");
    let output = ambient_host(&[
        "eval",
        npy.to_str().unwrap(),
        "--classifier",
        missing.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("classifier train"),
        "{}",
        stderr(&output)
    );

    let output = ambient_host(&["eval", dir.to_str().unwrap(), "--classifier", classifier]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("not a run folder"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn eval_of_run_writes_eval_json() {
    let dir = scratch("run");
    let run = dir.join("run");
    let run_arg = run.to_str().unwrap();
    let output = ambient_host(&[
        "train",
        "--out",
        run_arg,
        "--progress",
        "quiet",
        "--steps",
        "4",
        "--batch",
        "16",
        "--checkpoint-every",
        "2",
        "--sample-every",
        "2",
    ]);
    assert_ok(&output);

    let classifier = classifier().to_str().unwrap();
    let first = ambient_host(&["eval", run_arg, "--classifier", classifier]);
    assert_ok(&first);
    let report = read_json(&run.join("eval.json"));
    assert_eq!(report["kind"], "run");
    assert_eq!(report["step"], 4);
    assert_eq!(report["seed"], 0);
    assert_eq!(report["samples"], 1000);
    let total: u64 = report["class_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 1000);
    let score = report["inception_score"]["mean"].as_f64().unwrap();
    assert!((1.0..=10.0).contains(&score), "{score}");
    assert!(report["frechet_distance"].as_f64().unwrap() > 0.0);
    assert!(report["inception_score_first_64"].as_f64().is_some());

    // The latent vectors are seeded, so a second eval gives the same report; another seed
    // draws other samples.
    let again = ambient_host(&["eval", run_arg, "--classifier", classifier]);
    assert_eq!(first.stdout, again.stdout);
    let other = ambient_host(&["eval", run_arg, "--classifier", classifier, "--seed", "1"]);
    assert_ok(&other);
    assert_ne!(first.stdout, other.stdout);
}

#[test]
fn eval_of_weight_file_matches_run() {
    let dir = scratch("weights");
    let run = dir.join("run");
    let run_arg = run.to_str().unwrap();
    assert_ok(&ambient_host(&[
        "train",
        "--out",
        run_arg,
        "--progress",
        "quiet",
        "--steps",
        "4",
        "--batch",
        "16",
        "--checkpoint-every",
        "2",
        "--sample-every",
        "2",
    ]));
    let model = dir.join("model.amb");
    assert_ok(&ambient_host(&[
        "export",
        run_arg,
        "--dtype",
        "f32",
        "-o",
        model.to_str().unwrap(),
    ]));

    let classifier = classifier().to_str().unwrap();
    let from_run = ambient_host(&["eval", run_arg, "--classifier", classifier]);
    assert_ok(&from_run);
    let from_model = ambient_host(&["eval", model.to_str().unwrap(), "--classifier", classifier]);
    assert_ok(&from_model);
    let run_report: Value = serde_json::from_slice(&from_run.stdout).unwrap();
    let model_report: Value = serde_json::from_slice(&from_model.stdout).unwrap();
    assert_eq!(model_report["kind"], "amb");
    assert_eq!(model_report["samples"], 1000);

    // Both draw the same latent vectors for seed 0, and the core's f32 generator agrees
    // with libtorch's to rounding, so the scores agree closely.
    for key in ["inception_score_all", "frechet_distance"] {
        let (a, b) = (
            run_report[key].as_f64().unwrap(),
            model_report[key].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-3 * a.abs().max(1.0),
            "{key}: run {a}, model {b}"
        );
    }
}
