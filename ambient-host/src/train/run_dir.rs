//! The run folder: its layout, atomic writes and the metrics log.
//!
//! ```text
//! RUN/config.json              the resolved configuration
//! RUN/metrics.jsonl            one JSON object per step
//! RUN/checkpoint.safetensors   the last checkpoint
//! RUN/grids/step-NNNNNN-*.png  sample grids at intervals
//! RUN/{real,samples,measured}.png   the grids of the last step
//! ```
//!
//! Every file except the metrics log is written to a temporary file in the same folder and
//! renamed over its destination, so a crash leaves either the old or the new file, never a
//! half-written one.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::TrainError;

/// A run folder.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Names the run folder at `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Creates the folder and its `grids` subfolder.
    pub fn create(&self) -> Result<(), TrainError> {
        let grids = self.grids_dir();
        fs::create_dir_all(&grids).map_err(|e| TrainError::io(grids, e))
    }

    /// Returns the folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the path of `config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// Returns the path of `metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// Returns the path of the checkpoint.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.root.join("checkpoint.safetensors")
    }

    /// Returns the folder of the interval grids.
    pub fn grids_dir(&self) -> PathBuf {
        self.root.join("grids")
    }

    /// Returns the path of grid `name` (`samples`, `real`, `measured`) at `step`.
    pub fn grid_path(&self, step: u64, name: &str) -> PathBuf {
        self.grids_dir().join(format!("step-{step:06}-{name}.png"))
    }

    /// Returns the path of the last step's grid `name`.
    pub fn final_grid_path(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.png"))
    }
}

/// Returns a temporary path beside `path`, in the same folder so that a rename is atomic.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_os_string());
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(temp)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    write_atomic_with(path, |temp| {
        let mut file = File::create(temp).map_err(|e| TrainError::io(temp, e))?;
        file.write_all(bytes).map_err(|e| TrainError::io(temp, e))?;
        file.sync_all().map_err(|e| TrainError::io(temp, e))
    })
}

/// Has `write` create the file at a temporary path, then renames it to `path`.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<(), TrainError>
where
    F: FnOnce(&Path) -> Result<(), TrainError>,
{
    let temp = temp_path(path);
    if let Err(e) = write(&temp) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    fs::rename(&temp, path).map_err(|e| TrainError::io(path, e))
}

/// Writes `value` as pretty JSON to `path` atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| TrainError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Reads JSON from `path`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| TrainError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// The metrics log: JSON lines appended through a buffer, so that logging costs no system
/// call per step. The buffer is written out when full, at checkpoints and at the end, so a
/// reader of a live run can see a partial last line.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    out: BufWriter<File>,
}

impl MetricsLog {
    /// Opens the log at `path` for appending, first dropping every line whose `step` is
    /// after `keep_through` (lines a killed run wrote after its last checkpoint).
    pub fn open(path: &Path, keep_through: u64) -> Result<Self, TrainError> {
        if path.exists() {
            truncate_after(path, keep_through)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| TrainError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
        })
    }

    /// Appends one record.
    pub fn record<T: Serialize>(&mut self, value: &T) -> Result<(), TrainError> {
        serde_json::to_writer(&mut self.out, value).map_err(|source| TrainError::Json {
            path: self.path.clone(),
            source,
        })?;
        self.out
            .write_all(b"\n")
            .map_err(|e| TrainError::io(&self.path, e))
    }

    /// Writes the buffered records to the file.
    pub fn flush(&mut self) -> Result<(), TrainError> {
        self.out.flush().map_err(|e| TrainError::io(&self.path, e))
    }
}

fn truncate_after(path: &Path, keep_through: u64) -> Result<(), TrainError> {
    let file = File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut kept = String::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| TrainError::io(path, e))?;
        let step = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v.get("step").and_then(|s| s.as_u64()));
        // A line cut short by a crash has no readable step and is dropped with the rest.
        if step.is_some_and(|s| s <= keep_through) {
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    write_atomic(path, kept.as_bytes())
}
