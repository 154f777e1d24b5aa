//! Class conditioning: one-hot labels joined to a layer's input, as a vector or as
//! constant channels.

use tch::{Device, Kind, Tensor};

use super::Discriminator;

/// Returns the one-hot rows `[B, classes]` (f32) of class indices `labels` (`[B]`, int64).
pub fn one_hot(labels: &Tensor, classes: i64) -> Tensor {
    labels.one_hot(classes).to_kind(Kind::Float)
}

/// Returns the labels `i mod classes` for `batch` images (`[batch]`, int64), the labels an
/// exported conditional model is calibrated and checked with.
pub fn cycle_labels(batch: i64, classes: i64, device: Device) -> Tensor {
    Tensor::arange(batch, (Kind::Int64, device)).remainder(classes.max(1))
}

/// Returns the labels of a sample grid with one row per class: `count` images in rows of
/// `columns`, image `i` of class `i / columns`, and `columns` itself. `columns` is
/// `ceil(count / classes)`, so the rows hold every class in order and the last row may be
/// short.
pub fn class_rows(count: usize, classes: usize) -> (Vec<i64>, usize) {
    let columns = count.div_ceil(classes.max(1)).max(1);
    let labels = (0..count).map(|i| (i / columns) as i64).collect();
    (labels, columns)
}

/// A discriminator bound to the class labels of one batch. The training step has no notion
/// of classes, so every call it makes is conditioned on these labels: the real, the
/// generated and (for the gradient penalty) the interpolated batch share them.
#[derive(Debug)]
pub struct Labeled<'a> {
    /// The discriminator.
    pub discriminator: &'a dyn Discriminator,
    /// The labels `[B]`, int64.
    pub labels: &'a Tensor,
}

impl Discriminator for Labeled<'_> {
    fn forward(&self, y: &Tensor) -> Tensor {
        self.discriminator.forward_labeled(y, self.labels)
    }
}

/// Appends the one-hot rows `one_hot` (`[B, K]`) to the features of `x` (`[B, F]`).
pub(crate) fn concat_vector(x: &Tensor, one_hot: &Tensor) -> Tensor {
    Tensor::cat(&[x, one_hot], 1)
}

/// Appends the one-hot rows `one_hot` (`[B, K]`) to `x` (`[B, C, H, W]`) as `K` channels,
/// each constant over the image.
pub(crate) fn concat_planes(x: &Tensor, one_hot: &Tensor) -> Tensor {
    let size = x.size();
    let (batch, height, width) = (size[0], size[2], size[3]);
    let classes = one_hot.size()[1];
    let planes = one_hot
        .view([batch, classes, 1, 1])
        .expand([batch, classes, height, width], false);
    Tensor::cat(&[x, &planes], 1)
}

/// Returns the one-hot rows of `labels`, or all-zero rows when there are none.
pub(crate) fn one_hot_or_zeros(
    labels: Option<&Tensor>,
    batch: i64,
    classes: i64,
    device: Device,
) -> Tensor {
    match labels {
        Some(l) => one_hot(l, classes),
        None => Tensor::zeros([batch, classes], (Kind::Float, device)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hold_one_class_each() {
        let (labels, columns) = class_rows(20, 10);
        assert_eq!(columns, 2);
        assert_eq!(&labels[..6], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(labels[19], 9);
        // 64 images of 10 classes: rows of 7, and the last row contains one image of class 9.
        let (labels, columns) = class_rows(64, 10);
        assert_eq!(columns, 7);
        assert_eq!(labels[62], 8);
        assert_eq!(labels[63], 9);
    }

    #[test]
    fn planes_are_constant_one_hot_channels() {
        let x = Tensor::zeros([2, 1, 2, 3], (Kind::Float, Device::Cpu));
        let labels = Tensor::from_slice(&[2i64, 0]);
        let y = concat_planes(&x, &one_hot(&labels, 3));
        assert_eq!(y.size(), vec![2, 4, 2, 3]);
        // Image 0 is class 2: channel 1 + 2 = 3 is one everywhere, channels 1 and 2 zero.
        assert_eq!(y.get(0).get(3).sum(Kind::Float).double_value(&[]), 6.0);
        assert_eq!(y.get(0).get(1).sum(Kind::Float).double_value(&[]), 0.0);
        assert_eq!(y.get(1).get(1).sum(Kind::Float).double_value(&[]), 6.0);
        let cycle = Vec::<i64>::try_from(cycle_labels(5, 3, Device::Cpu)).unwrap();
        assert_eq!(cycle, vec![0, 1, 2, 0, 1]);
    }
}
