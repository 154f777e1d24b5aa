//! The panic handler of bare-metal builds, where no standard library provides one.
//!
//! The library checks every input before use, so only a library bug can panic. There is
//! no unwinding on these targets, so the handler stops the core where a debugger or the
//! firmware's fault handler sees it: on Arm with a permanently undefined instruction (a
//! HardFault, or UsageFault when that is enabled), elsewhere in a busy loop that a
//! watchdog resets.

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    #[cfg(target_arch = "arm")]
    // SAFETY: `udf` only raises a fault; it reads and writes no memory.
    unsafe {
        core::arch::asm!("udf #0", options(noreturn, nomem, nostack))
    }
    #[cfg(not(target_arch = "arm"))]
    loop {
        core::hint::spin_loop();
    }
}
