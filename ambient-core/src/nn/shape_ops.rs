//! Layers that move values without arithmetic, generic over the element type so the f32 and
//! int8 paths share them: crop, nearest 2× upsampling and class concatenation.

use crate::Shape;

/// Crops one image of shape `input` to `output`, dropping `top` rows and `left` columns
/// first (the bottom and right margins follow from the shapes).
pub(crate) fn crop<T: Copy>(
    x: &[T],
    input: Shape,
    output: Shape,
    top: usize,
    left: usize,
    y: &mut [T],
) {
    let (ih, iw) = (input.height, input.width);
    let (oh, ow) = (output.height, output.width);
    for c in 0..output.channels {
        for r in 0..oh {
            let src = c * ih * iw + (r + top) * iw + left;
            let dst = c * oh * ow + r * ow;
            y[dst..dst + ow].copy_from_slice(&x[src..src + ow]);
        }
    }
}

/// Upsamples one image 2× by repeating every pixel into a 2 × 2 block.
pub(crate) fn upsample2x<T: Copy>(x: &[T], input: Shape, y: &mut [T]) {
    let (h, w) = (input.height, input.width);
    for c in 0..input.channels {
        for r in 0..h {
            let src = &x[c * h * w + r * w..c * h * w + (r + 1) * w];
            let top = c * 4 * h * w + 2 * r * 2 * w;
            for (i, &v) in src.iter().enumerate() {
                y[top + 2 * i] = v;
                y[top + 2 * i + 1] = v;
            }
            y.copy_within(top..top + 2 * w, top + 2 * w);
        }
    }
}

/// Writes the planes of the one-hot class after an image: `y` holds the input's values
/// already, then `classes` planes of `plane` values, `one` in plane `label`, `zero` elsewhere.
pub(crate) fn one_hot_planes<T: Copy>(
    y: &mut [T],
    in_len: usize,
    plane: usize,
    label: usize,
    zero: T,
    one: T,
) {
    for (c, p) in y[in_len..].chunks_exact_mut(plane).enumerate() {
        p.fill(if c == label { one } else { zero });
    }
}
