//! Convolve+Noise: a depthwise `conv2d` with the core's kernel, plus θ, the noise field.

use super::{shape_dims, Form, MeasureError};
use ambient_core::measure::{ConvolveNoise, Measurement};
use tch::{Device, Tensor};

/// The tensors of Convolve+Noise for one batch.
#[derive(Debug)]
pub(super) struct Blur {
    /// The core's 2-D kernel repeated per channel, `[C, 1, k, k]`.
    kernel: Tensor,
    /// θ, the additive noise, `[B, C, H, W]`.
    noise: Tensor,
    /// Zero padding on every side, `(k - 1) / 2`, for a same-size output.
    padding: i64,
    channels: i64,
}

/// Builds the kernel from [`ConvolveNoise::kernel_2d`] and views θ (the noise, one value
/// per image value) as `[B, C, H, W]`.
pub(super) fn convolve_noise(
    op: &ConvolveNoise,
    values: &Tensor,
    rows: i64,
    device: Device,
) -> Result<Form, MeasureError> {
    let size = op.kernel_size();
    let mut kernel = vec![0.0f32; size * size];
    op.kernel_2d(&mut kernel)?;

    let [c, h, w] = shape_dims(op.input_shape());
    let side = size as i64;
    let kernel = Tensor::f_from_slice(&kernel)?
        .f_to_device(device)?
        .f_view([1, 1, side, side])?
        .f_repeat([c, 1, 1, 1])?;
    Ok(Form::Blur(Blur {
        kernel,
        noise: values.f_view([rows, c, h, w])?,
        padding: side / 2,
        channels: c,
    }))
}

/// Returns `kernel ∗ x + noise`, each channel blurred on its own with zero padding.
///
/// NOTE: on CUDA, libtorch lets cuDNN run f32 convolutions in TF32 by default, so there
/// the blur is accurate to about 1e-3 relative, not to f32 rounding as on the CPU.
pub(super) fn apply(x: &Tensor, blur: &Blur) -> Result<Tensor, MeasureError> {
    let padding = [blur.padding, blur.padding];
    let blurred = x.f_conv2d(
        &blur.kernel,
        None::<Tensor>,
        [1, 1],
        padding,
        [1, 1],
        blur.channels,
    )?;
    Ok(blurred.f_add(&blur.noise)?)
}
