#include "board.h"

/* Timer 0 of the CMSDK APB subsystem, at the same address on AN385, AN386 and AN500. */
#define TIMER0_BASE 0x40000000u

struct cmsdk_timer {
    volatile uint32_t ctrl;   /* bit 0: enable */
    volatile uint32_t value;  /* counts down at SYSCLK */
    volatile uint32_t reload; /* loaded into value when it reaches 0 */
    volatile uint32_t intstatus;
};

#define TIMER0 ((struct cmsdk_timer *)TIMER0_BASE)

void board_timer_start(void)
{
    TIMER0->ctrl = 0;
    TIMER0->reload = UINT32_MAX;
    TIMER0->value = UINT32_MAX;
    TIMER0->ctrl = 1;
}

uint32_t board_timer_ticks(void)
{
    return UINT32_MAX - TIMER0->value;
}
