/* The second translation unit of every C test program: checks and fill helpers. */
#include "util.h"

#include <stdio.h>
#include <string.h>

static int passed;
static int failed;

static const uint32_t canary_bits = 0x7fc0dead;

void check_at(const char *file, int line, const char *expr, int ok) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s:%d: %s\n", file, line, expr);
}

void check_status_at(const char *file, int line, const char *expr, ambient_status got,
                     ambient_status want) {
    if (got == want) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s:%d: %s returned %d (%s), expected %d (%s)\n", file, line, expr,
           (int)got, ambient_status_message(got), (int)want, ambient_status_message(want));
}

int finish(const char *program) {
    printf("%s: %d passed, %d failed\n", program, passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

void fill_image(float *x, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        x[i] = (float)((i * 37 + 11) % 101) / 100.0f;
    }
}

float float_from_bits(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

uint32_t float_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

void fill_canary(float *values, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        values[i] = float_from_bits(canary_bits);
    }
}

int is_canary(const float *values, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        if (float_bits(values[i]) != canary_bits) {
            return 0;
        }
    }
    return 1;
}
