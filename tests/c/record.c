/* Writes measurement record streams through the C ABI for the Rust side of the test to
 * read back with ambient-core, and checks every error path of the record writer.
 *
 * Usage: record DIR. Writes DIR/<name>.ambr for each stream in `streams` below: image i
 * is slice i of fill_image over the whole batch, measured with
 * ambient_image_seed(BATCH_SEED, i), labelled i % classes when the stream has classes. */
#include <stdio.h>
#include <string.h>

#include "util.h"

#define BATCH_SEED 77
#define MAX_IMAGE (3 * 16 * 12 * 8)
#define MAX_STREAM (1 << 16)

struct stream {
    const char *name;
    uint8_t kind;
    ambient_shape shape;
    float range_lo, range_hi;
    uint32_t classes;
    size_t records;
};

static const struct stream streams[] = {
    {"block-pixels", AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, {1, 28, 28}, 0.0f, 1.0f, 0, 5},
    {"convolve-noise", AMBIENT_MEASUREMENT_KIND_CONVOLVE_NOISE, {3, 16, 12}, -1.0f, 1.0f, 10, 4},
    {"drop-row-col", AMBIENT_MEASUREMENT_KIND_DROP_ROW_COL, {1, 28, 28}, 0.0f, 1.0f, 0, 3},
    {"keep-patch", AMBIENT_MEASUREMENT_KIND_KEEP_PATCH, {1, 28, 28}, 0.0f, 1.0f, 2, 3},
};

static float images[8 * 28 * 28];
static float y[MAX_IMAGE];
static uint8_t stream_bytes[MAX_STREAM];

/* Writes one stream into stream_bytes and returns its length, or 0 on failure. */
static size_t write_stream(const struct stream *s) {
    ambient_measurement_params params;
    ambient_measurement m = {{0}};
    ambient_record_writer w = {{0}};
    size_t in_len = s->shape.channels * s->shape.height * s->shape.width;
    size_t out_len = 0, max_len = 0, written = 0, pos = 0, i;
    uint64_t count = 99;

    CHECK_STATUS(ambient_measurement_params_default(s->kind, &params), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_measurement_init(&m, &params, s->shape), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_measurement_output_len(&m, &out_len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_init(&w, &params, s->shape, s->range_lo, s->range_hi,
                                            s->classes),
                 AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_max_record_len(&w, &max_len), AMBIENT_STATUS_OK);
    CHECK(max_len == AMBIENT_RECORD_OVERHEAD + 4 * out_len);

    CHECK_STATUS(ambient_record_writer_write_header(&w, stream_bytes, MAX_STREAM, &written),
                 AMBIENT_STATUS_OK);
    CHECK(written == AMBIENT_RECORD_HEADER_LEN);
    pos += written;
    fill_image(images, s->records * in_len);
    for (i = 0; i < s->records; i++) {
        uint64_t seed = ambient_image_seed(BATCH_SEED, i);
        uint32_t label = s->classes ? (uint32_t)(i % s->classes) : AMBIENT_NO_LABEL;
        CHECK_STATUS(ambient_measurement_apply(&m, images + i * in_len, in_len, seed, y,
                                               out_len),
                     AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_record_writer_write_record(&w, seed, label, y, out_len,
                                                        stream_bytes + pos, MAX_STREAM - pos,
                                                        &written),
                     AMBIENT_STATUS_OK);
        CHECK(written >= AMBIENT_RECORD_OVERHEAD);
        CHECK(written <= max_len);
        pos += written;
    }
    CHECK_STATUS(ambient_record_writer_records(&w, &count), AMBIENT_STATUS_OK);
    CHECK(count == s->records);
    CHECK_STATUS(ambient_record_writer_write_end(&w, stream_bytes + pos, MAX_STREAM - pos,
                                                 &written),
                 AMBIENT_STATUS_OK);
    CHECK(written == AMBIENT_RECORD_END_LEN);
    return pos + written;
}

static void check_init_errors(void) {
    ambient_measurement_params params;
    ambient_record_writer w = {{0}}, zero = {{0}};
    const ambient_shape shape = {1, 28, 28};

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, &params);
    CHECK_STATUS(ambient_record_writer_init(NULL, &params, shape, 0.0f, 1.0f, 0),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_record_writer_init(&w, NULL, shape, 0.0f, 1.0f, 0),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_record_writer_init(&w, &params, shape, 1.0f, 1.0f, 0),
                 AMBIENT_STATUS_INVALID_RECORD_HEADER);
    CHECK_STATUS(ambient_record_writer_init(&w, &params, shape, float_from_bits(0x7fc00000),
                                            1.0f, 0),
                 AMBIENT_STATUS_INVALID_RECORD_HEADER);
    CHECK_STATUS(ambient_record_writer_init(&w, &params, shape, 0.0f, 1.0f, AMBIENT_NO_LABEL),
                 AMBIENT_STATUS_INVALID_RECORD_HEADER);
    params.p = 2.0f;
    CHECK_STATUS(ambient_record_writer_init(&w, &params, shape, 0.0f, 1.0f, 0),
                 AMBIENT_STATUS_INVALID_PARAMETER);
    params.kind = 0;
    CHECK_STATUS(ambient_record_writer_init(&w, &params, shape, 0.0f, 1.0f, 0),
                 AMBIENT_STATUS_UNKNOWN_MEASUREMENT);
    CHECK(memcmp(&w, &zero, sizeof w) == 0);
}

static void check_write_errors(void) {
    static uint8_t out[AMBIENT_RECORD_OVERHEAD + 4 * 784];
    static float x[784], y1[784], y2[784];
    uint8_t before[sizeof out];
    ambient_measurement_params params;
    ambient_measurement m = {{0}};
    ambient_record_writer plain = {{0}}, labelled = {{0}}, zero = {{0}};
    const ambient_shape shape = {1, 28, 28};
    size_t written = 4242;
    uint64_t count = 0;

    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, &params);
    CHECK_STATUS(ambient_measurement_init(&m, &params, shape), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_init(&plain, &params, shape, 0.0f, 1.0f, 0),
                 AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_init(&labelled, &params, shape, 0.0f, 1.0f, 3),
                 AMBIENT_STATUS_OK);
    fill_image(x, 784);
    ambient_measurement_apply(&m, x, 784, 1, y1, 784);
    ambient_measurement_apply(&m, x, 784, 2, y2, 784);
    memset(out, 0x5a, sizeof out);
    memcpy(before, out, sizeof out);

    /* Handles: zeroed, and a measurement handle passed as a writer. */
    CHECK_STATUS(ambient_record_writer_write_header(&zero, out, sizeof out, &written),
                 AMBIENT_STATUS_INVALID_HANDLE);
    CHECK_STATUS(ambient_record_writer_write_header((const ambient_record_writer *)(void *)&m,
                                                    out, sizeof out, &written),
                 AMBIENT_STATUS_INVALID_HANDLE);
    CHECK_STATUS(ambient_record_writer_records(NULL, &count), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_record_writer_max_record_len(&plain, NULL),
                 AMBIENT_STATUS_NULL_POINTER);

    /* Buffers. */
    CHECK_STATUS(ambient_record_writer_write_header(&plain, out, AMBIENT_RECORD_HEADER_LEN - 1,
                                                    &written),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_record_writer_write_header(&plain, NULL, sizeof out, &written),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_record_writer_write_header(&plain, out, sizeof out, NULL),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_record_writer_write_end(&plain, out, AMBIENT_RECORD_END_LEN - 1,
                                                 &written),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, AMBIENT_NO_LABEL, y1, 784, out,
                                                    sizeof out - 1, &written),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, AMBIENT_NO_LABEL, y1, 783, out,
                                                    sizeof out, &written),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, AMBIENT_NO_LABEL, NULL, 784, out,
                                                    sizeof out, &written),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, AMBIENT_NO_LABEL, y1, 784,
                                                    (uint8_t *)(void *)y1, sizeof y1,
                                                    &written),
                 AMBIENT_STATUS_OVERLAP);

    /* Labels and values. */
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, 0, y1, 784, out, sizeof out,
                                                    &written),
                 AMBIENT_STATUS_INVALID_LABEL);
    CHECK_STATUS(ambient_record_writer_write_record(&labelled, 1, AMBIENT_NO_LABEL, y1, 784,
                                                    out, sizeof out, &written),
                 AMBIENT_STATUS_INVALID_LABEL);
    CHECK_STATUS(ambient_record_writer_write_record(&labelled, 1, 3, y1, 784, out, sizeof out,
                                                    &written),
                 AMBIENT_STATUS_INVALID_LABEL);
    y1[100] = float_from_bits(0x7f800000); /* +infinity */
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, AMBIENT_NO_LABEL, y1, 784, out,
                                                    sizeof out, &written),
                 AMBIENT_STATUS_NON_FINITE_VALUE);
    CHECK(memcmp(out, before, sizeof out) == 0);
    CHECK(written == 4242);

    /* y2 was measured with seed 2, so recording it under seed 1 breaks the mask. */
    CHECK_STATUS(ambient_record_writer_write_record(&plain, 1, AMBIENT_NO_LABEL, y2, 784, out,
                                                    sizeof out, &written),
                 AMBIENT_STATUS_MASK_MISMATCH);
    CHECK(written == 4242);
    CHECK_STATUS(ambient_record_writer_records(&plain, &count), AMBIENT_STATUS_OK);
    CHECK(count == 0);
    CHECK_STATUS(ambient_record_writer_write_record(&labelled, 2, 2, y2, 784, out, sizeof out,
                                                    &written),
                 AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_records(&labelled, &count), AMBIENT_STATUS_OK);
    CHECK(count == 1);
}

int main(int argc, char **argv) {
    size_t i;
    if (argc != 2) {
        printf("FAIL usage: record DIR\n");
        return 2;
    }
    check_init_errors();
    check_write_errors();
    for (i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        char path[4096];
        size_t len = write_stream(&streams[i]);
        FILE *file;
        sprintf(path, "%.4000s/%s.ambr", argv[1], streams[i].name);
        file = fopen(path, "wb");
        CHECK(file != NULL);
        if (file != NULL) {
            CHECK(fwrite(stream_bytes, 1, len, file) == len);
            fclose(file);
        }
    }
    return finish("record");
}
