/* Applies the measurement cases listed in a file and prints every output as float bits,
 * for the Rust side of the test to compare with ambient-core.
 *
 * Usage: measure CASES. Each line of CASES is
 *   name kind p rescale per_channel patch kernel_size sigma noise_std auto_pad pad angles
 *   interpolation projections channels height width seed batch
 * with the three real parameters as hexadecimal float bits. For each case it prints
 *   name init STATUS
 * and, when the init succeeded, the lines "name lens IN OUT THETA", "name y BITS...",
 * "name theta BITS..." and "name batch BITS..." (batch images measured with seed). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static void print_values(const char *name, const char *what, const float *values,
                         size_t len) {
    size_t i;
    printf("%s %s", name, what);
    for (i = 0; i < len; i++) {
        printf(" %08" PRIx32, float_bits(values[i]));
    }
    printf("\n");
}

/* Allocates len floats plus one canary after them. */
static float *alloc_floats(size_t len) {
    float *values = (float *)malloc((len + 1) * sizeof(float));
    if (values == NULL) {
        printf("FAIL out of memory for %zu floats\n", len);
        exit(2);
    }
    fill_canary(values, len + 1);
    return values;
}

static void run_case(const char *name, const ambient_measurement_params *params,
                     ambient_shape shape, uint64_t seed, size_t batch) {
    ambient_measurement m = {{0}};
    size_t in_len = 0, out_len = 0, theta_len = 0;
    float *x, *y, *theta, *xs, *ys;
    ambient_status status = ambient_measurement_init(&m, params, shape);

    printf("%s init %d\n", name, (int)status);
    if (status != AMBIENT_STATUS_OK) {
        return;
    }
    CHECK_STATUS(ambient_measurement_input_len(&m, &in_len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_measurement_output_len(&m, &out_len), AMBIENT_STATUS_OK);
    CHECK_STATUS(ambient_measurement_theta_len(&m, &theta_len), AMBIENT_STATUS_OK);
    printf("%s lens %zu %zu %zu\n", name, in_len, out_len, theta_len);

    x = alloc_floats(in_len);
    y = alloc_floats(out_len);
    theta = alloc_floats(theta_len);
    fill_image(x, in_len);
    /* Each output buffer is one float longer than needed: that float must stay a canary. */
    CHECK_STATUS(ambient_measurement_apply(&m, x, in_len, seed, y, out_len + 1),
                 AMBIENT_STATUS_OK);
    CHECK(is_canary(y + out_len, 1));
    print_values(name, "y", y, out_len);
    CHECK_STATUS(ambient_measurement_theta(&m, seed, theta, theta_len + 1), AMBIENT_STATUS_OK);
    CHECK(is_canary(theta + theta_len, 1));
    print_values(name, "theta", theta, theta_len);

    xs = alloc_floats(batch * in_len);
    ys = alloc_floats(batch * out_len);
    fill_image(xs, batch * in_len);
    CHECK_STATUS(ambient_measurement_apply_batch(&m, xs, batch * in_len, seed, ys,
                                                 batch * out_len),
                 AMBIENT_STATUS_OK);
    CHECK(is_canary(ys + batch * out_len, 1));
    print_values(name, "batch", ys, batch * out_len);

    free(x);
    free(y);
    free(theta);
    free(xs);
    free(ys);
}

int main(int argc, char **argv) {
    FILE *cases;
    char name[64];
    unsigned kind, rescale, per_channel, auto_pad, interpolation;
    uint32_t p, sigma, noise_std;
    ambient_measurement_params params;
    ambient_shape shape;
    uint64_t seed;
    size_t batch;

    if (argc != 2 || (cases = fopen(argv[1], "r")) == NULL) {
        printf("FAIL usage: measure CASES (a readable file)\n");
        return 2;
    }
    while (fscanf(cases,
                  "%63s %u %" SCNx32 " %u %u %zu %zu %" SCNx32 " %" SCNx32
                  " %u %zu %zu %u %zu %zu %zu %zu %" SCNu64 " %zu",
                  name, &kind, &p, &rescale, &per_channel, &params.patch,
                  &params.kernel_size, &sigma, &noise_std, &auto_pad, &params.pad,
                  &params.angles, &interpolation, &params.projections, &shape.channels,
                  &shape.height, &shape.width, &seed, &batch) == 19) {
        params.kind = (uint8_t)kind;
        params.p = float_from_bits(p);
        params.rescale = (uint8_t)rescale;
        params.per_channel = (uint8_t)per_channel;
        params.sigma = float_from_bits(sigma);
        params.noise_std = float_from_bits(noise_std);
        params.auto_pad = (uint8_t)auto_pad;
        params.interpolation = (uint8_t)interpolation;
        run_case(name, &params, shape, seed, batch);
    }
    fclose(cases);
    return finish("measure");
}
