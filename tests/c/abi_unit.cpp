// The second C++ translation unit that includes ambient.h, here twice, so that the include
// guard is exercised too.
#include <cstdio>

#include "ambient.h"
#include "ambient.h"

ambient_measurement make_block_pixels(ambient_shape shape, float p) {
    ambient_measurement_params params;
    ambient_measurement m{};
    if (ambient_measurement_params_default(AMBIENT_MEASUREMENT_KIND_BLOCK_PIXELS, &params) !=
        AMBIENT_STATUS_OK) {
        std::printf("FAIL params_default\n");
    }
    params.p = p;
    ambient_status status = ambient_measurement_init(&m, &params, shape);
    if (status != AMBIENT_STATUS_OK) {
        std::printf("FAIL init: %s\n", ambient_status_message(status));
    }
    return m;
}
