/*
 * Output and exit through Arm semihosting: the debugger or emulator (here QEMU with
 * -semihosting-config enable=on) services a BKPT 0xAB instruction. Without one attached,
 * BKPT faults, so this firmware runs only under a semihosting host.
 */

#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stdbool.h>

/* Writes a NUL-terminated string to the host's console (SYS_WRITE0). */
void semihost_write(const char *text);

/* Ends the program: QEMU exits with status 0 when `success`, 1 otherwise (SYS_EXIT). */
_Noreturn void semihost_exit(bool success);

#endif /* SEMIHOST_H */
