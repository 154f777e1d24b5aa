/*
 * The board and start-up services the firmware uses: a free-running tick counter and the
 * stack measurement.
 */

#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds per tick of the counter: the MPS2 APB timers run at the 25 MHz SYSCLK. */
#define BOARD_TICK_NS 40u

/* Starts timer 0 of the CMSDK APB subsystem as a free-running counter. */
void board_timer_start(void);

/* Returns the ticks since board_timer_start(); it wraps after 2^32 ticks (171 s). */
uint32_t board_timer_ticks(void);

/* Paints the unused stack below the caller's frame with a fixed word. The reset handler
 * paints it once before main(); call it again to measure one step on its own. */
void stack_paint(void);

/* Returns the deepest stack use, in bytes from the top of the stack, since the last
 * stack_paint(): the distance to the lowest word that no longer contains the paint. */
size_t stack_peak_bytes(void);

/* Returns the bytes reserved for the stack. */
size_t stack_size_bytes(void);

#endif /* BOARD_H */
