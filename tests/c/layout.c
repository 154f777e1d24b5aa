/* Prints the size and field offsets of the header's structs as this C compiler lays them
 * out, for the Rust side of the test to compare with the library's #[repr(C)] layout. */
#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define FIELD(type, field) printf(#type "." #field " %zu\n", offsetof(type, field))

int main(void) {
    printf("ambient_measurement_params %zu\n", sizeof(ambient_measurement_params));
    FIELD(ambient_measurement_params, kind);
    FIELD(ambient_measurement_params, p);
    FIELD(ambient_measurement_params, rescale);
    FIELD(ambient_measurement_params, per_channel);
    FIELD(ambient_measurement_params, patch);
    FIELD(ambient_measurement_params, kernel_size);
    FIELD(ambient_measurement_params, sigma);
    FIELD(ambient_measurement_params, noise_std);
    FIELD(ambient_measurement_params, auto_pad);
    FIELD(ambient_measurement_params, pad);
    FIELD(ambient_measurement_params, angles);
    FIELD(ambient_measurement_params, interpolation);
    FIELD(ambient_measurement_params, projections);
    printf("ambient_shape %zu\n", sizeof(ambient_shape));
    FIELD(ambient_shape, channels);
    FIELD(ambient_shape, height);
    FIELD(ambient_shape, width);
    printf("ambient_measurement %zu\n", sizeof(ambient_measurement));
    printf("ambient_record_writer %zu\n", sizeof(ambient_record_writer));
    printf("ambient_model %zu\n", sizeof(ambient_model));
    printf("ambient_model_info %zu\n", sizeof(ambient_model_info));
    FIELD(ambient_model_info, latent_len);
    FIELD(ambient_model_info, classes);
    FIELD(ambient_model_info, output_shape);
    FIELD(ambient_model_info, output_len);
    FIELD(ambient_model_info, file_len);
    FIELD(ambient_model_info, compute);
    FIELD(ambient_model_info, value_range);
    FIELD(ambient_model_info, format_major);
    FIELD(ambient_model_info, format_minor);
    CHECK(sizeof(ambient_status) == 4);
    return finish("layout");
}
