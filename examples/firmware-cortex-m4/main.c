/*
 * A firmware example for a Cortex-M4 or Cortex-M7 with no heap. It opens the int8
 * generator embedded in flash and generates one image from a fixed latent, with a static
 * scratch buffer. It measures the image with Block-Pixels under a fixed seed and writes
 * the measurement as a record stream, the bytes a device sends to the trainer. Every
 * output and figure is reported over semihosting.
 *
 * Every buffer is static and sized at build time. Each size is checked against what the
 * library reports before use, and a shortfall is reported with the size needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ambient.h"
#include "board.h"
#include "report.h"

/* Buffer sizes, overridable at build time: the scratch bytes the model needs for one
 * image, and the largest latent and image (in floats) the firmware accepts. */
#ifndef AMBIENT_SCRATCH_BYTES
#define AMBIENT_SCRATCH_BYTES 14144
#endif
#ifndef AMBIENT_LATENT_CAPACITY
#define AMBIENT_LATENT_CAPACITY 64
#endif
#ifndef AMBIENT_IMAGE_CAPACITY
#define AMBIENT_IMAGE_CAPACITY 784
#endif

/* The fixed seeds the host test reproduces: the latent's and the Block-Pixels theta's. */
#define LATENT_SEED UINT64_C(0x00A3B1E7)
#define MEASUREMENT_SEED UINT64_C(0x00C0FFEE12345678)

/* Iterations of the two-instruction loop that calibrates ticks against instructions. */
#define CALIBRATION_LOOPS 500000u

/* The weight file, placed in flash by model.S. */
extern const uint8_t ambient_model_data[];
extern const uint8_t ambient_model_end[];

static uint8_t scratch[AMBIENT_SCRATCH_BYTES] __attribute__((aligned(AMBIENT_SCRATCH_ALIGN)));
static float latent[AMBIENT_LATENT_CAPACITY];
static float image[AMBIENT_IMAGE_CAPACITY];
static float measured[AMBIENT_IMAGE_CAPACITY];
static uint8_t stream[AMBIENT_RECORD_HEADER_LEN + AMBIENT_RECORD_OVERHEAD +
                      4 * AMBIENT_IMAGE_CAPACITY + AMBIENT_RECORD_END_LEN];

/* The layer table of the opened model: 32 KiB, too large for the stack. */
static ambient_model model;

/* Runs `loops` iterations of a subs/bne loop: 2 * loops instructions. */
static void calibration_loop(uint32_t loops)
{
    __asm__ volatile("1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(loops) : : "cc");
}

static bool check_capacity(const char *what, size_t needed, size_t capacity)
{
    if (needed <= capacity) {
        return true;
    }
    report_text("error", what);
    report_u32("needed", (uint32_t)needed);
    report_u32("capacity", (uint32_t)capacity);
    return false;
}

/* Opens the model, reads its sizes into `info`, and checks that it is an int8 model with
 * values in [0, 1] or [-1, 1] and that the static buffers fit it. */
static bool open_model(ambient_model_info *info)
{
    size_t model_len = (size_t)(ambient_model_end - ambient_model_data);
    report_u32("model_bytes", (uint32_t)model_len);

    int32_t status = ambient_model_open(&model, ambient_model_data, model_len);
    if (status != AMBIENT_STATUS_OK) {
        report_error("ambient_model_open", status);
        return false;
    }
    size_t scratch_len = 0;
    status = ambient_model_get_info(&model, info);
    if (status == AMBIENT_STATUS_OK) {
        status = ambient_model_scratch_len(&model, 1, &scratch_len);
    }
    if (status != AMBIENT_STATUS_OK) {
        report_error("model query", status);
        return false;
    }
    report_u32("latent_len", (uint32_t)info->latent_len);
    report_u32("scratch_needed", (uint32_t)scratch_len);
    report_u32("scratch_capacity", (uint32_t)sizeof scratch);

    if (info->compute != AMBIENT_COMPUTE_INT8 || info->classes != 0 ||
        info->value_range == AMBIENT_VALUE_RANGE_UNBOUNDED) {
        report_text("error", "expected an unconditional int8 model with bounded values");
        return false;
    }
    return check_capacity("scratch buffer too small", scratch_len, sizeof scratch) &&
           check_capacity("latent buffer too small", info->latent_len,
                          AMBIENT_LATENT_CAPACITY) &&
           check_capacity("image buffer too small", info->output_len, AMBIENT_IMAGE_CAPACITY);
}

/* Draws the latent from LATENT_SEED with the library's Gaussian sampler and generates one
 * image. */
static bool generate(const ambient_model_info *info)
{
    int32_t status = ambient_sample_latent(LATENT_SEED, latent, info->latent_len);
    if (status != AMBIENT_STATUS_OK) {
        report_error("ambient_sample_latent", status);
        return false;
    }
    report_bytes("latent", latent, info->latent_len * sizeof(float));

    uint32_t start = board_timer_ticks();
    status = ambient_model_generate(&model, latent, info->latent_len, NULL, 0, image,
                                    info->output_len, scratch, sizeof scratch);
    report_u32("generate_ticks", board_timer_ticks() - start);
    if (status != AMBIENT_STATUS_OK) {
        report_error("ambient_model_generate", status);
        return false;
    }
    report_bytes("image", image, info->output_len * sizeof(float));
    return true;
}

/* Measures the image with Block-Pixels (the library's defaults: p = 0.9, one mask per
 * channel, kept values rescaled by 1 / (1 - p)) and reports the measurement. */
static bool measure(const ambient_measurement_params *params, ambient_shape shape,
                    size_t image_len, size_t *output_len_out)
{
    ambient_measurement measurement = {0};
    int32_t status = ambient_measurement_init(&measurement, params, shape);
    size_t output_len = 0;
    if (status == AMBIENT_STATUS_OK) {
        status = ambient_measurement_output_len(&measurement, &output_len);
    }
    if (status != AMBIENT_STATUS_OK) {
        report_error("ambient_measurement_init", status);
        return false;
    }
    if (!check_capacity("measurement buffer too small", output_len, AMBIENT_IMAGE_CAPACITY)) {
        return false;
    }

    uint32_t start = board_timer_ticks();
    status = ambient_measurement_apply(&measurement, image, image_len, MEASUREMENT_SEED,
                                       measured, AMBIENT_IMAGE_CAPACITY);
    report_u32("measure_ticks", board_timer_ticks() - start);
    if (status != AMBIENT_STATUS_OK) {
        report_error("ambient_measurement_apply", status);
        return false;
    }
    report_bytes("measurement", measured, output_len * sizeof(float));
    *output_len_out = output_len;
    return true;
}

/* Writes a stream of one record (header, record, end marker) for images in the model's
 * value range, and reports its bytes. */
static bool record(const ambient_measurement_params *params, const ambient_model_info *info,
                   size_t output_len)
{
    float range_lo = info->value_range == AMBIENT_VALUE_RANGE_ZERO_ONE ? 0.0f : -1.0f;
    ambient_record_writer writer = {0};
    size_t used = 0;
    size_t written = 0;

    uint32_t start = board_timer_ticks();
    int32_t status =
        ambient_record_writer_init(&writer, params, info->output_shape, range_lo, 1.0f, 0);
    if (status == AMBIENT_STATUS_OK) {
        status = ambient_record_writer_write_header(&writer, stream, sizeof stream, &written);
        used += written;
    }
    if (status == AMBIENT_STATUS_OK) {
        status = ambient_record_writer_write_record(&writer, MEASUREMENT_SEED,
                                                    AMBIENT_NO_LABEL, measured, output_len,
                                                    stream + used, sizeof stream - used,
                                                    &written);
        used += written;
    }
    if (status == AMBIENT_STATUS_OK) {
        status = ambient_record_writer_write_end(&writer, stream + used, sizeof stream - used,
                                                 &written);
        used += written;
    }
    report_u32("record_ticks", board_timer_ticks() - start);
    if (status != AMBIENT_STATUS_OK) {
        report_error("record writer", status);
        return false;
    }
    report_bytes("record", stream, used);
    return true;
}

/* Reports the peak stack of the step that just ended under `key`, repaints the stack for
 * the next step, and returns the peak. */
static size_t end_stack_step(const char *key)
{
    size_t peak = stack_peak_bytes();
    report_u32(key, (uint32_t)peak);
    stack_paint();
    return peak;
}

static void report_figures(size_t stack_peak)
{
    uint32_t start = board_timer_ticks();
    calibration_loop(CALIBRATION_LOOPS);
    report_u32("calibration_ticks", board_timer_ticks() - start);
    report_u32("calibration_instructions", 2u * CALIBRATION_LOOPS);
    report_u32("tick_ns", BOARD_TICK_NS);
    report_u32("stack_peak", (uint32_t)stack_peak);
    report_u32("stack_size", (uint32_t)stack_size_bytes());
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

int main(void)
{
    board_timer_start();
    report_text("ambient_firmware", ambient_version());

    ambient_model_info info;
    if (!open_model(&info)) {
        return 1;
    }
    size_t stack_peak = end_stack_step("stack_peak_open");
    if (!generate(&info)) {
        return 1;
    }
    stack_peak = max_size(stack_peak, end_stack_step("stack_peak_generate"));

    ambient_measurement_params params;
    int32_t status =
        ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, &params);
    if (status != AMBIENT_STATUS_OK) {
        report_error("ambient_measurement_params_default", status);
        return 1;
    }
    size_t output_len = 0;
    if (!measure(&params, info.output_shape, info.output_len, &output_len) ||
        !record(&params, &info, output_len)) {
        return 1;
    }
    stack_peak = max_size(stack_peak, end_stack_step("stack_peak_measure_record"));

    report_figures(stack_peak);
    report_text("status", "ok");
    return 0;
}
