//! Layer operations: their parameters, the shape each produces and the tensors each takes.

use super::{Compute, DType};
use crate::Shape;

/// The largest number of elements any activation or tensor may have, so that every index
/// fits in an `i32` as well as a `usize` on 32-bit targets.
pub(crate) const MAX_ELEMENTS: usize = i32::MAX as usize;

/// Kernel, stride and padding of a convolution or transposed convolution, as `(rows,
/// columns)` pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvParams {
    /// Output channels.
    pub out_channels: usize,
    /// Kernel extent.
    pub kernel: (usize, usize),
    /// Stride.
    pub stride: (usize, usize),
    /// Zero padding on each side (a transposed convolution removes it from each side of its
    /// output, as PyTorch's `ConvTranspose2d` does).
    pub padding: (usize, usize),
    /// Extra rows and columns at the bottom and right of a transposed convolution's output
    /// (PyTorch's `output_padding`); below the stride. Always 0 for a convolution.
    pub output_padding: (usize, usize),
}

/// One layer's operation and parameters.
///
/// Layers read *values*: value 0 is the latent input `z` (shape `[latent, 1, 1]`) and value
/// `k + 1` is the output of layer `k`. A layer's input is any earlier value (usually the
/// previous layer's output), so branches such as a residual block's shortcut are expressed
/// by pointing a layer back at the value the branch starts from.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// Fully connected: `y = W x + b` over the flattened input. Weight `[out, in]`.
    Dense {
        /// Output features; the output shape is `[out_features, 1, 1]`.
        out_features: usize,
    },
    /// 2-D convolution (cross-correlation, as in PyTorch). Weight `[out, in, kh, kw]`.
    Conv2d(ConvParams),
    /// 2-D transposed convolution, as PyTorch's `ConvTranspose2d`. Weight `[in, out, kh, kw]`.
    ConvTranspose2d(ConvParams),
    /// Batch normalisation at inference, stored as a per-channel `y = scale * x + shift`.
    BatchNorm,
    /// Conditional batch normalisation: a scale and shift per class and channel, chosen by
    /// the image's label.
    CondBatchNorm,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x >= 0`, `slope * x` below.
    LeakyRelu {
        /// The slope for negative inputs.
        slope: f32,
    },
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid `1 / (1 + e^-x)`.
    Sigmoid,
    /// A new shape for the same values in the same order.
    Reshape {
        /// The output shape; it has as many elements as the input.
        shape: Shape,
    },
    /// Removes rows and columns at each border (asymmetric crops allowed, as TensorFlow
    /// `SAME` transposed convolutions need).
    Crop {
        /// Rows removed at the top.
        top: usize,
        /// Rows removed at the bottom.
        bottom: usize,
        /// Columns removed at the left.
        left: usize,
        /// Columns removed at the right.
        right: usize,
    },
    /// Nearest-neighbour 2× upsampling of rows and columns.
    Upsample2x,
    /// Residual add: the input plus value `other`, which has the same shape.
    Add {
        /// The value index of the second operand.
        other: usize,
    },
    /// Appends the one-hot class as `classes` extra channels, each constant over the image
    /// (for a `[n, 1, 1]` vector this is plain concatenation).
    ConcatClass,
}

/// The on-disk code of each operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    Dense = 1,
    Conv2d = 2,
    ConvTranspose2d = 3,
    BatchNorm = 4,
    CondBatchNorm = 5,
    Relu = 6,
    LeakyRelu = 7,
    Tanh = 8,
    Sigmoid = 9,
    Reshape = 10,
    Crop = 11,
    Upsample2x = 12,
    Add = 13,
    ConcatClass = 14,
}

impl OpKind {
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        const ALL: [OpKind; 14] = [
            OpKind::Dense,
            OpKind::Conv2d,
            OpKind::ConvTranspose2d,
            OpKind::BatchNorm,
            OpKind::CondBatchNorm,
            OpKind::Relu,
            OpKind::LeakyRelu,
            OpKind::Tanh,
            OpKind::Sigmoid,
            OpKind::Reshape,
            OpKind::Crop,
            OpKind::Upsample2x,
            OpKind::Add,
            OpKind::ConcatClass,
        ];
        ALL.into_iter().find(|k| *k as u8 == code)
    }
}

impl Op {
    #[cfg(any(feature = "writer", test))]
    pub(crate) fn kind(&self) -> OpKind {
        match self {
            Self::Dense { .. } => OpKind::Dense,
            Self::Conv2d(_) => OpKind::Conv2d,
            Self::ConvTranspose2d(_) => OpKind::ConvTranspose2d,
            Self::BatchNorm => OpKind::BatchNorm,
            Self::CondBatchNorm => OpKind::CondBatchNorm,
            Self::Relu => OpKind::Relu,
            Self::LeakyRelu { .. } => OpKind::LeakyRelu,
            Self::Tanh => OpKind::Tanh,
            Self::Sigmoid => OpKind::Sigmoid,
            Self::Reshape { .. } => OpKind::Reshape,
            Self::Crop { .. } => OpKind::Crop,
            Self::Upsample2x => OpKind::Upsample2x,
            Self::Add { .. } => OpKind::Add,
            Self::ConcatClass => OpKind::ConcatClass,
        }
    }

    /// Returns whether the operation maps each element on its own, so that it may run in
    /// place on its input's buffer.
    pub(crate) fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Self::BatchNorm
                | Self::CondBatchNorm
                | Self::Relu
                | Self::LeakyRelu { .. }
                | Self::Tanh
                | Self::Sigmoid
                | Self::Reshape { .. }
        )
    }
}

/// Why an output shape could not be inferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShapeError {
    /// A size overflowed or exceeded [`MAX_ELEMENTS`].
    Overflow,
    /// A parameter is invalid for the input; the text names it.
    Invalid(&'static str),
}

/// Returns the element count of `s`, or an error when it overflows or exceeds the limit.
pub(crate) fn checked_elements(s: Shape) -> Result<usize, ShapeError> {
    match s.checked_len() {
        Some(n) if n <= MAX_ELEMENTS => Ok(n),
        _ => Err(ShapeError::Overflow),
    }
}

/// Returns the shape `op` produces from an input of shape `input` in a model with `classes`
/// classes.
pub(crate) fn infer_output_shape(
    op: &Op,
    input: Shape,
    classes: usize,
) -> Result<Shape, ShapeError> {
    checked_elements(input)?;
    let out = match *op {
        Op::Dense { out_features } => {
            if out_features == 0 {
                return Err(ShapeError::Invalid("out_features"));
            }
            Shape::new(out_features, 1, 1)
        }
        Op::Conv2d(p) => conv_shape(p, input)?,
        Op::ConvTranspose2d(p) => conv_transpose_shape(p, input)?,
        Op::BatchNorm | Op::CondBatchNorm | Op::Relu | Op::Tanh | Op::Sigmoid | Op::Add { .. } => {
            input
        }
        Op::LeakyRelu { slope } => {
            if !slope.is_finite() {
                return Err(ShapeError::Invalid("slope"));
            }
            input
        }
        Op::Reshape { shape } => {
            if checked_elements(shape)? != checked_elements(input)? {
                return Err(ShapeError::Invalid("reshape element count"));
            }
            shape
        }
        Op::Crop {
            top,
            bottom,
            left,
            right,
        } => {
            let rows = top.checked_add(bottom).ok_or(ShapeError::Overflow)?;
            let cols = left.checked_add(right).ok_or(ShapeError::Overflow)?;
            if rows >= input.height || cols >= input.width {
                return Err(ShapeError::Invalid("crop"));
            }
            Shape::new(input.channels, input.height - rows, input.width - cols)
        }
        Op::Upsample2x => {
            let h = input.height.checked_mul(2).ok_or(ShapeError::Overflow)?;
            let w = input.width.checked_mul(2).ok_or(ShapeError::Overflow)?;
            Shape::new(input.channels, h, w)
        }
        Op::ConcatClass => {
            if classes == 0 {
                return Err(ShapeError::Invalid(
                    "class concatenation in a model without classes",
                ));
            }
            let c = input
                .channels
                .checked_add(classes)
                .ok_or(ShapeError::Overflow)?;
            Shape::new(c, input.height, input.width)
        }
    };
    if out.is_empty() {
        return Err(ShapeError::Invalid("empty output"));
    }
    checked_elements(out)?;
    Ok(out)
}

fn check_conv_params(p: ConvParams) -> Result<(), ShapeError> {
    if p.out_channels == 0 {
        return Err(ShapeError::Invalid("out_channels"));
    }
    if p.kernel.0 == 0 || p.kernel.1 == 0 {
        return Err(ShapeError::Invalid("kernel"));
    }
    if p.stride.0 == 0 || p.stride.1 == 0 {
        return Err(ShapeError::Invalid("stride"));
    }
    Ok(())
}

fn conv_shape(p: ConvParams, input: Shape) -> Result<Shape, ShapeError> {
    check_conv_params(p)?;
    if p.output_padding != (0, 0) {
        return Err(ShapeError::Invalid("output_padding of a convolution"));
    }
    let extent = |n: usize, k: usize, s: usize, pad: usize| -> Result<usize, ShapeError> {
        let padded = pad
            .checked_mul(2)
            .and_then(|p2| n.checked_add(p2))
            .ok_or(ShapeError::Overflow)?;
        if padded < k {
            return Err(ShapeError::Invalid("kernel larger than padded input"));
        }
        Ok((padded - k) / s + 1)
    };
    let h = extent(input.height, p.kernel.0, p.stride.0, p.padding.0)?;
    let w = extent(input.width, p.kernel.1, p.stride.1, p.padding.1)?;
    Ok(Shape::new(p.out_channels, h, w))
}

fn conv_transpose_shape(p: ConvParams, input: Shape) -> Result<Shape, ShapeError> {
    check_conv_params(p)?;
    let extent =
        |n: usize, k: usize, s: usize, pad: usize, op: usize| -> Result<usize, ShapeError> {
            if op >= s {
                return Err(ShapeError::Invalid("output_padding not below stride"));
            }
            let full = (n - 1)
                .checked_mul(s)
                .and_then(|v| v.checked_add(k))
                .and_then(|v| v.checked_add(op))
                .ok_or(ShapeError::Overflow)?;
            let cut = pad.checked_mul(2).ok_or(ShapeError::Overflow)?;
            if full <= cut {
                return Err(ShapeError::Invalid("padding removes the whole output"));
            }
            Ok(full - cut)
        };
    let h = extent(
        input.height,
        p.kernel.0,
        p.stride.0,
        p.padding.0,
        p.output_padding.0,
    )?;
    let w = extent(
        input.width,
        p.kernel.1,
        p.stride.1,
        p.padding.1,
        p.output_padding.1,
    )?;
    Ok(Shape::new(p.out_channels, h, w))
}

/// What a layer's tensor slot holds, for error messages and the docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Weight,
    Bias,
    Scale,
    Shift,
    WeightScale,
    Requant,
    Lut,
}

impl Role {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Weight => "weight",
            Self::Bias => "bias",
            Self::Scale => "scale",
            Self::Shift => "shift",
            Self::WeightScale => "weight scale",
            Self::Requant => "requantisation",
            Self::Lut => "lookup table",
        }
    }
}

/// The tensor one slot of a layer record must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Signature {
    pub(crate) role: Role,
    /// Accepted dtypes.
    pub(crate) dtypes: &'static [DType],
    pub(crate) rank: usize,
    pub(crate) dims: [usize; 4],
    /// A second shape the reader also accepts (`rank`, `dims`), which the writer never
    /// writes: the layout of an older minor version.
    pub(crate) legacy: Option<(usize, [usize; 4])>,
}

impl Signature {
    /// Returns whether a tensor of `rank` and `dims` has the signature's shape or its
    /// legacy one.
    pub(crate) fn accepts_shape(&self, rank: usize, dims: [usize; 4]) -> bool {
        (rank, dims) == (self.rank, self.dims) || self.legacy == Some((rank, dims))
    }
}

const FLOAT_WEIGHT: &[DType] = &[DType::F32, DType::F16];
const F32_ONLY: &[DType] = &[DType::F32];
const I8_ONLY: &[DType] = &[DType::I8];
const I32_ONLY: &[DType] = &[DType::I32];

fn sig(role: Role, dtypes: &'static [DType], dims: &[usize]) -> Option<Signature> {
    let mut d = [1; 4];
    d[..dims.len()].copy_from_slice(dims);
    Some(Signature {
        role,
        dtypes,
        rank: dims.len(),
        dims: d,
        legacy: None,
    })
}

/// The int8 weight of a transposed convolution. It is written as `[out, kh * kw, in]`, so
/// that the kernel reads the weights of each output channel and tap contiguously, and it is
/// also read in PyTorch's `[in, out, kh, kw]` of format 1.0. The ranks differ, so a 1.0
/// reader rejects the new layout instead of misreading it.
fn int8_transposed_weight(input: Shape, p: &ConvParams) -> Option<Signature> {
    let taps = p.kernel.0 * p.kernel.1;
    let mut signature = sig(
        Role::Weight,
        I8_ONLY,
        &[p.out_channels, taps, input.channels],
    );
    if let Some(s) = signature.as_mut() {
        s.legacy = Some((4, [input.channels, p.out_channels, p.kernel.0, p.kernel.1]));
    }
    signature
}

/// Returns the tensors a layer takes in each of its four slots. `input` and `output` are
/// the layer's shapes, already checked by [`infer_output_shape`].
pub(crate) fn tensor_signature(
    op: &Op,
    input: Shape,
    output: Shape,
    classes: usize,
    compute: Compute,
) -> [Option<Signature>; 4] {
    let in_len = input.channels * input.height * input.width;
    let ch = output.channels;
    let weight_dims: &[usize] = match *op {
        Op::Dense { out_features } => &[out_features, in_len],
        Op::Conv2d(p) => &[p.out_channels, input.channels, p.kernel.0, p.kernel.1],
        Op::ConvTranspose2d(p) => &[input.channels, p.out_channels, p.kernel.0, p.kernel.1],
        Op::BatchNorm => &[ch],
        Op::CondBatchNorm => &[classes, ch],
        _ => &[],
    };
    let affine = matches!(op, Op::BatchNorm | Op::CondBatchNorm);
    let heavy = matches!(
        op,
        Op::Dense { .. } | Op::Conv2d(_) | Op::ConvTranspose2d(_)
    );
    match compute {
        Compute::Float if heavy => [
            sig(Role::Weight, FLOAT_WEIGHT, weight_dims),
            sig(Role::Bias, F32_ONLY, &[ch]),
            None,
            None,
        ],
        Compute::Float if affine => [
            sig(Role::Scale, F32_ONLY, weight_dims),
            sig(Role::Shift, F32_ONLY, weight_dims),
            None,
            None,
        ],
        Compute::Int8 if heavy || affine => {
            // Per output channel: for an affine layer that is each (class, channel) entry.
            let per_channel: &[usize] = if affine { weight_dims } else { &[ch] };
            let mut requant = [0usize; 3];
            requant[..per_channel.len()].copy_from_slice(per_channel);
            requant[per_channel.len()] = 2;
            let weight = match op {
                Op::ConvTranspose2d(p) => int8_transposed_weight(input, p),
                _ => sig(Role::Weight, I8_ONLY, weight_dims),
            };
            [
                weight,
                sig(Role::WeightScale, F32_ONLY, per_channel),
                sig(Role::Bias, I32_ONLY, per_channel),
                sig(Role::Requant, I32_ONLY, &requant[..per_channel.len() + 1]),
            ]
        }
        Compute::Int8 => match op {
            Op::Relu | Op::LeakyRelu { .. } | Op::Tanh | Op::Sigmoid | Op::ConcatClass => {
                [sig(Role::Lut, I8_ONLY, &[256]), None, None, None]
            }
            Op::Add { .. } => [sig(Role::Requant, I32_ONLY, &[3, 2]), None, None, None],
            _ => [None; 4],
        },
        Compute::Float => [None; 4],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(out: usize, k: usize, s: usize, p: usize, op: usize) -> ConvParams {
        ConvParams {
            out_channels: out,
            kernel: (k, k),
            stride: (s, s),
            padding: (p, p),
            output_padding: (op, op),
        }
    }

    #[test]
    fn conv_transpose_shapes_of_the_generators() {
        // PyTorch ConvTranspose2d(k=4, s=2, p=1): 7 -> 14 -> 28.
        let s = infer_output_shape(
            &Op::ConvTranspose2d(conv(64, 4, 2, 1, 0)),
            Shape::new(128, 7, 7),
            0,
        );
        assert_eq!(s, Ok(Shape::new(64, 14, 14)));
        // TF SAME 5x5 s2 as padding 1 with the last row and column dropped: 4 -> 9, crop -> 8.
        let s = infer_output_shape(
            &Op::ConvTranspose2d(conv(128, 5, 2, 1, 0)),
            Shape::new(256, 4, 4),
            0,
        );
        assert_eq!(s, Ok(Shape::new(128, 9, 9)));
        let s = infer_output_shape(
            &Op::ConvTranspose2d(conv(1, 5, 2, 2, 1)),
            Shape::new(64, 14, 14),
            0,
        );
        assert_eq!(s, Ok(Shape::new(1, 28, 28)));
    }

    #[test]
    fn conv_shape_padding_one() {
        let s = infer_output_shape(&Op::Conv2d(conv(3, 3, 1, 1, 0)), Shape::new(128, 32, 32), 0);
        assert_eq!(s, Ok(Shape::new(3, 32, 32)));
        let s = infer_output_shape(&Op::Conv2d(conv(3, 5, 2, 2, 0)), Shape::new(1, 28, 28), 0);
        assert_eq!(s, Ok(Shape::new(3, 14, 14)));
    }

    #[test]
    fn invalid_params_are_errors() {
        let big = Shape::new(1, 3, 3);
        assert!(infer_output_shape(&Op::Conv2d(conv(1, 5, 1, 0, 0)), big, 0).is_err());
        assert!(infer_output_shape(&Op::Conv2d(conv(1, 3, 0, 0, 0)), big, 0).is_err());
        assert!(infer_output_shape(&Op::ConvTranspose2d(conv(1, 3, 2, 0, 2)), big, 0).is_err());
        assert!(infer_output_shape(&Op::ConcatClass, big, 0).is_err());
        let crop = Op::Crop {
            top: 2,
            bottom: 1,
            left: 0,
            right: 0,
        };
        assert!(infer_output_shape(&crop, big, 0).is_err());
        let huge = Op::Upsample2x;
        let r = infer_output_shape(&huge, Shape::new(1, 1 << 20, 1 << 20), 0);
        assert_eq!(r, Err(ShapeError::Overflow));
    }
}
