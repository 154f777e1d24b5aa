//! The cross toolchain: checks that the compiler and emulator are installed, builds
//! `libambient.a` for `thumbv7em-none-eabihf`, builds the firmware with its Makefile and
//! reads the section sizes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Rust target of Cortex-M4F and Cortex-M7F cores with a single-precision FPU.
pub const RUST_TARGET: &str = "thumbv7em-none-eabihf";

/// Returns the workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Returns the firmware example's folder.
pub fn example_dir() -> PathBuf {
    workspace().join("examples/firmware-cortex-m4")
}

/// Returns the folder of this test's builds: `firmware` inside the target directory the
/// test was built in (the test executable sits in `<target>/<profile>/deps/`).
pub fn build_root() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("test executable in <target>/<profile>/deps");
    target.join("firmware")
}

/// Fails with the Debian package to install when `program` cannot be run.
pub fn require(program: &str, package: &str) {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        found,
        "`{program}` is not installed: install the Debian package {package} \
         (scripts/setup.sh installs it)"
    );
}

/// Fails with the Debian package to install when newlib's C library for Arm is missing:
/// the firmware links its `memcpy` and `memset` through `--specs=nano.specs`.
fn require_newlib() {
    let output = Command::new("arm-none-eabi-gcc")
        .arg("-print-file-name=libc_nano.a")
        .output()
        .expect("run arm-none-eabi-gcc");
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert!(
        path.is_absolute() && path.is_file(),
        "newlib for arm-none-eabi is not installed: install the Debian package \
         libnewlib-arm-none-eabi (scripts/setup.sh installs it)"
    );
}

/// Checks every tool the firmware test runs, naming the package of a missing one.
pub fn require_tools() {
    require("make", "make");
    require("arm-none-eabi-gcc", "gcc-arm-none-eabi");
    require("arm-none-eabi-size", "binutils-arm-none-eabi");
    require_newlib();
    require("qemu-system-arm", "qemu-system-arm");
}

/// Returns `libambient.a` for the Cortex-M target, built once per test process by a
/// separate `cargo build -p ambient-ffi --release`. A workspace build would unify
/// features, so the `alloc` and `std` features that other crates turn on for
/// `ambient-core` would end up in a library that firmware never gets.
pub fn staticlib() -> &'static Path {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let cargo = option_env!("CARGO").unwrap_or("cargo");
        let output = Command::new(cargo)
            .current_dir(workspace())
            .args([
                "build",
                "-p",
                "ambient-ffi",
                "--release",
                "--target",
                RUST_TARGET,
            ])
            .arg("--target-dir")
            .arg(build_root().join("cargo"))
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .expect("run cargo");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "cargo build -p ambient-ffi --target {RUST_TARGET} failed (is the target \
             installed? `rustup target add {RUST_TARGET}`):\n{stderr}"
        );
        let library = build_root().join(format!("cargo/{RUST_TARGET}/release/libambient.a"));
        assert!(library.is_file(), "cargo built no {}", library.display());
        library
    })
}

/// What a firmware build needs besides the model: the buffer sizes it is compiled with.
pub struct BuildOptions<'a> {
    /// The folder of this build's objects and ELF file.
    pub name: &'a str,
    /// The weight file to embed.
    pub model: &'a Path,
    /// Bytes of the static scratch buffer.
    pub scratch_bytes: usize,
    /// Floats of the static latent buffer.
    pub latent_capacity: usize,
    /// Floats of the static image and measurement buffers.
    pub image_capacity: usize,
}

/// Builds the firmware with `make` in the example folder and returns the ELF file.
pub fn build_firmware(options: &BuildOptions<'_>) -> PathBuf {
    let build = build_root().join(options.name);
    std::fs::create_dir_all(&build).expect("create the firmware build folder");
    let output = Command::new("make")
        .current_dir(example_dir())
        .arg("--always-make")
        .arg(format!("BUILD={}", build.display()))
        .arg(format!("MODEL={}", options.model.display()))
        .arg(format!("AMBIENT_LIB={}", staticlib().display()))
        .arg(format!("SCRATCH_BYTES={}", options.scratch_bytes))
        .arg(format!("LATENT_CAPACITY={}", options.latent_capacity))
        .arg(format!("IMAGE_CAPACITY={}", options.image_capacity))
        .output()
        .expect("run make");
    assert!(
        output.status.success(),
        "make in {} failed:\n{}{}",
        example_dir().display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    build.join("fw.elf")
}

/// Returns each allocated section's size in bytes, as `arm-none-eabi-size -A` lists them.
pub fn section_sizes(elf: &Path) -> HashMap<String, u64> {
    let output = Command::new("arm-none-eabi-size")
        .arg("-A")
        .arg(elf)
        .output()
        .expect("run arm-none-eabi-size");
    assert!(output.status.success(), "arm-none-eabi-size failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            let size = fields.next()?.parse().ok()?;
            name.starts_with('.').then(|| (name.to_string(), size))
        })
        .collect()
}
