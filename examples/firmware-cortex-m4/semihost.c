#include "semihost.h"

#include <stdint.h>

/* Operation numbers and exit reasons of the Arm semihosting specification. */
enum {
    SYS_WRITE0 = 0x04,
    SYS_EXIT = 0x18,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
    ADP_STOPPED_RUN_TIME_ERROR = 0x20023,
};

/* Traps to the host with the operation in r0 and its argument in r1; the result returns
 * in r0. */
static uintptr_t semihost_call(uintptr_t operation, uintptr_t argument)
{
    register uintptr_t r0 __asm__("r0") = operation;
    register uintptr_t r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihost_write(const char *text)
{
    semihost_call(SYS_WRITE0, (uintptr_t)text);
}

_Noreturn void semihost_exit(bool success)
{
    /* On AArch32, SYS_EXIT takes the reason itself, not a parameter block. */
    uintptr_t reason = success ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR;
    semihost_call(SYS_EXIT, reason);
    for (;;) {
        /* Only reached without a semihosting host that ends the program. */
    }
}
