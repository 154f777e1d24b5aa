/* Proves that the library never calls the allocator: the program is linked with
 * -Wl,--wrap for every allocation function, so each call from any object in the link,
 * libambient.a included, goes through a counting wrapper here.
 *
 * Usage: no_heap MODEL...: measures, writes records, and opens and runs each weight file. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
int __real_posix_memalign(void **out, size_t align, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void *__real_memalign(size_t align, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
void *__wrap_memalign(size_t align, size_t size);

static unsigned long allocator_calls;

void *__wrap_malloc(size_t size) {
    allocator_calls++;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size) {
    allocator_calls++;
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *ptr, size_t size) {
    allocator_calls++;
    return __real_realloc(ptr, size);
}

void __wrap_free(void *ptr) {
    allocator_calls++;
    __real_free(ptr);
}

int __wrap_posix_memalign(void **out, size_t align, size_t size) {
    allocator_calls++;
    return __real_posix_memalign(out, align, size);
}

void *__wrap_aligned_alloc(size_t align, size_t size) {
    allocator_calls++;
    return __real_aligned_alloc(align, size);
}

void *__wrap_memalign(size_t align, size_t size) {
    allocator_calls++;
    return __real_memalign(align, size);
}

#define MAX_LEN (3 * 32 * 32)

static float x[2 * MAX_LEN];
static float y[1 << 16];
static float theta[1 << 19];

/* Runs every measurement function on every kind and returns the allocator calls made. */
static unsigned long measure_every_kind(ambient_shape shape) {
    unsigned long before = allocator_calls;
    size_t in_len = shape.channels * shape.height * shape.width;
    uint8_t kind;

    fill_image(x, 2 * in_len);
    for (kind = 1; kind <= AMBIENT_MEASUREMENT_KIND_GAUSSIAN_PROJECTION; kind++) {
        ambient_measurement_params params;
        ambient_measurement m = {{0}};
        size_t out_len = 0, theta_len = 0;
        CHECK_STATUS(ambient_measurement_params_default(kind, &params), AMBIENT_STATUS_OK);
        params.patch = 8;
        CHECK_STATUS(ambient_measurement_init(&m, &params, shape), AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_measurement_output_len(&m, &out_len), AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_measurement_theta_len(&m, &theta_len), AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_measurement_apply(&m, x, in_len, 7, y, sizeof y / sizeof y[0]),
                     AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_measurement_apply_batch(&m, x, 2 * in_len, 7, y,
                                                     sizeof y / sizeof y[0]),
                     AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_measurement_theta(&m, 7, theta, sizeof theta / sizeof theta[0]),
                     AMBIENT_STATUS_OK);
        /* Error paths must not allocate either. */
        CHECK_STATUS(ambient_measurement_apply(&m, x, in_len - 1, 7, y, 1),
                     AMBIENT_STATUS_LENGTH_MISMATCH);
    }
    CHECK(ambient_status_message(AMBIENT_STATUS_OVERLAP) != NULL);
    CHECK(ambient_version() != NULL);
    return allocator_calls - before;
}

/* Writes a record stream of two Block-Pixels records and returns the allocator calls made. */
static unsigned long write_records(void) {
    static uint8_t stream[2 * AMBIENT_RECORD_OVERHEAD + 8 * 784 + 256];
    unsigned long before = allocator_calls;
    const ambient_shape shape = {1, 28, 28};
    ambient_measurement_params params;
    ambient_measurement m = {{0}};
    ambient_record_writer w = {{0}};
    size_t pos = 0, written = 0, max_len = 0;
    uint64_t i;

    fill_image(x, 784);
    ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, &params);
    CHECK_STATUS(ambient_measurement_init(&m, &params, shape), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_init(&w, &params, shape, 0.0f, 1.0f, 0),
                 AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_max_record_len(&w, &max_len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_record_writer_write_header(&w, stream, sizeof stream, &written),
                 AMBIENT_STATUS_OK);
    pos += written;
    for (i = 0; i < 2; i++) {
        CHECK_STATUS(ambient_measurement_apply(&m, x, 784, i, y, 784), AMBIENT_STATUS_OK);
        CHECK_STATUS(ambient_record_writer_write_record(&w, i, AMBIENT_NO_LABEL, y, 784,
                                                        stream + pos, sizeof stream - pos,
                                                        &written),
                     AMBIENT_STATUS_OK);
        pos += written;
    }
    CHECK_STATUS(ambient_record_writer_write_record(&w, 9, AMBIENT_NO_LABEL, y, 784,
                                                    stream + pos, sizeof stream - pos,
                                                    &written),
                 AMBIENT_STATUS_MASK_MISMATCH);
    CHECK_STATUS(ambient_record_writer_write_end(&w, stream + pos, sizeof stream - pos,
                                                 &written),
                 AMBIENT_STATUS_OK);
    return allocator_calls - before;
}

static uint8_t model_bytes[1 << 16];
static uint8_t scratch[1 << 17] __attribute__((aligned(AMBIENT_SCRATCH_ALIGN)));
static ambient_model model;

/* Opens the weight file at path (read beforehand, outside the count) and generates a batch of
 * 4; returns the allocator calls the library made. */
static unsigned long generate_from(const char *path) {
    FILE *file = fopen(path, "rb");
    size_t len = file ? fread(model_bytes, 1, sizeof model_bytes, file) : 0;
    unsigned long before;
    ambient_model_info info;
    size_t scratch_len = 0;
    uint32_t labels[4] = {0, 1, 2, 0};

    CHECK(file != NULL);
    CHECK(len > 0);
    CHECK(len < sizeof model_bytes);
    if (file != NULL) {
        fclose(file);
    }
    before = allocator_calls;
    CHECK_STATUS(ambient_model_open(&model, model_bytes, len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_model_get_info(&model, &info), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_model_scratch_len(&model, 4, &scratch_len), AMBIENT_STATUS_OK);
    CHECK(scratch_len <= sizeof scratch);
    CHECK_STATUS(ambient_sample_latent(3, x, 4 * info.latent_len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_model_generate(&model, x, 4 * info.latent_len,
                                        info.classes ? labels : NULL, info.classes ? 4 : 0, y,
                                        4 * info.output_len, scratch, sizeof scratch),
                 AMBIENT_STATUS_OK);
    /* A corrupt file must not allocate either. */
    model_bytes[len / 2] ^= 1;
    CHECK_STATUS(ambient_model_open(&model, model_bytes, len),
                 AMBIENT_STATUS_MODEL_CHECKSUM_MISMATCH);
    return allocator_calls - before;
}

int main(int argc, char **argv) {
    int i;
    const ambient_shape gray = {1, 28, 28};
    const ambient_shape colour = {3, 32, 32};
    void *probe;

    /* The counter must see this program's own allocation, or the test proves nothing. */
    probe = malloc(16);
    CHECK(allocator_calls == 1);
    free(probe);
    CHECK(allocator_calls == 2);

    CHECK(measure_every_kind(gray) == 0);
    CHECK(measure_every_kind(colour) == 0);
    CHECK(write_records() == 0);
    CHECK(argc > 1);
    for (i = 1; i < argc; i++) {
        CHECK(generate_from(argv[i]) == 0);
    }
    printf("allocator calls by the library: %lu\n", allocator_calls - 2);
    return finish("no_heap");
}
