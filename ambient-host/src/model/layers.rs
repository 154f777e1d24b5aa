//! Small helpers shared by the architectures: output sizes, TF-style `SAME` padding and
//! initialisers.

use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

/// Applies the leaky ReLU: `x` where `x > 0`, else `slope·x`.
///
/// tch's own `leaky_relu` has the fixed slope 0.01, so this multiplies `x` by the factor
/// `max(sign(x), slope)`: 1 where `x > 0` and `slope` elsewhere (for `0 ≤ slope < 1`). The
/// sign has no gradient, so the values and the gradient are those of
/// `torch.nn.functional.leaky_relu`, including `slope` at `x = 0`, and the backward pass is
/// one multiplication. Earlier forms cost more: `max(x, slope·x)` five more kernels per
/// backward pass, PReLU with a constant weight a scalar backward kernel that took 7 % of
/// a bf16 training step, and a mask through `where` a scalar forward kernel.
pub fn leaky_relu(x: &Tensor, slope: f64) -> Tensor {
    x * x.sign().clamp_min(slope)
}

/// Returns the output length of a convolution over `n` values with kernel `k`, stride `s`
/// and padding `p` on both sides, or `None` when the input is shorter than the kernel.
pub fn conv_out(n: i64, k: i64, s: i64, p: i64) -> Option<i64> {
    let padded = n + 2 * p;
    (padded >= k && s > 0).then(|| (padded - k) / s + 1)
}

/// Returns the padding `(before, after)` of TensorFlow's `SAME` convolution with kernel `k`
/// and stride `s` over `n` values: the output has `ceil(n / s)` values and the extra
/// padding goes after, so 28 → 14 with k = 5 pads (1, 2) and 7 → 4 pads (2, 2).
pub fn same_padding(n: i64, k: i64, s: i64) -> (i64, i64) {
    let out = (n + s - 1) / s;
    let total = ((out - 1) * s + k - n).max(0);
    (total / 2, total - total / 2)
}

/// Returns the batch normalisation of the reference code's DCGAN discriminators: γ from 1,
/// β from 0, ε = 1e-5, and running statistics with momentum 0.1 in libtorch's sense
/// (`running = 0.9·running + 0.1·batch`, TensorFlow's decay 0.9).
pub fn discriminator_norm_config() -> nn::BatchNormConfig {
    nn::BatchNormConfig {
        ws_init: Init::Const(1.0),
        bs_init: Init::Const(0.0),
        eps: 1e-5,
        momentum: 0.1,
        ..Default::default()
    }
}

/// Applies the optional batch norm `norm` of a discriminator to `x`, with the statistics of
/// `x` itself (training mode), and updates its running statistics.
///
/// A discriminator is only run while training, on one batch per call (the real batch, the
/// generated batch or the gradient penalty's mix), so each call is normalised by its own
/// batch, as in the reference code, where the real and the generated batch are separate
/// calls too. The running statistics are kept in the checkpoint but never read.
pub fn discriminator_norm(norm: Option<&nn::BatchNorm>, x: Tensor) -> Tensor {
    match norm {
        Some(norm) => norm.forward_t(&x, true),
        None => x,
    }
}

/// Returns the uniform initialiser with standard deviation `std` (bounds `±std·√3`).
pub fn uniform_with_std(std: f64) -> Init {
    let bound = std * 3f64.sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaky_relu_values_and_gradient() {
        let x = Tensor::from_slice(&[-1.0f32, 0.0, 2.0]).set_requires_grad(true);
        let y = leaky_relu(&x, 0.2);
        assert_eq!(Vec::<f32>::try_from(&y).unwrap(), [-0.2, 0.0, 2.0]);

        // The gradient at 0 is the slope's, as in torch.nn.functional.leaky_relu.
        y.sum(tch::Kind::Float).backward();
        assert_eq!(Vec::<f32>::try_from(x.grad()).unwrap(), [0.2, 0.2, 1.0]);
    }

    #[test]
    fn same_padding_matches_tensorflow() {
        // TF SAME, k = 5, s = 2: total = (ceil(n/2) - 1)·2 + 5 - n.
        assert_eq!(same_padding(28, 5, 2), (1, 2));
        assert_eq!(same_padding(14, 5, 2), (1, 2));
        assert_eq!(same_padding(7, 5, 2), (2, 2));
    }

    #[test]
    fn conv_out_counts_windows() {
        assert_eq!(conv_out(28, 4, 2, 1), Some(14));
        assert_eq!(conv_out(14, 4, 2, 1), Some(7));
        assert_eq!(conv_out(2, 5, 2, 1), None);
    }
}
