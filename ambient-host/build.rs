//! Links the binary to libtorch so that it runs without `LD_LIBRARY_PATH` and keeps CUDA.
//!
//! torch-sys hands its libtorch lib directory to direct dependants as
//! `DEP_TCH_LIBTORCH_LIB`. That directory goes into every linked artefact as an rpath, and
//! when it holds `libtorch_cuda.so` the library is linked with `--no-as-needed`: nothing in
//! the binary calls into it directly, so the linker would otherwise drop it as unneeded and
//! the program would silently see no CUDA device.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=build.rs");

    let Some(lib_dir) = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        println!("cargo:warning=torch-sys gave no libtorch lib dir; no rpath recorded");
        return;
    };

    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    println!("cargo:rustc-env=AMBIENT_LIBTORCH_LIB={}", lib_dir.display());

    if lib_dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
        println!("cargo:rustc-env=AMBIENT_LIBTORCH_CUDA=1");
    } else {
        println!("cargo:rustc-env=AMBIENT_LIBTORCH_CUDA=0");
    }
}
