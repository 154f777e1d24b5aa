/* Loads a generator weight file, generates one image and writes it as a PGM (grayscale)
 * or PPM (colour) picture.
 *
 * Usage: generate MODEL.amb OUT.pgm [SEED [LABEL]]
 *
 * On a device the weight file would be a const array in flash and the buffers static;
 * here they come from the file system and malloc. The library itself never allocates. */
#include <stdio.h>
#include <stdlib.h>

#include "ambient.h"

/* 32 KiB: static rather than on the stack. */
static ambient_model model;

static int fail(const char *what, ambient_status status) {
    fprintf(stderr, "generate: %s failed: %s\n", what, ambient_status_message(status));
    return 1;
}

/* Reads a whole file into memory; returns NULL on error. */
static unsigned char *read_file(const char *path, size_t *len) {
    FILE *file = fopen(path, "rb");
    unsigned char *bytes = NULL;
    long size;
    if (file == NULL) {
        return NULL;
    }
    if (fseek(file, 0, SEEK_END) == 0 && (size = ftell(file)) > 0) {
        rewind(file);
        bytes = malloc((size_t)size);
        if (bytes != NULL && fread(bytes, 1, (size_t)size, file) == (size_t)size) {
            *len = (size_t)size;
        } else {
            free(bytes);
            bytes = NULL;
        }
    }
    fclose(file);
    return bytes;
}

/* Maps a generated value to a pixel according to the model's output range. */
static unsigned char to_pixel(float value, uint8_t range) {
    float unit = range == AMBIENT_VALUE_RANGE_MINUS_ONE_ONE ? (value + 1.0f) / 2.0f : value;
    if (unit < 0.0f) {
        unit = 0.0f;
    }
    if (unit > 1.0f) {
        unit = 1.0f;
    }
    return (unsigned char)(unit * 255.0f + 0.5f);
}

/* Writes a [channels, height, width] image (1 or 3 channels) as binary PGM or PPM. */
static int write_picture(const char *path, const float *image, const ambient_model_info *info) {
    size_t c = info->output_shape.channels, h = info->output_shape.height;
    size_t w = info->output_shape.width, plane = h * w, i, k;
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return 0;
    }
    fprintf(file, "%s\n%zu %zu\n255\n", c == 1 ? "P5" : "P6", w, h);
    for (i = 0; i < plane; i++) {
        for (k = 0; k < c; k++) {
            fputc(to_pixel(image[k * plane + i], info->value_range), file);
        }
    }
    return fclose(file) == 0;
}

int main(int argc, char **argv) {
    unsigned long long seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    uint32_t label = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0;
    unsigned char *weights, *scratch_block, *scratch;
    size_t weights_len = 0, scratch_len = 0;
    ambient_model_info info;
    ambient_status status;
    float *z, *image;

    if (argc < 3) {
        fprintf(stderr, "usage: generate MODEL.amb OUT.pgm [SEED [LABEL]]\n");
        return 2;
    }
    weights = read_file(argv[1], &weights_len);
    if (weights == NULL) {
        fprintf(stderr, "generate: cannot read the weight file %s\n", argv[1]);
        return 1;
    }

    /* Parse the file in place: the model points into `weights`, which must stay alive. */
    status = ambient_model_open(&model, weights, weights_len);
    if (status != AMBIENT_STATUS_OK) {
        return fail("opening the model", status);
    }
    ambient_model_get_info(&model, &info);
    if (info.output_shape.channels != 1 && info.output_shape.channels != 3) {
        fprintf(stderr, "generate: cannot write %zu channels as a picture\n",
                info.output_shape.channels);
        return 1;
    }

    /* Working memory: the model reports the exact size, and it must be aligned. */
    status = ambient_model_scratch_len(&model, 1, &scratch_len);
    if (status != AMBIENT_STATUS_OK) {
        return fail("sizing the scratch", status);
    }
    scratch_block = malloc(scratch_len + AMBIENT_SCRATCH_ALIGN);
    z = malloc(info.latent_len * sizeof *z);
    image = malloc(info.output_len * sizeof *image);
    if (scratch_block == NULL || z == NULL || image == NULL) {
        fprintf(stderr, "generate: out of memory\n");
        return 1;
    }
    scratch = scratch_block + (AMBIENT_SCRATCH_ALIGN -
                               (uintptr_t)scratch_block % AMBIENT_SCRATCH_ALIGN) %
                                  AMBIENT_SCRATCH_ALIGN;

    /* One latent vector of standard normal values, then one image. */
    ambient_sample_latent(seed, z, info.latent_len);
    status = ambient_model_generate(&model, z, info.latent_len, info.classes ? &label : NULL,
                                    info.classes ? 1 : 0, image, info.output_len, scratch,
                                    scratch_len);
    if (status != AMBIENT_STATUS_OK) {
        return fail("generating", status);
    }
    if (!write_picture(argv[2], image, &info)) {
        fprintf(stderr, "generate: cannot write the picture %s\n", argv[2]);
        return 1;
    }
    printf("wrote a %zux%zu image to %s (library %s)\n", info.output_shape.width,
           info.output_shape.height, argv[2], ambient_version());
    free(scratch_block);
    free(z);
    free(image);
    free(weights);
    return 0;
}
