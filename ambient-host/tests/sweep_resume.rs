//! `sweep` through the built program on a tiny grid of two runs of four steps. A sweep
//! stopped after one run resumes: it skips the finished run, continues a half-trained one
//! from its checkpoint, and reports both. A changed grid is rejected.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-host");

const FIRST: &str = "block-pixels_p=0.5_ambient_s0";
const SECOND: &str = "block-pixels_p=0.9_ambient_s0";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sweep_resume")
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

fn assert_ok(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}\nstderr:\n{text}",
        output.status
    );
    text
}

fn grid_json(steps: u64) -> String {
    format!(
        r#"{{
  "preset": "cpu",
  "steps": {steps},
  "seeds": [0],
  "train_args": ["--batch", "16", "--checkpoint-every", "2", "--sample-every", "2"],
  "measurements": [
    {{ "measurement": "block-pixels", "strength": "p", "values": [0.5, 0.9], "modes": ["ambient"] }}
  ]
}}"#
    )
}

fn metric_steps(run: &Path) -> Vec<u64> {
    fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn sweep_resumes_and_reports() {
    let dir = scratch("tiny");
    let classifier = dir.join("classifier.safetensors");
    assert_ok(&ambient_host(&[
        "classifier",
        "train",
        "--steps",
        "20",
        "--quiet",
        "--out",
        classifier.to_str().unwrap(),
    ]));
    let grid = dir.join("grid.json");
    fs::write(&grid, grid_json(4)).unwrap();
    let out = dir.join("sweep");
    let (out_arg, classifier_arg) = (out.to_str().unwrap(), classifier.to_str().unwrap());

    // A sweep limited to one run stops with the second pending.
    let log = assert_ok(&ambient_host(&[
        "sweep",
        "--grid",
        grid.to_str().unwrap(),
        "--out",
        out_arg,
        "--classifier",
        classifier_arg,
        "--max-runs",
        "1",
    ]));
    assert!(
        log.contains("0 finished earlier, 1 finished now, 1 pending"),
        "{log}"
    );
    let first_result = out.join("results").join(format!("{FIRST}.json"));
    let first_bytes = fs::read(&first_result).unwrap();
    assert!(!out.join("results").join(format!("{SECOND}.json")).exists());
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("1 of 2 runs finished"), "{report}");

    // The second run is interrupted after its first checkpoint: trained to step 2 of 4.
    let second_run = out.join("runs").join(SECOND);
    assert_ok(&ambient_host(&[
        "train",
        "--out",
        second_run.to_str().unwrap(),
        "--progress",
        "quiet",
        "--measurement",
        "block-pixels",
        "--mode",
        "ambient",
        "--preset",
        "cpu",
        "--seed",
        "0",
        "--param",
        "p=0.9",
        "--steps",
        "2",
        "--batch",
        "16",
        "--checkpoint-every",
        "2",
        "--sample-every",
        "2",
    ]));

    let listing = ambient_host(&["sweep", "--out", out_arg, "--dry-run"]);
    assert_ok(&listing);
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(listing.contains(&format!("finished {FIRST}")), "{listing}");
    assert!(listing.contains(&format!("pending  {SECOND}")), "{listing}");

    // Resuming from the folder's grid.json skips the first run and continues the second.
    let log = assert_ok(&ambient_host(&[
        "sweep",
        "--out",
        out_arg,
        "--classifier",
        classifier_arg,
    ]));
    assert!(
        log.contains("1 finished earlier, 1 finished now, 0 pending"),
        "{log}"
    );
    assert!(log.contains("resuming training"), "{log}");
    assert_eq!(
        fs::read(&first_result).unwrap(),
        first_bytes,
        "the first result is kept"
    );
    assert_eq!(metric_steps(&second_run), vec![1, 2, 3, 4]);
    assert_eq!(
        metric_steps(&out.join("runs").join(FIRST)),
        vec![1, 2, 3, 4]
    );
    let second: Value = serde_json::from_str(
        &fs::read_to_string(out.join("results").join(format!("{SECOND}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(second["resumed"], true);
    assert_eq!(second["spec"]["params"]["p"], "0.9");
    assert_eq!(second["eval"]["step"], 4);
    assert_eq!(second["eval"]["samples"], 1000);

    // A third sweep has nothing to do; the report covers both runs and has its plot.
    let log = assert_ok(&ambient_host(&[
        "sweep",
        "--out",
        out_arg,
        "--classifier",
        classifier_arg,
    ]));
    assert!(log.contains("2 finished earlier, 0 finished now"), "{log}");
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("2 of 2 runs finished"), "{report}");
    assert!(report.contains("| p | ambient |"), "{report}");
    assert!(report.contains("| 0.9 | "), "{report}");
    assert!(
        report.contains(FIRST) && report.contains(SECOND),
        "{report}"
    );
    let png = fs::read(out.join("block-pixels.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    // The same run names with other settings are refused, not mixed in.
    fs::write(&grid, grid_json(5)).unwrap();
    let stale = ambient_host(&[
        "sweep",
        "--grid",
        grid.to_str().unwrap(),
        "--out",
        out_arg,
        "--classifier",
        classifier_arg,
    ]);
    assert!(!stale.status.success());
    let text = String::from_utf8_lossy(&stale.stderr);
    assert!(
        text.contains("other settings") && text.contains("steps"),
        "{text}"
    );
}
