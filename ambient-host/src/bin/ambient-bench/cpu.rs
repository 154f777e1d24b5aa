//! What the benchmark ran on: the CPU model and its single-core f32 peak, the load, the
//! date and the commit.

use std::fs;
use std::process::Command;

/// The CPU and its assumed single-core peak.
#[derive(Clone, Debug)]
pub struct Cpu {
    /// `model name` from `/proc/cpuinfo`.
    pub model: String,
    /// The SIMD flags that set the peak (`avx2`, `fma`, `avx512f`).
    pub simd: Vec<&'static str>,
    /// The clock in GHz the peak assumes: `cpu MHz` from `/proc/cpuinfo`.
    pub ghz: f64,
    /// f32 flops per cycle of one core.
    pub flops_per_cycle: f64,
}

impl Cpu {
    /// Reads `/proc/cpuinfo`. The peak assumes two FMA pipes per core (every x86-64 core
    /// with AVX2 and FMA since Haswell and Zen 2), each doing a multiply and an add on
    /// every lane of the widest vector: 2 × lanes × 2 flops per cycle, at the reported
    /// clock (boost clocks are not visible in a virtual machine).
    pub fn detect() -> Self {
        let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let flags = field("flags");
        let has = |f: &str| flags.split_whitespace().any(|x| x == f);
        let simd: Vec<&'static str> = ["avx512f", "avx2", "fma", "avx", "sse2"]
            .into_iter()
            .filter(|f| has(f))
            .collect();
        let lanes = if has("avx512f") {
            16.0
        } else if has("avx2") || has("avx") {
            8.0
        } else {
            4.0
        };
        let fma = if has("fma") { 2.0 } else { 1.0 };
        Self {
            model: field("model name"),
            simd,
            ghz: field("cpu MHz").parse::<f64>().unwrap_or(0.0) / 1e3,
            flops_per_cycle: 2.0 * lanes * fma,
        }
    }

    /// Returns the assumed single-core f32 peak in GFLOP/s.
    pub fn peak_gflops(&self) -> f64 {
        self.flops_per_cycle * self.ghz
    }
}

/// Returns the 1, 5 and 15-minute load averages as `/proc/loadavg` gives them.
pub fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Returns the output of a command, trimmed, or `unknown`.
pub fn run(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
