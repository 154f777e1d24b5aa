/* Checks shared by the C test programs of the ambient C ABI. Each program links util.c,
 * so every program includes ambient.h in two translation units. */
#ifndef AMBIENT_TEST_UTIL_H
#define AMBIENT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ambient.h"

/* Records one check; prints a FAIL line with the expression when it does not hold. */
void check_at(const char *file, int line, const char *expr, int ok);

/* Records one status check; prints both statuses and their messages when they differ. */
void check_status_at(const char *file, int line, const char *expr, ambient_status got,
                     ambient_status want);

#define CHECK(expr) check_at(__FILE__, __LINE__, #expr, (expr) ? 1 : 0)
#define CHECK_STATUS(expr, want) check_status_at(__FILE__, __LINE__, #expr, (expr), (want))

/* Prints "<program>: N passed, M failed" and returns the process exit code. */
int finish(const char *program);

/* Fills x with the test image formula ((i * 37 + 11) % 101) / 100, which the Rust side of
 * the tests computes too: exact in float, so both sides get identical bits. */
void fill_image(float *x, size_t len);

/* A quiet NaN with a payload no computation produces, marking untouched floats. */
void fill_canary(float *values, size_t len);

/* Returns 1 when every value is still the canary. */
int is_canary(const float *values, size_t len);

/* Returns the float with bit pattern bits, and the bits of a float. */
float float_from_bits(uint32_t bits);
uint32_t float_bits(float value);

#endif
