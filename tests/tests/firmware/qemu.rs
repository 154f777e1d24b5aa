//! Runs a firmware image under `qemu-system-arm` and parses the report it prints over
//! semihosting.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An emulated MPS2 board and its core.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// QEMU's machine name.
    pub machine: &'static str,
    /// QEMU's CPU name.
    pub cpu: &'static str,
}

/// The MPS2 board with the AN386 FPGA image: a Cortex-M4 with FPU.
pub const CORTEX_M4: Board = Board {
    machine: "mps2-an386",
    cpu: "cortex-m4",
};

/// The MPS2 board with the AN500 FPGA image: a Cortex-M7 with FPU.
pub const CORTEX_M7: Board = Board {
    machine: "mps2-an500",
    cpu: "cortex-m7",
};

/// Wall-clock limit of one emulator run; the largest model runs in a few seconds.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The firmware's report: one value per key.
pub struct Report {
    values: HashMap<String, String>,
    /// Everything the emulator printed, for failure messages.
    pub output: String,
}

impl Report {
    fn parse(output: String) -> Self {
        let values = output
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        Self { values, output }
    }

    /// Returns the value of `key`, failing with the whole output when it is missing.
    pub fn text(&self, key: &str) -> &str {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("firmware printed no `{key}`:\n{}", self.output))
    }

    /// Returns the decimal value of `key`.
    pub fn number(&self, key: &str) -> u64 {
        let text = self.text(key);
        text.parse()
            .unwrap_or_else(|_| panic!("`{key}` is not a number: {text}"))
    }

    /// Returns the bytes printed in hex under `name`, after checking them against the
    /// length and FNV-1a hash printed beside them.
    pub fn bytes(&self, name: &str) -> Vec<u8> {
        let text = self.text(name);
        let bytes: Vec<u8> = (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digits"))
            .collect();
        assert_eq!(text.len(), 2 * bytes.len(), "odd hex length of `{name}`");
        let len = self.number(&format!("{name}_bytes"));
        assert_eq!(bytes.len() as u64, len, "printed length of `{name}`");
        assert_eq!(
            self.text(&format!("{name}_fnv1a")),
            format!("{:08x}", fnv1a(&bytes)),
            "FNV-1a hash the firmware computed for `{name}` against the host's"
        );
        bytes
    }
}

/// Runs `elf` on `board` with instruction counting and returns its report. With
/// `-icount shift=0` the virtual clock advances 1 ns per instruction. Fails unless the
/// firmware exits with status 0 within [`RUN_LIMIT`].
pub fn run(elf: &Path, board: Board) -> Report {
    let (success, report) = run_to_exit(elf, board);
    assert!(
        success,
        "firmware on {} failed:\n{}",
        board.machine, report.output
    );
    report
}

/// Runs `elf` on `board` as [`run`] does and returns whether it exited with status 0,
/// with its report. Fails only when the firmware does not exit within [`RUN_LIMIT`].
pub fn run_to_exit(elf: &Path, board: Board) -> (bool, Report) {
    let mut child = Command::new("qemu-system-arm")
        .args(["-M", board.machine, "-cpu", board.cpu])
        .args(["-nographic", "-monitor", "none", "-serial", "none"])
        .args(["-icount", "shift=0"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run qemu-system-arm");

    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let readers = [
        std::thread::spawn(move || read_all(&mut stdout)),
        std::thread::spawn(move || read_all(&mut stderr)),
    ];
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for qemu-system-arm") {
            break Some(status);
        }
        if started.elapsed() > RUN_LIMIT {
            child.kill().expect("stop qemu-system-arm");
            child.wait().expect("reap qemu-system-arm");
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output: String = readers
        .into_iter()
        .map(|reader| reader.join().expect("output reader"))
        .collect();

    let Some(status) = status else {
        panic!(
            "{} timed out after {RUN_LIMIT:?}; output:\n{output}",
            board.machine
        );
    };
    (status.success(), Report::parse(output))
}

/// Computes the 32-bit FNV-1a hash, as report.c's `report_fnv1a` does.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811C_9DC5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn read_all(pipe: &mut impl Read) -> String {
    let mut text = String::new();
    pipe.read_to_string(&mut text)
        .expect("read emulator output");
    text
}
