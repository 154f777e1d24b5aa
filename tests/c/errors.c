/* Every error path of the measurement functions, the version and the status messages:
 * each bad call must return its status and leave every output untouched. */
#include <stdio.h>
#include <string.h>

#include "util.h"

#define LEN 784 /* one 1x28x28 image */

static const ambient_shape mnist = {1, 28, 28};

/* A float pointer one byte past an aligned one, made through an integer so that the C
 * side forms no misaligned pointer by a pointer cast. */
static float *misaligned(void *base) {
    return (float *)(uintptr_t)((uintptr_t)base + 1);
}

static void check_version(void) {
    char expected[32];
    sprintf(expected, "%d.%d.%d", AMBIENT_VERSION_MAJOR, AMBIENT_VERSION_MINOR,
            AMBIENT_VERSION_PATCH);
    CHECK(strcmp(ambient_version(), expected) == 0);
}

static void check_messages(void) {
    const int32_t known[] = {
        AMBIENT_STATUS_INTERNAL_ERROR,    AMBIENT_STATUS_NULL_POINTER,
        AMBIENT_STATUS_BUFFER_TOO_SMALL,  AMBIENT_STATUS_LENGTH_MISMATCH,
        AMBIENT_STATUS_MISALIGNED,        AMBIENT_STATUS_INVALID_HANDLE,
        AMBIENT_STATUS_OVERLAP,           AMBIENT_STATUS_LENGTH_TOO_LARGE,
        AMBIENT_STATUS_UNKNOWN_MEASUREMENT, AMBIENT_STATUS_UNSUPPORTED_MEASUREMENT,
        AMBIENT_STATUS_INVALID_PARAMETER, AMBIENT_STATUS_INVALID_SHAPE,
        AMBIENT_STATUS_SIZE_OVERFLOW,
    };
    size_t i;
    const char *unknown = "unknown status code";
    CHECK(strcmp(ambient_status_message(AMBIENT_STATUS_OK), "success") == 0);
    for (i = 0; i < sizeof known / sizeof known[0]; i++) {
        const char *message = ambient_status_message(known[i]);
        CHECK(message != NULL);
        CHECK(message != NULL && strlen(message) > 0);
        CHECK(message != NULL && strcmp(message, unknown) != 0);
    }
    CHECK(strcmp(ambient_status_message(-1), unknown) == 0);
    CHECK(strcmp(ambient_status_message(9999), unknown) == 0);
    CHECK(strcmp(ambient_status_message(INT32_MIN), unknown) == 0);
}

static void check_params_default(void) {
    ambient_measurement_params params, before;
    memset(&params, 0xab, sizeof params);
    before = params;
    CHECK_STATUS(ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, NULL),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_params_default(0, &params),
                 AMBIENT_STATUS_UNKNOWN_MEASUREMENT);
    CHECK_STATUS(ambient_measurement_params_default(200, &params),
                 AMBIENT_STATUS_UNKNOWN_MEASUREMENT);
    CHECK(memcmp(&params, &before, sizeof params) == 0);
    CHECK_STATUS(ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_DROP_ROW, &params),
                 AMBIENT_STATUS_OK);
    CHECK(params.kind == AMBIENT_MEASUREMENT_KIND_DROP_ROW);
    CHECK(params.p == 0.9f);
    CHECK(params.rescale == 1);
    CHECK(params.patch == 14);
    CHECK(params.auto_pad == 1);
    CHECK(params.interpolation == AMBIENT_INTERPOLATION_NEAREST);
}

/* Expects init to fail with want and leave the zeroed handle zeroed. */
static void check_init_fails(const ambient_measurement_params *params, ambient_shape shape,
                             ambient_status want, int line) {
    ambient_measurement m, zero;
    memset(&m, 0, sizeof m);
    memset(&zero, 0, sizeof zero);
    check_status_at(__FILE__, line, "ambient_measurement_init", ambient_measurement_init(&m, params, shape), want);
    check_at(__FILE__, line, "handle untouched", memcmp(&m, &zero, sizeof m) == 0);
}

static void check_init(void) {
    ambient_measurement_params params;
    ambient_measurement m = {{0}};
    ambient_shape empty = {1, 0, 28};
    ambient_shape huge = {SIZE_MAX, SIZE_MAX, 2};
    uint64_t storage[65];

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, &params);
    CHECK_STATUS(ambient_measurement_init(NULL, &params, mnist), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_init(&m, NULL, mnist), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_init((ambient_measurement *)(uintptr_t)((uintptr_t)storage + 4),
                                          &params, mnist),
                 AMBIENT_STATUS_MISALIGNED);
    check_init_fails(&params, empty, AMBIENT_STATUS_INVALID_SHAPE, __LINE__);
    check_init_fails(&params, huge, AMBIENT_STATUS_INVALID_SHAPE, __LINE__);

    params.p = 1.0f;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.p = -0.1f;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.p = float_from_bits(0x7fc00000); /* NaN */
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.p = 0.5f;
    params.interpolation = 7;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.interpolation = AMBIENT_INTERPOLATION_BILINEAR;
    params.kind = 0;
    check_init_fails(&params, mnist, AMBIENT_STATUS_UNKNOWN_MEASUREMENT, __LINE__);
    params.kind = 12;
    check_init_fails(&params, mnist, AMBIENT_STATUS_UNKNOWN_MEASUREMENT, __LINE__);

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PATCH, &params);
    params.patch = 29;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.patch = 0;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_CONVOLVE_NOISE, &params);
    params.kernel_size = 4;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.kernel_size = 5;
    params.sigma = 0.0f;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.sigma = 1.0f;
    params.noise_std = -1.0f;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_PAD_ROTATE_PROJECT, &params);
    params.angles = 0;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
    params.angles = 2;
    params.auto_pad = 0;
    params.pad = SIZE_MAX / 2;
    check_init_fails(&params, mnist, AMBIENT_STATUS_SIZE_OVERFLOW, __LINE__);

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_GAUSSIAN_PROJECTION, &params);
    params.projections = 0;
    check_init_fails(&params, mnist, AMBIENT_STATUS_INVALID_PARAMETER, __LINE__);
}

static void check_handle(void) {
    ambient_measurement zeroed = {{0}};
    uint64_t storage[65] = {0};
    const ambient_measurement *odd =
        (const ambient_measurement *)(uintptr_t)((uintptr_t)storage + 4);
    size_t len = 12345;
    float x[LEN], y[LEN];

    fill_image(x, LEN);
    fill_canary(y, LEN);
    CHECK_STATUS(ambient_measurement_input_len(NULL, &len), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_output_len(&zeroed, &len), AMBIENT_STATUS_INVALID_HANDLE);
    CHECK_STATUS(ambient_measurement_theta_len(odd, &len), AMBIENT_STATUS_MISALIGNED);
    CHECK(len == 12345);
    CHECK_STATUS(ambient_measurement_apply(&zeroed, x, LEN, 1, y, LEN),
                 AMBIENT_STATUS_INVALID_HANDLE);
    CHECK_STATUS(ambient_measurement_apply_batch(&zeroed, x, LEN, 1, y, LEN),
                 AMBIENT_STATUS_INVALID_HANDLE);
    CHECK_STATUS(ambient_measurement_theta(&zeroed, 1, y, LEN), AMBIENT_STATUS_INVALID_HANDLE);
    CHECK(is_canary(y, LEN));
}

static void check_apply(const ambient_measurement *m) {
    static float x[2 * LEN + 1], y[2 * LEN + 2];
    size_t len = 0;

    fill_image(x, 2 * LEN + 1);
    fill_canary(y, 2 * LEN + 2);
    CHECK_STATUS(ambient_measurement_output_len(m, NULL), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_output_len(m, &len), AMBIENT_STATUS_OK);
    CHECK(len == LEN);
    CHECK_STATUS(ambient_measurement_apply(m, NULL, LEN, 1, y, LEN), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN, 1, NULL, LEN), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN - 1, 1, y, LEN),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN + 1, 1, y, LEN),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN, 1, y, LEN - 1),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_measurement_apply(m, misaligned(x), LEN, 1, y, LEN),
                 AMBIENT_STATUS_MISALIGNED);
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN, 1, misaligned(y), LEN),
                 AMBIENT_STATUS_MISALIGNED);
    CHECK_STATUS(ambient_measurement_apply(m, x, SIZE_MAX / 2, 1, y, LEN),
                 AMBIENT_STATUS_LENGTH_TOO_LARGE);
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN, 1, y, SIZE_MAX / 4 + 1),
                 AMBIENT_STATUS_LENGTH_TOO_LARGE);
    CHECK(is_canary(y, 2 * LEN + 2));

    /* In place, and overlapping by one float at either end. */
    CHECK_STATUS(ambient_measurement_apply(m, x, LEN, 1, x, LEN), AMBIENT_STATUS_OVERLAP);
    CHECK_STATUS(ambient_measurement_apply(m, x + 1, LEN, 1, x + LEN, LEN),
                 AMBIENT_STATUS_OVERLAP);
    CHECK_STATUS(ambient_measurement_apply(m, x + LEN, LEN, 1, x + 1, LEN),
                 AMBIENT_STATUS_OVERLAP);
    CHECK_STATUS(ambient_measurement_apply(m, x + LEN, LEN, 1, x, LEN), AMBIENT_STATUS_OK);
    fill_image(x, 2 * LEN + 1);

    CHECK_STATUS(ambient_measurement_apply_batch(m, x, 0, 1, y, LEN),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_measurement_apply_batch(m, x, 2 * LEN + 1, 1, y, 2 * LEN + 2),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_measurement_apply_batch(m, x, 2 * LEN, 1, y, 2 * LEN - 1),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_measurement_theta(m, 1, NULL, LEN), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_measurement_theta(m, 1, y, LEN - 1), AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK(is_canary(y, 2 * LEN + 2));

    CHECK_STATUS(ambient_measurement_apply_batch(m, x, 2 * LEN, 1, y, 2 * LEN + 2),
                 AMBIENT_STATUS_OK);
    CHECK(!is_canary(y, 1));
    CHECK(is_canary(y + 2 * LEN, 2));
}

int main(void) {
    ambient_measurement_params params;
    ambient_measurement m = {{0}};
    ambient_measurement copy;

    check_version();
    check_messages();
    check_params_default();
    check_init();
    check_handle();

    CHECK_STATUS(ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS,
                                                    &params),
                 AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_measurement_init(&m, &params, mnist), AMBIENT_STATUS_OK);
    check_apply(&m);
    /* A handle is plain data: a copy works like the original. */
    memcpy(&copy, &m, sizeof m);
    check_apply(&copy);
    CHECK(sizeof(ambient_measurement) == 512);
    return finish("errors");
}
