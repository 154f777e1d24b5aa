/*
 * Start-up code for an Armv7-M core (Cortex-M4, Cortex-M7): the vector table, the reset
 * handler that prepares RAM and the FPU before calling main(), the stack painting that
 * measures the peak stack depth, and fault handlers that report over semihosting.
 *
 * The stack sits at the bottom of RAM, below .data and .bss, so that an overflow runs off
 * the RAM instead of silently overwriting static data.
 */

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "semihost.h"

/* Section bounds from mps2.ld. */
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];

int main(void);
void reset_handler(void);

/* The word written over the unused stack at reset. */
#define STACK_PAINT 0x57AC57ACu

/* Bytes below the caller's stack pointer left unpainted, so that painting never overwrites
 * the frame of stack_paint() itself. */
#define PAINT_MARGIN 64u

static void hard_fault_handler(void)
{
    semihost_write("error hard fault\n");
    semihost_exit(false);
}

static void other_exception_handler(void)
{
    semihost_write("error unexpected exception\n");
    semihost_exit(false);
}

/* The Armv7-M vector table: the initial stack pointer, then the system exception handlers.
 * The example enables no interrupts, so the table ends after SysTick. */
struct vector_table {
    uint32_t *initial_sp;
    void (*handlers[15])(void);
};

__attribute__((section(".vectors"), used)) static const struct vector_table vectors = {
    .initial_sp = __stack_top,
    .handlers = {
        reset_handler,           /* Reset */
        other_exception_handler, /* NMI */
        hard_fault_handler,      /* HardFault */
        hard_fault_handler,      /* MemManage */
        hard_fault_handler,      /* BusFault */
        hard_fault_handler,      /* UsageFault */
        NULL, NULL, NULL, NULL,  /* reserved */
        other_exception_handler, /* SVCall */
        other_exception_handler, /* DebugMonitor */
        NULL,                    /* reserved */
        other_exception_handler, /* PendSV */
        other_exception_handler, /* SysTick */
    },
};

/* Grants full access to coprocessors 10 and 11 (the FPU) in CPACR. It runs before any
 * floating-point instruction: with hard-float code, the first one would fault otherwise. */
static void enable_fpu(void)
{
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void stack_paint(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    volatile uint32_t *end = (volatile uint32_t *)(sp - PAINT_MARGIN);
    for (volatile uint32_t *word = __stack_bottom; word < end; word++) {
        *word = STACK_PAINT;
    }
}

size_t stack_peak_bytes(void)
{
    const volatile uint32_t *word = __stack_bottom;
    while (word < __stack_top && *word == STACK_PAINT) {
        word++;
    }
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)word);
}

size_t stack_size_bytes(void)
{
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
}

void reset_handler(void)
{
    enable_fpu();

    const uint32_t *from = __data_load;
    for (uint32_t *to = __data_start; to < __data_end; to++) {
        *to = *from++;
    }
    for (uint32_t *word = __bss_start; word < __bss_end; word++) {
        *word = 0;
    }

    stack_paint();

    semihost_exit(main() == 0);
}
