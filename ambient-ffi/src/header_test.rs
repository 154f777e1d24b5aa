//! Checks that `include/ambient.h` is what cbindgen writes for the current source, so that
//! the committed header never drifts from the library.

use std::path::Path;
use std::string::String;
use std::vec::Vec;

/// Set to 1 to rewrite the committed header instead of comparing with it.
const BLESS: &str = "AMBIENT_BLESS_HEADER";

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .unwrap();
    let mut bytes = Vec::new();
    bindings.write(&mut bytes);
    String::from_utf8(bytes).unwrap()
}

#[test]
fn header_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/ambient.h");
    let generated = generate();
    if std::env::var(BLESS).as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/ambient.h is stale: it differs from what cbindgen writes for the current \
         source. Regenerate it with `{BLESS}=1 cargo test -p ambient-ffi header` and commit it."
    );
}

#[test]
fn header_names_are_c_names() {
    let header = generate();
    // A Rust type missing from [export.rename] keeps its CamelCase name in the header.
    for unrenamed in [
        "struct Ambient",
        "enum Ambient",
        "int32_t Ambient",
        "uint8_t Ambient",
    ] {
        assert!(
            !header.contains(unrenamed),
            "the header contains `{unrenamed}...`: add the type to [export.rename] in \
             cbindgen.toml"
        );
    }
    assert!(
        header.is_ascii(),
        "the header must be ASCII for every C toolchain"
    );
}
