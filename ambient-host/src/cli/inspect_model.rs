//! `ambient-host inspect MODEL.amb`: the header, scratch and layers of a weight file.

use std::path::Path;

use anyhow::Context;

/// Returns whether the file at `path` with contents `bytes` is meant as a weight file: it
/// starts with the weight format's magic bytes or its name ends in `.amb`.
pub fn is_weight_file(path: &Path, bytes: &[u8]) -> bool {
    bytes.starts_with(&ambient_core::format::MAGIC) || path.extension().is_some_and(|e| e == "amb")
}

/// Prints the summary of the weight file at `path`, whose contents are `bytes`.
pub fn run(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let summary = ambient_host::export::summarize(bytes)
        .with_context(|| format!("cannot load {}", path.display()))?;
    print!("{}: {summary}", path.display());
    Ok(())
}
