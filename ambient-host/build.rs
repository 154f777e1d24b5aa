//! Links the binary to libtorch so that it runs without `LD_LIBRARY_PATH` and keeps CUDA.
//!
//! torch-sys hands its libtorch lib directory to direct dependants as
//! `DEP_TCH_LIBTORCH_LIB`. That directory goes into every linked artefact as an rpath, and
//! when it holds `libtorch_cuda.so` the library is linked with `--no-as-needed`: nothing in
//! the binary calls into it directly, so the linker would otherwise drop it as unneeded and
//! the program would silently see no CUDA device.
//!
//! It also compiles two libtorch entry points that tch does not expose:
//! `csrc/autocast.cpp`, the switch for the CPU autocast, and `csrc/fused_adam.cpp`, the
//! fused Adam step. They build against the headers beside that lib directory
//! (`../include`, where both the PyTorch wheel and a libtorch download keep them).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/autocast.cpp");
    println!("cargo:rerun-if-changed=csrc/fused_adam.cpp");

    let Some(lib_dir) = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        panic!(
            "torch-sys gave no libtorch lib dir (DEP_TCH_LIBTORCH_LIB), so neither the rpath \
             nor the C++ shims can be built; run `. scripts/env.sh` first"
        );
    };

    compile_shims(&lib_dir);
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

/// Compiles the C++ shims. The C++ ABI flag is left at the compiler's default, which
/// matches the PyTorch wheels since 2.7: the fused Adam step passes tensors and messages
/// through C types, and the libtorch calls made inside take no `std::string`.
fn compile_shims(lib_dir: &std::path::Path) {
    let include = lib_dir.join("../include");
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .file("csrc/autocast.cpp")
        .file("csrc/fused_adam.cpp")
        .compile("ambient_torch_shims");
}
