/* Opens weight files and generates through the C ABI, printing what the Rust side of the
 * test compares with ambient-core, and checks the error paths of generation.
 *
 * Usage:
 *   model generate FILE SEED BATCH  prints "info ...", "scratch LEN" and "out BITS...":
 *                                   BATCH images from ambient_sample_latent(SEED) latent
 *                                   vectors, labelled i % classes for a conditional model
 *   model open FILE...              prints "open FILE STATUS" for each file */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Reads a whole file into memory from malloc (16-byte aligned on glibc); exits on error. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *file = fopen(path, "rb");
    uint8_t *bytes;
    long size;
    if (file == NULL || fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0) {
        printf("FAIL cannot read %s\n", path);
        exit(2);
    }
    rewind(file);
    bytes = (uint8_t *)malloc((size_t)size + 1);
    if (bytes == NULL || fread(bytes, 1, (size_t)size, file) != (size_t)size) {
        printf("FAIL cannot read %s\n", path);
        exit(2);
    }
    fclose(file);
    *len = (size_t)size;
    return bytes;
}

static void print_info(const ambient_model_info *info) {
    printf("info %zu %zu %zu %zu %zu %zu %zu %u %u %u %u\n", info->latent_len, info->classes,
           info->output_shape.channels, info->output_shape.height, info->output_shape.width,
           info->output_len, info->file_len, (unsigned)info->compute,
           (unsigned)info->value_range, (unsigned)info->format_major,
           (unsigned)info->format_minor);
}

/* Every bad argument of ambient_model_generate for a batch of 2, whose scratch needs exactly
 * scratch_len bytes; each call must leave out untouched. */
static void check_generate_errors(const ambient_model *m, const ambient_model_info *info,
                                  const uint8_t *weights, float *z, uint32_t *labels,
                                  uint8_t *scratch, size_t scratch_len) {
    size_t batch = 2, out_len = batch * info->output_len, z_len = batch * info->latent_len;
    size_t labels_len = info->classes ? batch : 0;
    const uint32_t *l = info->classes ? labels : NULL;
    float *out = (float *)malloc((out_len + 1) * sizeof(float));
    uint32_t bad_labels[2];

    fill_canary(out, out_len + 1);
    CHECK_STATUS(ambient_model_generate(NULL, z, z_len, l, labels_len, out, out_len, scratch,
                                        scratch_len),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_model_generate(m, z, z_len - 1, l, labels_len, out, out_len, scratch,
                                        scratch_len),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_model_generate(m, z, 0, l, 0, out, out_len, scratch, scratch_len),
                 AMBIENT_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, out, out_len - 1, scratch,
                                        scratch_len),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, out, out_len, scratch,
                                        scratch_len - 1),
                 AMBIENT_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, out, out_len, scratch + 4,
                                        scratch_len),
                 AMBIENT_STATUS_MISALIGNED);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, NULL, out_len, scratch,
                                        scratch_len),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, out, out_len, NULL,
                                        scratch_len),
                 AMBIENT_STATUS_NULL_POINTER);
    /* Overlaps: out on z, scratch on out, scratch on the weights. */
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, z, z_len, scratch,
                                        scratch_len),
                 AMBIENT_STATUS_OVERLAP);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, out, out_len,
                                        (uint8_t *)(void *)out, scratch_len),
                 AMBIENT_STATUS_OVERLAP);
    CHECK_STATUS(ambient_model_generate(m, z, z_len, l, labels_len, out, out_len,
                                        (uint8_t *)weights, 16),
                 AMBIENT_STATUS_OVERLAP);
    /* Labels: missing, unexpected, out of range, wrong count. */
    if (info->classes) {
        CHECK_STATUS(ambient_model_generate(m, z, z_len, NULL, 0, out, out_len, scratch,
                                            scratch_len),
                     AMBIENT_STATUS_INVALID_LABEL);
        bad_labels[0] = 0;
        bad_labels[1] = (uint32_t)info->classes;
        CHECK_STATUS(ambient_model_generate(m, z, z_len, bad_labels, 2, out, out_len, scratch,
                                            scratch_len),
                     AMBIENT_STATUS_INVALID_LABEL);
        CHECK_STATUS(ambient_model_generate(m, z, z_len, labels, 1, out, out_len, scratch,
                                            scratch_len),
                     AMBIENT_STATUS_LENGTH_MISMATCH);
    } else {
        bad_labels[0] = bad_labels[1] = 0;
        CHECK_STATUS(ambient_model_generate(m, z, z_len, bad_labels, 2, out, out_len, scratch,
                                            scratch_len),
                     AMBIENT_STATUS_INVALID_LABEL);
    }
    CHECK_STATUS(ambient_model_generate(m, z, z_len, NULL, 3, out, out_len, scratch,
                                        scratch_len),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK(is_canary(out, out_len + 1));
    free(out);
}

static int generate(const char *path, uint64_t seed, size_t batch) {
    static ambient_model m;
    ambient_model_info info;
    size_t len = 0, scratch_len = 0, scratch2_len = 0, i;
    uint8_t *bytes = read_file(path, &len);
    uint8_t *scratch;
    float *z, *out;
    uint32_t *labels;

    memset(&m, 0, sizeof m);
    CHECK_STATUS(ambient_model_open(&m, bytes, len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_model_get_info(&m, &info), AMBIENT_STATUS_OK);
    print_info(&info);
    CHECK_STATUS(ambient_model_scratch_len(&m, batch, &scratch_len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_model_scratch_len(&m, 2, &scratch2_len), AMBIENT_STATUS_OK);
    /* A failed query leaves its out-parameter alone: len is still the file length. */
    CHECK_STATUS(ambient_model_scratch_len(&m, SIZE_MAX, &len), AMBIENT_STATUS_SIZE_OVERFLOW);
    CHECK(len == info.file_len);
    printf("scratch %zu\n", scratch_len);

    z = (float *)malloc(batch * info.latent_len * sizeof(float));
    out = (float *)malloc((batch * info.output_len + 1) * sizeof(float));
    labels = (uint32_t *)malloc(batch * sizeof(uint32_t));
    /* Room for the larger of the two batches, and for a misaligned start. */
    scratch = (uint8_t *)malloc((scratch_len > scratch2_len ? scratch_len : scratch2_len) +
                                AMBIENT_SCRATCH_ALIGN);
    for (i = 0; i < batch; i++) {
        labels[i] = info.classes ? (uint32_t)(i % info.classes) : 0;
    }
    CHECK_STATUS(ambient_sample_latent(seed, z, batch * info.latent_len), AMBIENT_STATUS_OK);
    fill_canary(out, batch * info.output_len + 1);
    CHECK((uintptr_t)scratch % AMBIENT_SCRATCH_ALIGN == 0);
    check_generate_errors(&m, &info, bytes, z, labels, scratch, scratch2_len);

    CHECK_STATUS(ambient_model_generate(&m, z, batch * info.latent_len,
                                        info.classes ? labels : NULL,
                                        info.classes ? batch : 0, out,
                                        batch * info.output_len + 1, scratch, scratch_len),
                 AMBIENT_STATUS_OK);
    CHECK(is_canary(out + batch * info.output_len, 1));
    printf("out");
    for (i = 0; i < batch * info.output_len; i++) {
        printf(" %08" PRIx32, float_bits(out[i]));
    }
    printf("\n");
    free(z);
    free(out);
    free(labels);
    free(scratch);
    free(bytes);
    return finish("model");
}

static int open_each(int count, char **paths) {
    static ambient_model m;
    ambient_model zero;
    int i;
    memset(&zero, 0, sizeof zero);
    for (i = 0; i < count; i++) {
        size_t len = 0;
        uint8_t *bytes = read_file(paths[i], &len);
        ambient_status status;
        memset(&m, 0, sizeof m);
        status = ambient_model_open(&m, bytes, len);
        printf("open %s %d\n", paths[i], (int)status);
        if (status != AMBIENT_STATUS_OK) {
            CHECK(memcmp(&m, &zero, sizeof m) == 0);
        }
        free(bytes);
    }
    CHECK_STATUS(ambient_model_open(NULL, (const uint8_t *)"AMBW", 4),
                 AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_model_open(&m, NULL, 4), AMBIENT_STATUS_NULL_POINTER);
    CHECK_STATUS(ambient_model_get_info(&zero, NULL), AMBIENT_STATUS_NULL_POINTER);
    {
        ambient_model_info info;
        CHECK_STATUS(ambient_model_get_info(&zero, &info), AMBIENT_STATUS_INVALID_HANDLE);
    }
    return finish("model");
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "generate") == 0) {
        return generate(argv[2], strtoull(argv[3], NULL, 10), (size_t)strtoul(argv[4], NULL, 10));
    }
    if (argc >= 3 && strcmp(argv[1], "open") == 0) {
        return open_each(argc - 2, argv + 2);
    }
    printf("FAIL usage: model generate FILE SEED BATCH | model open FILE...\n");
    return 2;
}
