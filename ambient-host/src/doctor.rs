//! `ambient-host doctor`: what libtorch the program runs on, whether CUDA and cuDNN work,
//! which device training would use, and which data sets it finds.

use std::fmt;
use std::path::{Path, PathBuf};

use tch::Cuda;

use crate::data::mnist::{self, Split};
use crate::device::{self, DeviceChoice};

/// The libtorch lib folder the program was linked against (recorded by the build script).
pub const LIBTORCH_LIB_DIR: &str = env!("AMBIENT_LIBTORCH_LIB");

/// Whether the build script found and linked `libtorch_cuda`.
pub const LINKED_CUDA: bool = matches!(env!("AMBIENT_LIBTORCH_CUDA").as_bytes(), b"1");

/// The content of one data folder.
#[derive(Debug)]
pub struct DataSetReport {
    /// The folder.
    pub path: PathBuf,
    /// Training and test image counts, or why the folder cannot be read.
    pub status: Result<(usize, usize), String>,
}

/// Everything `doctor` reports.
#[derive(Debug)]
pub struct DoctorReport {
    /// The torch version next to the libtorch folder (`torch/version.py`).
    pub torch_version: Option<String>,
    /// The libtorch libraries the running process has loaded.
    pub loaded_libraries: Vec<PathBuf>,
    /// Whether `libtorch_cuda` is loaded into the process (it is when the installed torch
    /// has CUDA support and the build script linked it).
    pub cuda_library_loaded: bool,
    /// Whether a CUDA device is usable.
    pub cuda_available: bool,
    /// Number of CUDA devices.
    pub cuda_devices: i64,
    /// Whether cuDNN is usable.
    pub cudnn_available: bool,
    /// The device `--device` would select, or why it cannot.
    pub device: Result<String, String>,
    /// CPU threads libtorch uses.
    pub threads: i32,
    /// The data sets found.
    pub data_sets: Vec<DataSetReport>,
}

/// Gathers the report for `choice`, looking for data sets in the built-in data folder's
/// parent and in `extra_data`.
pub fn diagnose(choice: DeviceChoice, extra_data: &[PathBuf]) -> DoctorReport {
    let cuda_available = Cuda::is_available();
    let loaded_libraries = loaded_libtorch();
    let cuda_library_loaded = loaded_libraries
        .iter()
        .any(|p| p.file_name().is_some_and(|n| n == "libtorch_cuda.so"));
    DoctorReport {
        torch_version: torch_version(Path::new(LIBTORCH_LIB_DIR)),
        loaded_libraries,
        cuda_library_loaded,
        cuda_available,
        cuda_devices: if cuda_available {
            Cuda::device_count()
        } else {
            0
        },
        cudnn_available: cuda_available && Cuda::cudnn_is_available(),
        device: device::resolve(choice)
            .map(device::device_name)
            .map_err(|e| e.to_string()),
        threads: tch::get_num_threads(),
        data_sets: find_data_sets(extra_data)
            .into_iter()
            .map(inspect)
            .collect(),
    }
}

fn torch_version(lib_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(lib_dir.parent()?.join("version.py")).ok()?;
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    Some(line.split('\'').nth(1)?.to_string())
}

/// Lists the libtorch shared libraries mapped into this process (Linux `/proc/self/maps`).
fn loaded_libtorch() -> Vec<PathBuf> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    let mut libs: Vec<PathBuf> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or("");
            name.starts_with("libtorch") || name.starts_with("libc10")
        })
        .map(PathBuf::from)
        .collect();
    libs.sort();
    libs.dedup();
    libs
}

fn find_data_sets(extra: &[PathBuf]) -> Vec<PathBuf> {
    let builtin = crate::data::builtin_dir();
    let mut found = vec![builtin.clone()];
    if let Some(Ok(entries)) = builtin.parent().map(std::fs::read_dir) {
        let mut siblings: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && *p != builtin && mnist::has_split(p, Split::Train))
            .collect();
        siblings.sort();
        found.extend(siblings);
    }
    found.extend(extra.iter().cloned());
    found
}

fn inspect(path: PathBuf) -> DataSetReport {
    let count = |split| -> Result<usize, String> {
        if !mnist::has_split(&path, split) {
            return Ok(0);
        }
        mnist::load_split(&path, split)
            .map(|s| s.len())
            .map_err(|e| e.to_string())
    };
    let status = count(Split::Train).and_then(|train| Ok((train, count(Split::Test)?)));
    DataSetReport { path, status }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

impl fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = self.torch_version.as_deref().unwrap_or("unknown");
        writeln!(
            f,
            "libtorch:        {version}, linked from {LIBTORCH_LIB_DIR}"
        )?;
        for lib in &self.loaded_libraries {
            writeln!(f, "  loaded         {}", lib.display())?;
        }
        let cuda_library = match (LINKED_CUDA, self.cuda_library_loaded) {
            (_, true) => "linked and loaded",
            (true, false) => "linked but not loaded",
            (false, false) => "absent (a CPU-only torch)",
        };
        writeln!(f, "libtorch_cuda:   {cuda_library}")?;
        writeln!(
            f,
            "CUDA available:  {} ({} devices)",
            yes_no(self.cuda_available),
            self.cuda_devices
        )?;
        writeln!(f, "cuDNN available: {}", yes_no(self.cudnn_available))?;
        match &self.device {
            Ok(name) => writeln!(f, "training device: {name}")?,
            Err(why) => writeln!(f, "training device: unavailable: {why}")?,
        }
        writeln!(f, "CPU threads:     {}", self.threads)?;
        writeln!(f, "data sets:")?;
        for set in &self.data_sets {
            match &set.status {
                Ok((0, 0)) => writeln!(f, "  {}: no IDX files", set.path.display())?,
                Ok((train, test)) => writeln!(
                    f,
                    "  {}: {train} training and {test} test images",
                    set.path.display()
                )?,
                Err(why) => writeln!(f, "  {}: unreadable: {why}", set.path.display())?,
            }
        }
        Ok(())
    }
}
