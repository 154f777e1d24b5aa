//! Scratch planning: which buffer ("slot") holds each value, and how many bytes a forward
//! pass needs for a batch.
//!
//! Values are assigned to slots greedily in layer order. A slot is reused once the last
//! layer reading its value has run, and an elementwise layer (batch norm, activation,
//! reshape) whose input dies with it runs in place in its input's slot. Each slot is as
//! large as the largest value it ever holds, rounded up to 16 elements so every slot starts
//! 16-byte aligned for any element type. Scratch is the slots, each repeated for every
//! image of the batch, followed by one temporary region as large as the largest layer's
//! working memory (im2col matrices, GEMM packing, i32 accumulators).

use super::conv::{conv2d_temp, ConvGeometry};
use super::conv_transpose::conv_transpose2d_temp;
use super::dense::dense_temp;
use super::int8;
use crate::format::reader::{elements, Layer};
use crate::format::{Compute, Op, MAX_LAYERS};

/// Values of a model: the latent input and one output per layer.
pub(crate) const MAX_VALUES: usize = MAX_LAYERS + 1;

/// The byte alignment scratch must have.
pub(crate) const SCRATCH_ALIGN: usize = 16;

/// Where each value lives in scratch, per image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Elements of each value for one image.
    pub(crate) value_len: [usize; MAX_VALUES],
    /// The slot of each value.
    pub(crate) value_slot: [usize; MAX_VALUES],
    /// Start of each slot, in elements per image.
    pub(crate) slot_start: [usize; MAX_VALUES],
    /// Elements of all slots for one image.
    pub(crate) slots_len: usize,
}

impl Plan {
    /// Returns the element range of value `v` for a batch of `batch` images.
    pub(crate) fn range(&self, v: usize, batch: usize) -> core::ops::Range<usize> {
        let start = self.slot_start[self.value_slot[v]] * batch;
        start..start + self.value_len[v] * batch
    }

    /// Returns whether layer `k` runs in place in its input's slot.
    pub(crate) fn in_place(&self, k: usize, input: usize) -> bool {
        self.value_slot[k + 1] == self.value_slot[input]
    }
}

/// Plans the slots of `layers`, whose first value has `latent` elements.
pub(crate) fn plan(layers: &[Layer<'_>], latent: usize) -> Plan {
    let n = layers.len();
    let mut value_len = [0usize; MAX_VALUES];
    value_len[0] = latent;
    for (k, layer) in layers.iter().enumerate() {
        value_len[k + 1] = elements(layer.out_shape);
    }

    // The last layer reading each value; a value nobody reads dies where it is made, and
    // the model output lives to the end.
    let mut last_use = [0usize; MAX_VALUES];
    for (v, l) in last_use.iter_mut().enumerate().take(n + 1) {
        *l = v.saturating_sub(1);
    }
    for (k, layer) in layers.iter().enumerate() {
        last_use[layer.input] = k;
        if let Op::Add { other } = layer.op {
            last_use[other] = k;
        }
    }
    last_use[n] = n;

    let mut value_slot = [0usize; MAX_VALUES];
    let mut slot_len = [0usize; MAX_VALUES];
    let mut occupant = [0usize; MAX_VALUES];
    let mut slots = 1;
    slot_len[0] = value_len[0];
    for (k, layer) in layers.iter().enumerate() {
        let v = k + 1;
        let reusable = layer.op.is_elementwise() && last_use[layer.input] == k;
        let slot = if reusable {
            value_slot[layer.input]
        } else {
            match (0..slots).find(|&s| last_use[occupant[s]] < k) {
                Some(s) => s,
                None => {
                    slots += 1;
                    slots - 1
                }
            }
        };
        value_slot[v] = slot;
        occupant[slot] = v;
        slot_len[slot] = slot_len[slot].max(value_len[v]);
    }

    let mut slot_start = [0usize; MAX_VALUES];
    let mut total = 0;
    for s in 0..slots {
        slot_start[s] = total;
        total += slot_len[s].div_ceil(SCRATCH_ALIGN) * SCRATCH_ALIGN;
    }
    Plan {
        value_len,
        value_slot,
        slot_start,
        slots_len: total,
    }
}

/// Returns the bytes of temporary scratch layer `layer` needs for `batch` images.
pub(crate) fn layer_temp_bytes(layer: &Layer<'_>, compute: Compute, batch: usize) -> Option<usize> {
    let in_len = elements(layer.in_shape);
    let out_len = elements(layer.out_shape);
    let geometry = |p| ConvGeometry {
        input: layer.in_shape,
        output: layer.out_shape,
        p,
    };
    let bytes = match (compute, layer.op) {
        (Compute::Float, Op::Dense { .. }) => dense_temp(in_len, out_len, batch).checked_mul(4)?,
        (Compute::Float, Op::Conv2d(p)) => conv2d_temp(&geometry(p))?.checked_mul(4)?,
        (Compute::Float, Op::ConvTranspose2d(p)) => {
            conv_transpose2d_temp(&geometry(p))?.checked_mul(4)?
        }
        (Compute::Int8, Op::Dense { .. }) => in_len.checked_mul(2)?,
        (Compute::Int8, Op::Conv2d(p)) => {
            let g = geometry(p);
            g.out_plane().checked_mul(g.patch_len())?.checked_mul(2)?
        }
        (Compute::Int8, Op::ConvTranspose2d(p)) => int8::conv_transpose2d_temp(&geometry(p))?,
        _ => 0,
    };
    Some(bytes)
}
