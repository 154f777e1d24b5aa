//! The graph run in tch: the reference the core's output is compared with.
//!
//! Every value is a `[batch, C, H, W]` tensor (a vector is `[batch, n, 1, 1]`, as in the
//! core), and each layer is the libtorch operation PyTorch users know: `linear`, `conv2d`,
//! `conv_transpose2d`, `batch_norm` in eval mode, `upsample_nearest2d`. Nothing here shares
//! code with the core's kernels, so agreement is a real check of both.

use tch::{Kind, Tensor};

use super::graph::{Graph, Node};
use super::ExportError;

impl Graph {
    /// Runs the graph in tch on `z` (`[batch, latent]`, f32) and, for a conditional graph,
    /// class indices `labels` (`[batch]`, i64), and returns the images `[batch, C, H, W]`.
    pub fn forward(&self, z: &Tensor, labels: Option<&Tensor>) -> Result<Tensor, ExportError> {
        let batch = z.size().first().copied().unwrap_or(0);
        let mut values = vec![z.f_view([batch, self.latent as i64, 1, 1])?];
        let one_hot = match labels {
            Some(l) if self.classes > 0 => Some(
                l.f_one_hot(self.classes as i64)?
                    .f_to_kind(Kind::Float)?
                    .f_view([batch, self.classes as i64, 1, 1])?,
            ),
            _ => None,
        };
        for (k, layer) in self.layers.iter().enumerate() {
            let x = values
                .get(self.input_of(k))
                .ok_or_else(|| ExportError::layer(k, "it reads a value not computed before it"))?;
            let y = apply(&layer.node, x, &values, labels, one_hot.as_ref(), k)?;
            values.push(y);
        }
        values
            .pop()
            .ok_or_else(|| ExportError::layer(0, "the graph has no layers"))
    }
}

/// Returns extent `dim` of `t`, or an error for layer `k` when `t` has fewer dimensions.
fn extent(t: &Tensor, dim: usize, k: usize) -> Result<i64, ExportError> {
    let size = t.size();
    size.get(dim).copied().ok_or_else(|| {
        ExportError::layer(
            k,
            format!("a tensor of shape {size:?} has no dimension {dim}"),
        )
    })
}

fn pair(p: (usize, usize)) -> [i64; 2] {
    [p.0 as i64, p.1 as i64]
}

fn apply(
    node: &Node,
    x: &Tensor,
    values: &[Tensor],
    labels: Option<&Tensor>,
    one_hot: Option<&Tensor>,
    k: usize,
) -> Result<Tensor, ExportError> {
    let batch = extent(x, 0, k)?;
    let y = match node {
        Node::Dense { weight, bias } => {
            let out = x.f_flatten(1, -1)?.f_linear(weight, bias.as_ref())?;
            out.f_view([batch, extent(weight, 0, k)?, 1, 1])?
        }
        Node::Conv2d {
            weight,
            bias,
            stride,
            padding,
        } => x.f_conv2d(
            weight,
            bias.as_ref(),
            pair(*stride),
            pair(*padding),
            [1, 1],
            1,
        )?,
        Node::ConvTranspose2d {
            weight,
            bias,
            stride,
            padding,
            output_padding,
        } => x.f_conv_transpose2d(
            weight,
            bias.as_ref(),
            pair(*stride),
            pair(*padding),
            pair(*output_padding),
            1,
            [1, 1],
        )?,
        Node::BatchNorm(bn) => x.f_batch_norm(
            Some(&bn.gamma),
            Some(&bn.beta),
            Some(&bn.mean),
            Some(&bn.var),
            false,
            0.1,
            bn.eps,
            false,
        )?,
        Node::CondBatchNorm(bn) => {
            let labels = labels.ok_or_else(|| ExportError::layer(k, "labels are missing"))?;
            let normalised = x.f_batch_norm(
                None::<&Tensor>,
                None,
                Some(&bn.mean),
                Some(&bn.var),
                false,
                0.1,
                bn.eps,
                false,
            )?;
            let channels = extent(&bn.mean, 0, k)?;
            let gamma = bn
                .gamma
                .f_index_select(0, labels)?
                .f_view([batch, channels, 1, 1])?;
            let beta = bn
                .beta
                .f_index_select(0, labels)?
                .f_view([batch, channels, 1, 1])?;
            normalised.f_mul(&gamma)?.f_add(&beta)?
        }
        Node::Relu => x.f_relu()?,
        Node::LeakyRelu { slope } => {
            x.f_where_self(&x.f_ge(0.0)?, &x.f_mul_scalar(*slope as f64)?)?
        }
        Node::Tanh => x.f_tanh()?,
        Node::Sigmoid => x.f_sigmoid()?,
        Node::Reshape(s) => {
            x.f_reshape([batch, s.channels as i64, s.height as i64, s.width as i64])?
        }
        Node::Crop {
            top,
            bottom,
            left,
            right,
        } => {
            let rows = extent(x, 2, k)? - (*top + *bottom) as i64;
            let cols = extent(x, 3, k)? - (*left + *right) as i64;
            x.f_narrow(2, *top as i64, rows)?
                .f_narrow(3, *left as i64, cols)?
        }
        Node::Upsample2x => {
            let (h, w) = (extent(x, 2, k)?, extent(x, 3, k)?);
            x.f_upsample_nearest2d([2 * h, 2 * w], 2.0, 2.0)?
        }
        Node::Add { other } => {
            let other = values.get(*other).ok_or_else(|| {
                ExportError::layer(k, "the add reads a value not computed before it")
            })?;
            x.f_add(other)?
        }
        Node::ConcatClass => {
            let one_hot = one_hot.ok_or_else(|| ExportError::layer(k, "labels are missing"))?;
            let (h, w) = (extent(x, 2, k)?, extent(x, 3, k)?);
            let planes = one_hot.f_expand([batch, extent(one_hot, 1, k)?, h, w], false)?;
            Tensor::f_cat(&[x, &planes], 1)?
        }
    };
    Ok(y)
}
