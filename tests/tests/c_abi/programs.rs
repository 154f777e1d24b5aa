//! Builds `libambient.a` on its own and compiles the C and C++ test programs against it.
//!
//! The library is built by a separate `cargo build -p ambient-ffi` into its own target
//! directory, not taken from the test's build. A workspace-wide build unifies features, so
//! the features other crates turn on for `ambient-core` (`alloc`, `std`) would end up in
//! the library, and firmware never gets those.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

/// Libraries the Rust standard library needs when `libambient.a` is linked into a C
/// program on Linux, as `cargo rustc -- --print native-static-libs` lists them.
pub const NATIVE_LIBS: [&str; 7] = [
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// Warnings every C test program compiles without.
const C_FLAGS: [&str; 5] = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wpedantic"];

/// Warnings every C++ test program compiles without.
const CXX_FLAGS: [&str; 5] = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wpedantic"];

/// The source language of a test program.
#[derive(Clone, Copy)]
pub enum Language {
    /// C99.
    C,
    /// C++17.
    Cxx,
}

/// Returns the workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Which build of `libambient.a` a program links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// `cargo build -p ambient-ffi`: the build firmware and C users get.
    Product,
    /// The same with `ambient-core`'s `std` feature, which the Rust side of these tests
    /// has too. The f32 GEMM kernel depends on it (its tile size, and FMA where the CPU has
    /// it), so only this build's float outputs and scratch sizes equal the Rust side's bit
    /// for bit.
    CoreStd,
}

/// Returns the target directory of the separate library build: `c-abi` inside the target
/// directory this test was built in (found from the test executable, which cargo puts in
/// `<target>/<profile>/deps/`).
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("test executable in <target>/<profile>/deps");
    target.join("c-abi")
}

/// Returns the cargo target directory of `build`.
fn cargo_target_dir(build: Build) -> PathBuf {
    match build {
        Build::Product => build_dir(),
        Build::CoreStd => build_dir().join("core-std"),
    }
}

/// Runs `cargo build -p ambient-ffi` with `extra` arguments into the target directory of
/// `build`.
pub fn cargo_build_ffi(build: Build, extra: &[&str]) -> Output {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let features: &[&str] = match build {
        Build::Product => &[],
        Build::CoreStd => &["--features", "ambient-core/std"],
    };
    let output = Command::new(cargo)
        .current_dir(workspace())
        .args(["build", "-p", "ambient-ffi", "--target-dir"])
        .arg(cargo_target_dir(build))
        .args(features)
        .args(extra)
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .expect("failed to run cargo");
    assert!(
        output.status.success(),
        "cargo build -p ambient-ffi {features:?} {extra:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Returns the path of `libambient.a` of `build` for the host, building it once per test
/// process.
pub fn staticlib(build: Build) -> &'static Path {
    static PRODUCT: OnceLock<PathBuf> = OnceLock::new();
    static CORE_STD: OnceLock<PathBuf> = OnceLock::new();
    let cell = match build {
        Build::Product => &PRODUCT,
        Build::CoreStd => &CORE_STD,
    };
    cell.get_or_init(|| {
        cargo_build_ffi(build, &[]);
        let path = cargo_target_dir(build).join("debug/libambient.a");
        assert!(path.is_file(), "cargo built no {}", path.display());
        path
    })
}

/// Compiles and links `sources` (paths under `tests/c/`, each a translation unit that
/// includes `ambient.h`) against the product library into the program `name`, with
/// `link_flags` added before the library, and returns the program's path.
pub fn compile(name: &str, language: Language, sources: &[&str], link_flags: &[&str]) -> PathBuf {
    compile_for(Build::Product, name, language, sources, link_flags)
}

/// [`compile`] against the library of `build`.
pub fn compile_for(
    build: Build,
    name: &str,
    language: Language,
    sources: &[&str],
    link_flags: &[&str],
) -> PathBuf {
    // Tests run in parallel and several link the same program: compile each one once.
    static COMPILED: Mutex<Vec<(Build, String, PathBuf)>> = Mutex::new(Vec::new());
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, _, program)) = compiled.iter().find(|(b, n, _)| *b == build && n == name) {
        return program.clone();
    }
    let library = staticlib(build);
    let c_dir = workspace().join("tests/c");
    let out_dir = build_dir().join("programs");
    std::fs::create_dir_all(&out_dir).expect("create the program directory");
    let program = match build {
        Build::Product => out_dir.join(name),
        Build::CoreStd => out_dir.join(format!("{name}-core-std")),
    };

    let (compiler, flags) = match language {
        Language::C => (
            std::env::var("CC").unwrap_or_else(|_| "gcc".into()),
            C_FLAGS,
        ),
        Language::Cxx => (
            std::env::var("CXX").unwrap_or_else(|_| "g++".into()),
            CXX_FLAGS,
        ),
    };
    let output = Command::new(&compiler)
        .args(flags)
        .arg("-I")
        .arg(workspace().join("include"))
        .arg("-I")
        .arg(&c_dir)
        .args(sources.iter().map(|source| c_dir.join(source)))
        .arg("-o")
        .arg(&program)
        .args(link_flags)
        .arg(library)
        .args(NATIVE_LIBS)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {compiler}: {e}"));
    assert!(
        output.status.success(),
        "{compiler} failed on {sources:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    compiled.push((build, name.to_string(), program.clone()));
    program
}

/// Runs `program` with `args`, asserts that it exits with status 0, and returns its
/// standard output.
pub fn run(program: &Path, args: &[&Path]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        output.status.success() && failures.is_empty(),
        "{} exited with {}:\n{}\n{}",
        program.display(),
        output.status,
        failures.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Compiles the example `examples/c/<name>.c` with the flags `pkg-config` gives for
/// `examples/c/ambient.pc` (pointed at the separately built library), as a C user would,
/// and returns the program's path.
pub fn compile_example(name: &str) -> PathBuf {
    let library_dir = staticlib(Build::Product)
        .parent()
        .expect("library directory")
        .to_path_buf();
    let flags = pkg_config(&["--cflags", "--libs"], &library_dir);
    let program = build_dir().join("programs").join(format!("example-{name}"));
    let source = workspace().join("examples/c").join(format!("{name}.c"));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let output = Command::new(&compiler)
        .args(C_FLAGS)
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .args(flags.split_whitespace())
        .output()
        .unwrap_or_else(|e| panic!("failed to run {compiler}: {e}"));
    assert!(
        output.status.success(),
        "{compiler} failed on {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    program
}

/// Runs `pkg-config args ambient` on `examples/c/ambient.pc` with `libdir` set, and returns
/// its output.
pub fn pkg_config(args: &[&str], libdir: &Path) -> String {
    let output = Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", workspace().join("examples/c"))
        .arg(format!("--define-variable=libdir={}", libdir.display()))
        .args(args)
        .arg("ambient")
        .output()
        .expect("failed to run pkg-config (install the pkg-config package)");
    assert!(
        output.status.success(),
        "pkg-config {args:?} ambient failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pkg-config output is UTF-8")
}
