//! The AmbientGAN reference code's other models, trained a few steps through the built
//! program on tiny files in the real formats: the conditional DCGAN on labelled
//! MNIST-style IDX files under the 1-D measurements, the 64×64 DCGAN on CIFAR-10 batch
//! files, a folder of photographs and upscaled MNIST-style images, and the small 28×28
//! DCGAN, each then sampled or exported.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-host");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("paper_models_train")
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

/// Trains `steps` steps in batches of 4 on one thread into `out`.
fn train(out: &Path, data: &Path, steps: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--out",
        out.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--progress",
        "quiet",
        "--threads",
        "1",
        "--batch",
        "4",
        "--steps",
        steps,
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

fn config(run: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
}

fn png_size(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap()
}

/// Writes an MNIST-style folder of `count` 28×28 images (a bright square whose place
/// depends on the class) and, with `labels`, their classes `i mod 10`.
fn mnist_folder(name: &str, count: usize, labels: bool) -> PathBuf {
    let dir = scratch(name);
    let mut images = vec![0, 0, 8, 3];
    for d in [count as u32, 28, 28] {
        images.extend(d.to_be_bytes());
    }
    for i in 0..count {
        let class = i % 10;
        for r in 0..28 {
            for c in 0..28 {
                let inside = (r / 7 == class % 4) && (c / 7 == class / 4 + i % 2);
                images.push(if inside { 250 } else { (r * c % 7) as u8 });
            }
        }
    }
    fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    if labels {
        let mut bytes = vec![0, 0, 8, 1];
        bytes.extend((count as u32).to_be_bytes());
        bytes.extend((0..count).map(|i| (i % 10) as u8));
        fs::write(dir.join("train-labels-idx1-ubyte"), bytes).unwrap();
    }
    dir
}

#[test]
fn help_lists_every_model() {
    let output = ambient_host(&["train", "--help"]);
    assert_ok(&output);
    let help = String::from_utf8_lossy(&output.stdout);
    for name in [
        "dcgan28",
        "dcgan28-small",
        "dcgan28-tiny",
        "wgan28",
        "cond-dcgan28",
        "dcgan64",
        "dcgan64-small",
        "acwgan32",
    ] {
        assert!(
            help.contains(&format!("{name}:")),
            "--help lacks {name}:\n{help}"
        );
    }
}

#[test]
fn conditional_dcgan_trains_under_projections() {
    let data = mnist_folder("cond-data", 20, true);
    for (measurement, width) in [("pad-rotate-project", 80), ("pad-rotate-project-theta", 82)] {
        let run = scratch(&format!("cond-{measurement}"));
        let output = train(
            &run,
            &data,
            "2",
            &[
                "--model",
                "cond-dcgan28",
                "--measurement",
                measurement,
                "--param",
                "angles=2",
            ],
        );
        assert_ok(&output);
        let config = config(&run);
        assert_eq!(config["generator"], "cond-dcgan28");
        assert_eq!(config["discriminator"], "cond-fully-connected");
        assert_eq!(config["latent_dim"], 100);
        // Two angles of the 28×28 image zero-padded to 40 rows, plus each angle with θ.
        assert_eq!(config["discriminator_input"], serde_json::json!([width]));
        // 20 images in rows of one class: 2 columns, 10 rows of 28 + 2 pixels.
        assert_eq!(
            png_size(&run.join("samples.png")),
            (2 + 2 * 30, 2 + 10 * 30)
        );
    }
}

#[test]
fn conditional_dcgan_samples_rows_per_class_and_exports() {
    let data = mnist_folder("cond-image-data", 20, true);
    let run = scratch("cond-block-pixels");
    let output = train(&run, &data, "2", &["--model", "cond-dcgan28"]);
    assert_ok(&output);
    assert_eq!(config(&run)["discriminator"], "cond-conv");

    let grid = run.join("thirty.png");
    let output = ambient_host(
        &["sample", run.to_str().unwrap(), "-n", "30", "-o"]
            .into_iter()
            .chain([grid.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_ok(&output);
    assert_eq!(png_size(&grid), (2 + 3 * 30, 2 + 10 * 30));

    for dtype in ["f32", "int8"] {
        let file = run.join(format!("cond-{dtype}.amb"));
        let output = ambient_host(&[
            "export",
            run.to_str().unwrap(),
            "--dtype",
            dtype,
            "-o",
            file.to_str().unwrap(),
        ]);
        assert_ok(&output);
        let inspect = ambient_host(&["inspect", file.to_str().unwrap()]);
        assert_ok(&inspect);
        let text = String::from_utf8_lossy(&inspect.stdout).to_lowercase();
        assert!(
            text.contains("concat"),
            "no class concatenation in:\n{text}"
        );
    }
}

#[test]
fn conditional_dcgan_needs_labels() {
    let data = mnist_folder("cond-unlabelled", 12, false);
    let run = scratch("cond-unlabelled-run");
    let output = train(&run, &data, "1", &["--model", "cond-dcgan28"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no class labels"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn model_of_wrong_size_is_refused() {
    let data = mnist_folder("wrong-size", 12, true);
    let run = scratch("wrong-size-run");
    let output = train(&run, &data, "1", &["--model", "dcgan64"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--image-size 64"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn small_dcgan28_trains_resumes_and_keeps_its_model() {
    let data = mnist_folder("small-data", 16, false);
    let run = scratch("small");
    assert_ok(&train(&run, &data, "2", &["--model", "dcgan28-small"]));
    assert_eq!(config(&run)["generator"], "dcgan28-small");

    // Resuming without --model continues the same model; another model is refused.
    let resumed = train(&run, &data, "3", &["--resume"]);
    assert_ok(&resumed);
    assert_eq!(config(&run)["generator"], "dcgan28-small");
    let other = train(&run, &data, "4", &["--resume", "--model", "dcgan28"]);
    assert!(!other.status.success());
    assert!(stderr(&other).contains("generator"), "{}", stderr(&other));

    let file = run.join("small.amb");
    let output = ambient_host(&[
        "export",
        run.to_str().unwrap(),
        "--dtype",
        "int8",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_ok(&output);
}

#[test]
fn config_without_new_fields_still_resumes() {
    let data = mnist_folder("old-config-data", 16, false);
    let run = scratch("old-config");
    assert_ok(&train(&run, &data, "1", &[]));
    let mut config = config(&run);
    let object = config.as_object_mut().unwrap();
    assert!(!object.contains_key("image_size"));
    assert!(!object.contains_key("max_images"));
    assert_eq!(object["generator"], "dcgan28");
    assert_ok(&train(&run, &data, "2", &["--resume"]));
}

/// Writes the CIFAR-10 batch file `data_batch_{n}.bin` of `count` records: label
/// `i mod 10`, then the red, green and blue planes.
fn cifar_batch(dir: &Path, n: usize, count: usize) -> PathBuf {
    let mut bytes = Vec::new();
    for i in 0..count {
        bytes.push((i % 10) as u8);
        bytes.extend((0..3 * 1024).map(|p| ((p * 7 + i * 31 + n) % 256) as u8));
    }
    let path = dir.join(format!("data_batch_{n}.bin"));
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn dcgan64_trains_on_cifar_batches() {
    let dir = scratch("cifar-data");
    let first = cifar_batch(&dir, 1, 8);
    for n in 2..=5 {
        cifar_batch(&dir, n, 2);
    }
    // One batch file, then the folder of the five training batches.
    for (data, examples) in [(first, 8), (dir.clone(), 16)] {
        let run = scratch(&format!("cifar-{examples}"));
        let output = train(&run, &data, "2", &["--image-size", "64"]);
        assert_ok(&output);
        let config = config(&run);
        assert_eq!(config["generator"], "dcgan64-small");
        assert_eq!(config["discriminator"], "dcgan64-small-conv");
        assert_eq!(config["image_shape"], serde_json::json!([3, 64, 64]));
        assert_eq!(config["image_size"], 64);
        assert_eq!(config["examples"], examples);
    }

    let corrupt = dir.join("corrupt.bin");
    fs::write(&corrupt, vec![1u8; 3073 + 5]).unwrap();
    let output = train(&scratch("cifar-corrupt"), &corrupt, "1", &[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("corrupt.bin"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn dcgan64_trains_on_a_photo_folder() {
    let dir = scratch("photos");
    let colour = image::RgbImage::from_fn(90, 110, |x, y| image::Rgb([x as u8, y as u8, 99]));
    colour.save(dir.join("a.png")).unwrap();
    colour.save(dir.join("b.jpg")).unwrap();
    image::GrayImage::from_fn(70, 70, |x, _| image::Luma([x as u8 * 3]))
        .save(dir.join("c.png"))
        .unwrap();
    image::RgbaImage::from_fn(120, 100, |x, y| image::Rgba([y as u8, x as u8, 7, 128]))
        .save(dir.join("d.png"))
        .unwrap();
    fs::write(dir.join("notes.txt"), "not an image").unwrap();

    let run = scratch("photos-run");
    let output = train(&run, &dir, "2", &[]);
    assert_ok(&output);
    assert!(stderr(&output).contains("notes.txt"), "{}", stderr(&output));
    let config = config(&run);
    assert_eq!(config["generator"], "dcgan64-small");
    assert_eq!(config["examples"], 4);
    assert_eq!(config["image_shape"], serde_json::json!([3, 64, 64]));
    // 4 images in rows of 2 cells of 64 + 2 pixels.
    assert_eq!(png_size(&run.join("samples.png")), (2 + 2 * 66, 2 + 2 * 66));
}

#[test]
fn dcgan64_trains_on_upscaled_mnist_style_images() {
    let data = mnist_folder("upscale-data", 20, true);
    let run = scratch("upscale");
    let output = train(
        &run,
        &data,
        "2",
        &[
            "--image-size",
            "64",
            "--max-images",
            "12",
            "--model",
            "dcgan64-small",
        ],
    );
    assert_ok(&output);
    let config = config(&run);
    assert_eq!(config["examples"], 12);
    assert_eq!(config["image_shape"], serde_json::json!([1, 64, 64]));
    assert_eq!(config["max_images"], 12);
    let file = run.join("small64.amb");
    let output = ambient_host(&[
        "export",
        run.to_str().unwrap(),
        "--dtype",
        "f32",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_ok(&output);
}

/// Returns the metrics lines of a run without their timings.
fn losses(run: &Path) -> Vec<String> {
    let metrics = fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    metrics
        .lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            value.as_object_mut().unwrap().remove("step_ms");
            value.to_string()
        })
        .collect()
}

/// Returns the number of updates an optimiser of the run's checkpoint has made.
fn adam_steps(run: &Path, optimiser: &str) -> i64 {
    let tensors = tch::Tensor::read_safetensors(run.join("checkpoint.safetensors")).unwrap();
    let name = format!("optim.{optimiser}.steps");
    let (_, steps) = tensors.iter().find(|(n, _)| *n == name).unwrap();
    steps.int64_value(&[0])
}

#[test]
fn paper_dcgan64_normalises_and_updates_generator_twice() {
    let data = mnist_folder("paper64-data", 12, false);
    let args = [
        "--image-size",
        "64",
        "--preset",
        "paper",
        "--model",
        "dcgan64-small",
    ];
    let run = scratch("paper64");
    assert_ok(&train(&run, &data, "2", &args));
    let stored = config(&run);
    assert_eq!(stored["generator_steps"], 2);
    assert_eq!(stored["discriminator_batch_norm"], true);
    assert_eq!(stored["critic_batches"], "shared");
    assert_eq!(adam_steps(&run, "gen"), 4);
    assert_eq!(adam_steps(&run, "disc"), 2);

    // The batch norms' running statistics are checkpointed, so a resumed run continues
    // the uninterrupted one exactly.
    assert_ok(&train(&run, &data, "3", &["--resume"]));
    let straight = scratch("paper64-straight");
    assert_ok(&train(&straight, &data, "3", &args));
    assert_eq!(losses(&run), losses(&straight));
    assert_eq!(adam_steps(&run, "gen"), 6);

    // A batch of one cannot be normalised.
    let one_run = scratch("paper64-one");
    let mut one_args = vec!["train", "--out", one_run.to_str().unwrap()];
    one_args.extend([
        "--data",
        data.to_str().unwrap(),
        "--batch",
        "1",
        "--steps",
        "1",
    ]);
    one_args.extend(args);
    let one = ambient_host(&one_args);
    assert!(!one.status.success());
    assert!(stderr(&one).contains("--batch"), "{}", stderr(&one));
}

#[test]
fn acwgan32_decays_and_draws_per_critic_update() {
    let dir = scratch("acwgan-decay-data");
    let batch = cifar_batch(&dir, 1, 12);
    let args = ["--critic-steps", "2", "--lr-decay-steps", "3"];
    let run = scratch("acwgan-decay");
    assert_ok(&train(&run, &batch, "2", &args));
    let stored = config(&run);
    assert_eq!(stored["critic_batches"], "fresh");
    assert_eq!(stored["lr_decay_steps"], 3);
    assert_eq!(stored["discriminator_batch_norm"], false);

    // Resuming continues the schedule and the draws: step 3 runs at a third of the rate
    // on draws 5 and 6, as in the uninterrupted run.
    assert_ok(&train(&run, &batch, "3", &["--resume"]));
    let straight = scratch("acwgan-decay-straight");
    assert_ok(&train(&straight, &batch, "3", &args));
    assert_eq!(losses(&run), losses(&straight));

    // Shared batches give another curve from the first step's second update on.
    let shared = scratch("acwgan-decay-shared");
    assert_ok(&train(
        &shared,
        &batch,
        "1",
        &[&args[..], &["--critic-batches", "shared"]].concat(),
    ));
    assert_ne!(losses(&shared)[0], losses(&straight)[0]);
}

#[test]
fn acwgan32_trains_on_a_cifar_batch() {
    let dir = scratch("acwgan-data");
    let batch = cifar_batch(&dir, 1, 6);
    let run = scratch("acwgan");
    let output = train(&run, &batch, "2", &["--critic-steps", "1"]);
    assert_ok(&output);
    let config = config(&run);
    assert_eq!(config["generator"], "acwgan32");
    assert_eq!(config["discriminator"], "resnet-critic");
    assert_eq!(config["loss"], "ac-wgan-gp");
    assert_eq!(config["beta1"], 0.0);
    let metrics = fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let last: Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    // The critic's cross-entropy over 10 classes starts near ln 10 ≈ 2.3.
    let ac = last["ac_real"].as_f64().unwrap();
    assert!(ac > 0.5, "ac_real {ac}");
    assert!(ac < 10.0, "ac_real {ac}");
    // 6 images of 10 classes: one per row.
    assert_eq!(png_size(&run.join("samples.png")), (2 + 34, 2 + 6 * 34));

    let file = run.join("acwgan.amb");
    let output = ambient_host(&[
        "export",
        run.to_str().unwrap(),
        "--dtype",
        "f32",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_ok(&output);
}
