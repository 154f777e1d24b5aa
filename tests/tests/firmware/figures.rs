//! The device figures of one firmware run: flash and RAM from the section sizes, the peak
//! stack from the painted stack, and instruction counts from the emulator's timer.

use std::collections::HashMap;

use super::qemu::Report;

/// Flash of the typical Cortex-M4 part the figures are compared with (for example the
/// nRF52840, a Cortex-M4F with 1 MiB flash and 256 KiB RAM).
pub const TYPICAL_FLASH: u64 = 1024 * 1024;

/// RAM of the typical Cortex-M4 part: 256 KiB.
pub const TYPICAL_RAM: u64 = 256 * 1024;

/// The figures of one run.
#[derive(Debug)]
pub struct Figures {
    /// Bytes of code and constants in flash: `.text`, `.ARM.exidx` and the load image of
    /// `.data`.
    pub code_flash: u64,
    /// Bytes of the embedded weight file (`.model`).
    pub model_flash: u64,
    /// Bytes of static RAM: `.data` and `.bss`, which contains the scratch buffer.
    pub static_ram: u64,
    /// Bytes of the scratch buffer, part of `static_ram`.
    pub scratch: u64,
    /// Bytes reserved for the stack (`.stack`).
    pub stack_reserved: u64,
    /// The deepest stack use in bytes, from the painted stack: the largest of the three
    /// steps below.
    pub stack_peak: u64,
    /// The deepest stack use of opening the model and querying its sizes.
    pub stack_open: u64,
    /// The deepest stack use of generating the image.
    pub stack_generate: u64,
    /// The deepest stack use of measuring the image and writing the record stream.
    pub stack_measure_record: u64,
    /// Instructions of one generator run.
    pub generate_instructions: u64,
    /// Instructions of one Block-Pixels measurement.
    pub measure_instructions: u64,
    /// Instructions of writing the record stream.
    pub record_instructions: u64,
}

impl Figures {
    /// Collects the figures from the ELF's sections and the firmware's report.
    pub fn new(sections: &HashMap<String, u64>, report: &Report) -> Self {
        let section = |name: &str| sections.get(name).copied().unwrap_or(0);
        let per_tick = instructions_per_tick(report);
        Self {
            code_flash: section(".text") + section(".ARM.exidx") + section(".data"),
            model_flash: section(".model"),
            static_ram: section(".data") + section(".bss"),
            scratch: report.number("scratch_capacity"),
            stack_reserved: section(".stack"),
            stack_peak: report.number("stack_peak"),
            stack_open: report.number("stack_peak_open"),
            stack_generate: report.number("stack_peak_generate"),
            stack_measure_record: report.number("stack_peak_measure_record"),
            generate_instructions: report.number("generate_ticks") * per_tick,
            measure_instructions: report.number("measure_ticks") * per_tick,
            record_instructions: report.number("record_ticks") * per_tick,
        }
    }

    /// Returns the flash the firmware needs, code and model.
    pub fn flash(&self) -> u64 {
        self.code_flash + self.model_flash
    }

    /// Returns the least RAM the firmware runs in: static RAM and the peak stack. A real
    /// part needs a margin above it for interrupts.
    pub fn ram(&self) -> u64 {
        self.static_ram + self.stack_peak
    }

    /// Returns whether the firmware fits the typical part's flash and RAM.
    pub fn fits_typical_part(&self) -> bool {
        self.flash() <= TYPICAL_FLASH && self.ram() <= TYPICAL_RAM
    }

    /// Prints the figures, labelled with the model and board, for the test log.
    pub fn print(&self, model: &str, machine: &str) {
        let fits = if self.fits_typical_part() {
            "yes"
        } else {
            "no"
        };
        println!("firmware figures, {model} int8 on {machine}:");
        println!(
            "  flash {} B = code {} B + model {} B",
            self.flash(),
            self.code_flash,
            self.model_flash
        );
        println!(
            "  static RAM {} B (scratch {} B); stack {} B reserved, {} B peak",
            self.static_ram, self.scratch, self.stack_reserved, self.stack_peak
        );
        println!(
            "  stack peak by step: open {} B, generate {} B, measure and record {} B",
            self.stack_open, self.stack_generate, self.stack_measure_record
        );
        println!(
            "  instructions (+-40 each): generate {}, Block-Pixels {}, record {}",
            self.generate_instructions, self.measure_instructions, self.record_instructions
        );
        println!(
            "  RAM needed (static + peak stack) {} B; fits 1 MiB flash, 256 KiB RAM: {fits}",
            self.ram()
        );
    }
}

/// Returns the instructions per timer tick, after checking the firmware's calibration.
/// With `-icount shift=0` one instruction takes 1 ns of virtual time, so a tick of
/// `tick_ns` nanoseconds is `tick_ns` instructions. The calibration loop's known
/// instruction count must come out within 1 % of its ticks times that.
fn instructions_per_tick(report: &Report) -> u64 {
    let per_tick = report.number("tick_ns");
    let ticks = report.number("calibration_ticks");
    let instructions = report.number("calibration_instructions");
    let measured = (ticks * per_tick) as f64;
    let relative = (measured - instructions as f64).abs() / instructions as f64;
    assert!(
        relative < 0.01,
        "the calibration loop of {instructions} instructions took {ticks} ticks of \
         {per_tick} ns: the virtual clock does not count one instruction per ns"
    );
    per_tick
}
