// libtorch's CPU autocast for ambient-host's `--precision bf16`.
//
// tch only exposes the CUDA autocast switch, so these two functions reach the CPU one. They
// do what Python's `torch.autocast("cpu", dtype=torch.bfloat16)` does on entry and exit.
// Autocast caches bf16 copies of weights while the outermost scope is open. The exit clears
// that cache, because the next scope would otherwise see weights from before the update.
// No C++ exception crosses into Rust.

#include <ATen/autocast_mode.h>

// Turns CPU autocast to bf16 on. Returns 1 when it was already on, 0 when it was off,
// -1 on an error (autocast then stays as it was).
extern "C" int ambient_autocast_cpu_enter() noexcept {
  try {
    const bool was_enabled = at::autocast::is_autocast_enabled(at::kCPU);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCPU, true);
    at::autocast::increment_nesting();
    return was_enabled ? 1 : 0;
  } catch (...) {
    return -1;
  }
}

// Closes a scope opened by `ambient_autocast_cpu_enter`, restoring the state it returned,
// and clears the cast cache when the outermost scope closes. Returns 0, or -1 on an error.
extern "C" int ambient_autocast_cpu_exit(int was_enabled) noexcept {
  try {
    at::autocast::set_autocast_enabled(at::kCPU, was_enabled == 1);
    if (at::autocast::decrement_nesting() == 0) {
      at::autocast::clear_cache();
    }
    return 0;
  } catch (...) {
    return -1;
  }
}
