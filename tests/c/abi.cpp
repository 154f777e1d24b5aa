// The header compiled as C++17, with -Wall -Wextra -Werror -Wpedantic and
// included in two translation units (this file and abi_unit.cpp).
//
// Usage: abi_cpp MODEL, with MODEL an unconditional generator whose output is in [0, 1].
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <type_traits>
#include <vector>

#include "ambient.h"

// Defined in abi_unit.cpp.
ambient_measurement make_block_pixels(ambient_shape shape, float p);

static_assert(sizeof(ambient_measurement) == 512, "handle size is part of the ABI");
static_assert(alignof(ambient_measurement) == 8, "handle alignment is part of the ABI");
static_assert(std::is_same<std::underlying_type<ambient_status>::type, int32_t>::value,
              "ambient_status is a 32-bit integer");
static_assert(std::is_trivially_copyable<ambient_measurement>::value,
              "a handle is plain data");

static_assert(alignof(ambient_model) == 8, "handle alignment is part of the ABI");

static int failures = 0;
static int passes = 0;

static void check(bool ok, const char *what) {
    if (ok) {
        passes++;
    } else {
        failures++;
        std::printf("FAIL %s\n", what);
    }
}

// Generates one image with the weight file at path and checks its values against the
// model's output range.
static void generate_one(const char *path) {
    std::ifstream file(path, std::ios::binary);
    std::vector<uint8_t> weights((std::istreambuf_iterator<char>(file)),
                                 std::istreambuf_iterator<char>());
    static ambient_model model;
    check(ambient_model_open(&model, weights.data(), weights.size()) == AMBIENT_STATUS_OK,
          "model opens");
    ambient_model_info info{};
    check(ambient_model_get_info(&model, &info) == AMBIENT_STATUS_OK, "model info");
    check(info.value_range == AMBIENT_VALUE_RANGE_ZERO_ONE, "a sigmoid model");

    size_t scratch_len = 0;
    check(ambient_model_scratch_len(&model, 1, &scratch_len) == AMBIENT_STATUS_OK, "scratch");
    // alignas on the element type keeps every element, and so the start, 16-byte aligned.
    struct alignas(AMBIENT_SCRATCH_ALIGN) Block {
        uint8_t bytes[AMBIENT_SCRATCH_ALIGN];
    };
    std::vector<Block> scratch(scratch_len / sizeof(Block) + 1);
    std::vector<float> z(info.latent_len);
    std::vector<float> image(info.output_len, -1.0f);
    check(ambient_sample_latent(9, z.data(), z.size()) == AMBIENT_STATUS_OK, "latent");
    ambient_status status =
        ambient_model_generate(&model, z.data(), z.size(), nullptr, 0, image.data(),
                               image.size(), scratch.data()->bytes, scratch.size() * sizeof(Block));
    check(status == AMBIENT_STATUS_OK, ambient_status_message(status));
    bool in_range = true;
    for (float v : image) {
        in_range = in_range && v >= 0.0f && v <= 1.0f;
    }
    check(in_range, "generated values in [0, 1]");
}

int main(int argc, char **argv) {
    const ambient_shape shape = {1, 28, 28};
    ambient_measurement m = make_block_pixels(shape, 0.5f);
    size_t in_len = 0;
    size_t out_len = 0;
    check(ambient_measurement_input_len(&m, &in_len) == AMBIENT_STATUS_OK, "input_len");
    check(ambient_measurement_output_len(&m, &out_len) == AMBIENT_STATUS_OK, "output_len");
    check(in_len == 784 && out_len == 784, "lengths of 1x28x28 Block-Pixels");

    std::vector<float> x(in_len, 1.0f);
    std::vector<float> y(out_len, -1.0f);
    ambient_status status =
        ambient_measurement_apply(&m, x.data(), x.size(), 42, y.data(), y.size());
    check(status == AMBIENT_STATUS_OK, ambient_status_message(status));

    // With p = 0.5 and rescaling, every value is 0 (dropped) or 2 (kept and scaled).
    size_t kept = 0;
    bool only_zero_or_two = true;
    for (float v : y) {
        kept += v == 2.0f;
        only_zero_or_two = only_zero_or_two && (v == 0.0f || v == 2.0f);
    }
    check(only_zero_or_two, "values are 0 or 2");
    check(kept > 300 && kept < 484, "about half the pixels kept");

    ambient_measurement zeroed{};
    check(ambient_measurement_apply(&zeroed, x.data(), x.size(), 42, y.data(), y.size()) ==
              AMBIENT_STATUS_INVALID_HANDLE,
          "zeroed handle rejected");
    check(std::strcmp(ambient_status_message(AMBIENT_STATUS_OK), "success") == 0, "message");
    check(argc == 2, "usage: abi_cpp MODEL (a sigmoid generator)");
    if (argc == 2) {
        generate_one(argv[1]);
    }
    std::printf("abi_cpp: %d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
