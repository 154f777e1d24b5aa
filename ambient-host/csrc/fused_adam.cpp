// One Adam step over many tensors with libtorch's fused kernel, for ambient-host's
// optimiser.
//
// tch exposes neither `_fused_adam_` nor the `_foreach_` operations. Written as tch calls,
// an Adam step is about a dozen element-wise passes per parameter tensor, most of them
// allocating. The fused kernel reads and writes each element once. For the recipe's two
// models, PyTorch timed the unfused passes at 7 ms a step on two threads and the fused
// kernel at 0.4 ms. No C++ exception crosses into Rust.

#include <ATen/ATen.h>
#include <ATen/ops/_fused_adam.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cstdio>
#include <vector>

namespace {

std::vector<at::Tensor> gather(at::Tensor* const* tensors, size_t count) {
  std::vector<at::Tensor> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    out.push_back(*tensors[i]);
  }
  return out;
}

void write_message(char* buffer, size_t length, const char* message) {
  if (buffer != nullptr && length > 0) {
    std::snprintf(buffer, length, "%s", message);
  }
}

}  // namespace

// Updates `count` parameters and their moments in place from their gradients. It does
// what PyTorch's `Adam(fused=True)` without weight decay does at step `step` (from 1).
// Every tensor must be f32 on one device. Returns 0, or -1 with the error's text in
// `message` (truncated to `message_length` bytes, NUL included).
extern "C" int ambient_fused_adam(at::Tensor* const* params, at::Tensor* const* grads,
                                  at::Tensor* const* exp_avgs, at::Tensor* const* exp_avg_sqs,
                                  size_t count, double step, double lr, double beta1,
                                  double beta2, double eps, char* message,
                                  size_t message_length) noexcept {
  try {
    if (count == 0) {
      return 0;
    }
    at::NoGradGuard no_grad;
    const auto p = gather(params, count);
    const auto g = gather(grads, count);
    const auto m = gather(exp_avgs, count);
    const auto v = gather(exp_avg_sqs, count);

    // The kernel reads the step count from one scalar tensor per parameter and never
    // writes it, so one shared tensor serves all.
    const auto counter = at::full({}, step, p[0].options().dtype(at::kFloat));
    const std::vector<at::Tensor> steps(count, counter);

    at::_fused_adam_(p, g, m, v, {}, steps, lr, beta1, beta2, 0.0, eps, false, false);
    return 0;
  } catch (const c10::Error& e) {
    write_message(message, message_length, e.what_without_backtrace());
    return -1;
  } catch (const std::exception& e) {
    write_message(message, message_length, e.what());
    return -1;
  } catch (...) {
    write_message(message, message_length, "an unknown C++ exception");
    return -1;
  }
}
