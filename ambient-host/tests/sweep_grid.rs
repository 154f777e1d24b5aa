//! Grid expansion and the sweep report, on grids and results written by hand (no
//! training).

use std::fs;
use std::path::{Path, PathBuf};

use ambient_host::eval::{EvalReport, InputKind, SplitScores};
use ambient_host::sweep::result::write_result;
use ambient_host::sweep::{write_report, Grid, RunResult, RunSpec, SweepError};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sweep_grid")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

const GRID: &str = r#"{
  "steps": 100,
  "seeds": [0, 1],
  "train_args": ["--threads", "2"],
  "measurements": [
    {
      "measurement": "block-pixels",
      "strength": "p",
      "values": [0.5, 0.9],
      "params": { "rescale": "true" },
      "modes": [
        "ambient",
        { "label": "unmeasure-blur", "mode": "unmeasure", "args": ["--unmeasure", "blur"] }
      ]
    },
    { "measurement": "convolve-noise", "strength": "noise", "values": [0.1] }
  ],
  "modes": ["ignore"]
}"#;

fn grid() -> Grid {
    serde_json::from_str(GRID).unwrap()
}

#[test]
fn grid_expands_in_order() {
    let runs = grid().runs().unwrap();
    // block-pixels: 2 values × 2 modes × 2 seeds; convolve-noise: 1 × the grid's 1 × 2.
    assert_eq!(runs.len(), 10);
    let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids[0], "block-pixels_p=0.5_ambient_s0");
    assert_eq!(ids[1], "block-pixels_p=0.5_ambient_s1");
    assert_eq!(ids[2], "block-pixels_p=0.5_unmeasure-blur_s0");
    assert_eq!(ids[9], "convolve-noise_noise=0.1_ignore_s1");

    let blur = &runs[2];
    assert_eq!(blur.mode, "unmeasure");
    assert_eq!(blur.preset, "cpu");
    assert_eq!(blur.eval.samples, 1000);
    assert_eq!(blur.eval.splits, 10);
    let args = blur.train_arguments();
    let expected: Vec<String> = [
        "--measurement",
        "block-pixels",
        "--mode",
        "unmeasure",
        "--preset",
        "cpu",
        "--seed",
        "0",
        "--param",
        "p=0.5",
        "--param",
        "rescale=true",
        "--steps",
        "100",
        "--threads",
        "2",
        "--unmeasure",
        "blur",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(args, expected);
}

#[test]
fn grid_rejects_inconsistent_grids() {
    let reason = |text: &str| match serde_json::from_str::<Grid>(text).unwrap().runs() {
        Err(SweepError::InvalidGrid { reason }) => reason,
        other => panic!("expected an invalid grid, got {other:?}"),
    };
    // A grid with `top` fields and one Block-Pixels measurement with `axis` fields.
    let grid = |top: &str, axis: &str| {
        let measurement = format!(r#"{{"measurement": "block-pixels", "strength": "p", {axis}}}"#);
        format!(r#"{{{top}"measurements": [{measurement}]}}"#)
    };
    assert!(reason(&grid("", r#""values": [0.5]"#)).contains("no modes"));
    let modes = r#""modes": ["ambient"], "#;
    let repeated = grid(modes, r#""values": [0.5, 0.5]"#);
    assert!(reason(&repeated).contains("both named"));
    let fixed = grid(modes, r#""values": [0.5], "params": {"p": "0.1"}"#);
    assert!(reason(&fixed).contains("strength parameter p"));
    let few = grid(
        r#""modes": ["ambient"], "eval": {"samples": 64}, "#,
        r#""values": [0.5]"#,
    );
    assert!(reason(&few).contains("at least 1000"));
    assert!(reason(r#"{"measurements": []}"#).contains("no measurements"));
    let unknown = r#"{"measurements": [], "stepz": 3}"#;
    assert!(
        serde_json::from_str::<Grid>(unknown).is_err(),
        "unknown fields are rejected"
    );
}

fn result(spec: &RunSpec, score: f64, fid: f64) -> RunResult {
    RunResult {
        spec: spec.clone(),
        train_seconds: 250.0,
        resumed: false,
        finished_unix: 0,
        commit: Some("abc1234".into()),
        eval: EvalReport {
            source: PathBuf::from("run"),
            kind: InputKind::Run,
            step: Some(100),
            seed: Some(0),
            samples: 1000,
            inception_score: SplitScores {
                mean: score,
                std: 0.1,
                splits: vec![score; 10],
            },
            inception_score_all: score,
            inception_score_first_64: Some(score - 0.5),
            frechet_distance: fid,
            feature_dim: 128,
            real_data: PathBuf::from("data"),
            real_images: 1000,
            class_histogram: vec![100; 10],
            classifier: PathBuf::from("c.safetensors"),
            classifier_test_accuracy: 0.99,
            real_inception_score: 9.5,
        },
    }
}

#[test]
fn report_aggregates_over_seeds() {
    let out = scratch("report");
    let grid = grid();
    let runs = grid.runs().unwrap();
    // p = 0.5 ambient: seeds score 7 and 8 (mean 7.5, sample std √0.5 ≈ 0.71); p = 0.9
    // ambient: one seed, 6; unmeasure-blur at p = 0.5: one seed, 4.25. The rest missing.
    write_result(&out, &result(&runs[0], 7.0, 2.0)).unwrap();
    write_result(&out, &result(&runs[1], 8.0, 4.0)).unwrap();
    write_result(&out, &result(&runs[2], 4.25, 10.0)).unwrap();
    write_result(&out, &result(&runs[4], 6.0, 5.0)).unwrap();

    let files = write_report(&grid, &out).unwrap();
    let report = fs::read_to_string(&files.markdown).unwrap();
    assert!(report.contains("4 of 10 runs finished"), "{report}");
    assert!(
        report.contains("| p | ambient | unmeasure-blur |"),
        "{report}"
    );
    assert!(
        report.contains("| 0.5 | 7.50 ± 0.71 (2 seeds) | 4.25 (1 seed) |"),
        "{report}"
    );
    assert!(report.contains("| 0.9 | 6.00 (1 seed) | – |"), "{report}");
    assert!(
        report.contains("| 0.5 | 3.000 ± 1.414 (2 seeds) | 10.000 (1 seed) |"),
        "{report}"
    );
    assert!(report.contains("| noise | ignore |"), "{report}");
    assert!(report.contains("| 0.1 | – |"), "{report}");
    assert!(
        report.contains(
            "| block-pixels_p=0.5_ambient_s1 | 8.00 ± 0.10 | 7.50 | 4.000 | 250 | no | abc1234 |"
        ),
        "{report}"
    );
    assert_eq!(files.plots.len(), 2);
    for plot in &files.plots {
        let png = fs::read(plot).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", plot.display());
    }
    assert!(report.contains("(block-pixels.png)"), "{report}");
}
