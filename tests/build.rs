//! Records libtorch's lib directory as an rpath of the test binaries, so that the parity
//! tests against `ambient-host` (which links libtorch through tch) run without
//! `LD_LIBRARY_PATH`. torch-sys passes that directory to its direct dependants as
//! `DEP_TCH_LIBTORCH_LIB`, which is why this crate names torch-sys as a dependency.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=build.rs");
    match std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{}", dir.display());
        }
        None => println!("cargo:warning=torch-sys gave no libtorch lib dir; no rpath recorded"),
    }
}
