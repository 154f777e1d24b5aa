//! The C firmware example (`examples/firmware-cortex-m4/`) built with `arm-none-eabi-gcc`
//! against `libambient.a` for `thumbv7em-none-eabihf`, run under `qemu-system-arm` on a
//! Cortex-M4 (MPS2 AN386) and a Cortex-M7 (MPS2 AN500), and compared with `ambient-core`
//! on the host.
//!
//! The firmware generates one image from a fixed latent with an int8 model embedded in
//! flash, measures it with Block-Pixels under a fixed seed and writes the measurement as
//! a record stream. Every output must equal the host's bit for bit. The int8 path is
//! integer arithmetic. The f32 steps around it (the Gaussian latent through `libm`,
//! quantising the latent, dequantising the image, the Block-Pixels mask and scale) are
//! IEEE single-precision operations, which the Cortex-M FPU and the host round alike.
//!
//! Each run prints the device figures (flash, static RAM, peak stack, instruction counts).
//! The test needs `gcc-arm-none-eabi`, `libnewlib-arm-none-eabi` and `qemu-system-arm`,
//! which scripts/setup.sh installs; a missing one fails the test with the package name.
//!
//! The committed model `examples/firmware-cortex-m4/model/small-int8.amb` is checked
//! against the deterministic generator in `firmware/models.rs`; regenerate it with
//! `AMBIENT_BLESS_FIRMWARE_MODEL=1 cargo test -p ambient-tests --test firmware_qemu`.

mod firmware {
    pub mod expected;
    pub mod figures;
    pub mod models;
    pub mod qemu;
    pub mod toolchain;
}

use std::path::{Path, PathBuf};

use ambient_core::nn::Model;
use firmware::expected::{self, Outputs};
use firmware::figures::Figures;
use firmware::models::{self, Generator};
use firmware::qemu::{self, Board, Report, CORTEX_M4, CORTEX_M7};
use firmware::toolchain::{self, BuildOptions};

/// Returns the committed weight file, which the firmware embeds by default.
fn committed_model() -> PathBuf {
    toolchain::example_dir().join("model/small-int8.amb")
}

/// Builds the firmware for the weight file at `model`, with buffers sized exactly for it.
fn build(name: &str, model: &Path, scratch_bytes: usize) -> PathBuf {
    toolchain::require_tools();
    let bytes = std::fs::read(model).expect("read the weight file");
    let parsed = Model::parse(&bytes).expect("parse the weight file");
    toolchain::build_firmware(&BuildOptions {
        name,
        model,
        scratch_bytes,
        latent_capacity: parsed.latent(),
        image_capacity: parsed.output_len(),
    })
}

fn scratch_len(model: &Path) -> usize {
    let bytes = std::fs::read(model).expect("read the weight file");
    let parsed = Model::parse(&bytes).expect("parse the weight file");
    parsed.scratch_len(1).expect("scratch for one image")
}

/// Asserts that every output the firmware printed equals the host's.
fn assert_outputs_match(report: &Report, want: &Outputs) {
    let pairs = [
        ("latent", &want.latent),
        ("image", &want.image),
        ("measurement", &want.measurement),
        ("record", &want.record),
    ];
    for (name, want) in pairs {
        let got = report.bytes(name);
        assert_eq!(got.len(), want.len(), "length of `{name}`");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            panic!(
                "`{name}` differs from ambient-core at byte {i}: firmware {:#04x}, host {:#04x}",
                got[i], want[i]
            );
        }
    }
}

/// Builds and runs the firmware for `model` on `board`, checks it against the host and
/// returns its figures.
fn run_and_compare(name: &str, model: &Path, board: Board) -> Figures {
    let scratch = scratch_len(model);
    let elf = build(name, model, scratch);
    let report = qemu::run(&elf, board);

    assert_eq!(report.text("status"), "ok");
    assert_eq!(
        report.number("scratch_needed"),
        scratch as u64,
        "ABI scratch query"
    );
    let model_bytes = std::fs::read(model).expect("read the weight file");
    assert_eq!(report.number("model_bytes"), model_bytes.len() as u64);
    assert_outputs_match(&report, &expected::outputs(&model_bytes));

    let figures = Figures::new(&toolchain::section_sizes(&elf), &report);
    assert_eq!(
        figures.model_flash,
        model_bytes.len() as u64,
        "size of .model"
    );
    assert!(figures.stack_peak > 0, "no stack use measured");
    assert!(
        figures.stack_peak < figures.stack_reserved,
        "the stack overflowed: {figures:?}"
    );
    figures
}

#[test]
fn committed_model_is_reproducible() {
    let path = committed_model();
    let made = models::int8_file(Generator::Small);
    if std::env::var_os("AMBIENT_BLESS_FIRMWARE_MODEL").is_some() {
        std::fs::create_dir_all(path.parent().expect("model folder")).expect("model folder");
        std::fs::write(&path, &made).expect("write the committed model");
    }
    let committed = std::fs::read(&path).expect("read the committed model");
    assert!(
        committed == made,
        "{} is not what firmware/models.rs makes; regenerate it with \
         AMBIENT_BLESS_FIRMWARE_MODEL=1 cargo test -p ambient-tests --test firmware_qemu",
        path.display()
    );
}

#[test]
fn cortex_m4_matches_core() {
    let figures = run_and_compare("small-m4", &committed_model(), CORTEX_M4);
    figures.print(Generator::Small.name(), CORTEX_M4.machine);
    assert!(figures.fits_typical_part(), "{figures:?}");
}

#[test]
fn cortex_m7_matches_core() {
    let figures = run_and_compare("small-m7", &committed_model(), CORTEX_M7);
    figures.print(Generator::Small.name(), CORTEX_M7.machine);
}

#[test]
fn cpu_preset_runs_on_cortex_m4() {
    let generator = Generator::CpuPreset;
    let dir = toolchain::build_root().join("models");
    std::fs::create_dir_all(&dir).expect("create the model folder");
    let model = dir.join(format!("{}-int8.amb", generator.name()));
    std::fs::write(&model, models::int8_file(generator)).expect("write the model");

    let figures = run_and_compare("cpu-preset-m4", &model, CORTEX_M4);
    figures.print(generator.name(), CORTEX_M4.machine);
}

#[test]
fn firmware_rejects_short_scratch() {
    let model = committed_model();
    let needed = scratch_len(&model);
    let elf = build("short-scratch", &model, needed - 16);
    let (success, report) = qemu::run_to_exit(&elf, CORTEX_M4);

    assert!(
        !success,
        "firmware ran with a short scratch:\n{}",
        report.output
    );
    assert_eq!(report.text("error"), "scratch buffer too small");
    assert_eq!(report.number("needed"), needed as u64);
    assert_eq!(report.number("capacity"), (needed - 16) as u64);
}
