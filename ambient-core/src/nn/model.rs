//! A parsed generator: the layer table borrowing the weight bytes, its scratch plan, and
//! the batch entry points.

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use super::plan::{layer_temp_bytes, plan, Plan, SCRATCH_ALIGN};
use super::{forward, forward_int8, InferError};
use crate::format::reader::{self, elements, Header, Layer};
use crate::format::{Compute, FormatError, MAX_LAYERS};
use crate::gemm::GemmRoute;
use crate::Shape;

/// A generator read from a weight file: at most [`MAX_LAYERS`] validated layers that
/// borrow their tensors from the file's bytes (flash on a microcontroller). Parsing copies
/// nothing and allocates nothing; the table itself is a fixed-size value (about 28 KB on
/// 64-bit targets). [`Model::parse_into`] builds it in place, in memory the caller
/// provides, so the stack never contains a copy of it; [`Model::parse`] returns it by value,
/// which moves it through the stack.
#[derive(Clone, Debug)]
pub struct Model<'a> {
    header: Header,
    layers: [Layer<'a>; MAX_LAYERS],
    layer_count: usize,
    plan: Plan,
    route: GemmRoute,
    file_len: usize,
}

/// A checked batch: its size and the labels to use (empty for an unconditional model).
pub(crate) struct Batch<'l> {
    pub(crate) size: usize,
    pub(crate) labels: &'l [u32],
}

impl<'a> Model<'a> {
    /// Parses and validates a weight file (see `docs/weight-format.md`). The bytes may have
    /// any alignment; 16-byte-aligned bytes let f32 weights be read as slices, which is
    /// faster.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FormatError> {
        let mut slot = MaybeUninit::uninit();
        Self::parse_into(bytes, &mut slot)?;
        // SAFETY: `parse_into` returned `Ok`, so it initialised every field.
        Ok(unsafe { slot.assume_init() })
    }

    /// Parses and validates a weight file as [`Model::parse`] does, building the model in
    /// `slot` without a copy of it on the stack, and returns it. On error `slot` stays
    /// uninitialised as far as the caller knows (its bytes may have changed).
    pub fn parse_into<'s>(
        bytes: &'a [u8],
        slot: &'s mut MaybeUninit<Self>,
    ) -> Result<&'s mut Self, FormatError> {
        let model = slot.as_mut_ptr();
        // SAFETY: `model` points at writable memory for a `Model`. Each layer is written
        // through a raw pointer before the array is used as a reference, so no reference to
        // uninitialised memory is made.
        let layers = unsafe {
            let layers = addr_of_mut!((*model).layers).cast::<Layer<'a>>();
            for k in 0..MAX_LAYERS {
                layers.add(k).write(Layer::EMPTY);
            }
            &mut *addr_of_mut!((*model).layers)
        };
        let (header, layer_count) = reader::parse_into(bytes, layers)?;
        for (k, layer) in layers[..layer_count].iter().enumerate() {
            if layer_temp_bytes(layer, header.compute, 1).is_none() {
                return Err(FormatError::SizeOverflow { layer: k });
            }
        }
        let plan = plan(&layers[..layer_count], header.latent);
        // SAFETY: as above; these writes initialise the remaining fields.
        unsafe {
            addr_of_mut!((*model).header).write(header);
            addr_of_mut!((*model).layer_count).write(layer_count);
            addr_of_mut!((*model).plan).write(plan);
            addr_of_mut!((*model).route).write(GemmRoute::default());
            addr_of_mut!((*model).file_len).write(bytes.len());
        }
        // SAFETY: every field is initialised.
        Ok(unsafe { slot.assume_init_mut() })
    }

    /// Returns the file header: compute mode, value range, latent size, classes, output.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Returns the layers in execution order.
    pub fn layers(&self) -> &[Layer<'a>] {
        &self.layers[..self.layer_count]
    }

    /// Returns the latent size: values of `z` per image.
    pub fn latent(&self) -> usize {
        self.header.latent
    }

    /// Returns the number of classes (0 for an unconditional generator).
    pub fn classes(&self) -> usize {
        self.header.classes
    }

    /// Returns the shape of one generated image.
    pub fn output_shape(&self) -> Shape {
        self.header.output
    }

    /// Returns the number of values of one generated image.
    pub fn output_len(&self) -> usize {
        elements(self.header.output)
    }

    /// Returns the size of the weight file in bytes.
    pub fn file_len(&self) -> usize {
        self.file_len
    }

    /// Returns the f32 GEMM route in use.
    pub fn gemm_route(&self) -> GemmRoute {
        self.route
    }

    /// Chooses the f32 GEMM route ([`GemmRoute::default`] after parsing). The scratch size
    /// does not depend on it.
    pub fn set_gemm_route(&mut self, route: GemmRoute) {
        self.route = route;
    }

    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Returns the alignment, in bytes, that the scratch buffer must start at.
    pub fn scratch_align(&self) -> usize {
        SCRATCH_ALIGN
    }

    /// Returns the number of scratch bytes [`Model::generate`] needs for `batch` images:
    /// every live activation of the batch and the largest layer's working memory (im2col
    /// matrices, GEMM packing buffers, int8 accumulators). Both GEMM routes use the same
    /// size, so it includes packing buffers the `MatrixMultiply` route leaves unused.
    pub fn scratch_len(&self, batch: usize) -> Result<usize, InferError> {
        let too_large = InferError::BatchTooLarge { batch };
        let elem = match self.header.compute {
            Compute::Float => 4,
            Compute::Int8 => 1,
        };
        let slots = self
            .plan
            .slots_len
            .checked_mul(batch)
            .and_then(|n| n.checked_mul(elem))
            .ok_or(too_large)?;
        let mut temp = 0usize;
        for layer in self.layers() {
            let t = layer_temp_bytes(layer, self.header.compute, batch).ok_or(too_large)?;
            temp = temp.max(t);
        }
        slots.checked_add(temp).ok_or(too_large)
    }

    /// Generates a batch: `z` holds `batch * latent()` latent values, `labels` one class
    /// index per image for a conditional model (`None` for an unconditional one), and `out`
    /// receives `batch * output_len()` values, image after image, each `[c, h, w]`. Works for
    /// float and int8 models alike (int8 output is dequantised); `scratch` must hold
    /// [`Model::scratch_len`] bytes starting at a multiple of [`Model::scratch_align`].
    pub fn generate(
        &self,
        z: &[f32],
        labels: Option<&[u32]>,
        out: &mut [f32],
        scratch: &mut [u8],
    ) -> Result<(), InferError> {
        let batch = self.check_batch(z, labels)?;
        self.check_out(out.len(), batch.size)?;
        let scratch = self.check_scratch(scratch, batch.size)?;
        match self.header.compute {
            Compute::Float => forward::run(self, z, &batch, scratch, out, &mut |_, _| ()),
            Compute::Int8 => forward_int8::run(self, z, &batch, scratch, &mut |_, _| (), |q| {
                forward_int8::dequantize_into(q, self.last_quant(), out)
            }),
        }
        Ok(())
    }

    /// Generates a batch with an int8 model and returns the raw quantised output (the
    /// values [`Model::generate`] dequantises), bit-identical on every target. The output
    /// quantisation is that of the last layer.
    pub fn generate_quantized(
        &self,
        z: &[f32],
        labels: Option<&[u32]>,
        out: &mut [i8],
        scratch: &mut [u8],
    ) -> Result<(), InferError> {
        if self.header.compute != Compute::Int8 {
            return Err(InferError::WrongCompute);
        }
        let batch = self.check_batch(z, labels)?;
        self.check_out(out.len(), batch.size)?;
        let scratch = self.check_scratch(scratch, batch.size)?;
        forward_int8::run(self, z, &batch, scratch, &mut |_, _| (), |q| {
            out.copy_from_slice(q)
        });
        Ok(())
    }

    /// Runs a float model on a batch and passes every value to `observe(v, values)` as it is
    /// computed: `v` is 0 for the latent input and `k + 1` for the output of layer `k`, and
    /// `values` contains that value for the whole batch, image after image.
    pub fn trace(
        &self,
        z: &[f32],
        labels: Option<&[u32]>,
        scratch: &mut [u8],
        observe: &mut dyn FnMut(usize, &[f32]),
    ) -> Result<(), InferError> {
        if self.header.compute != Compute::Float {
            return Err(InferError::WrongCompute);
        }
        let batch = self.check_batch(z, labels)?;
        let scratch = self.check_scratch(scratch, batch.size)?;
        forward::run(self, z, &batch, scratch, &mut [], observe);
        Ok(())
    }

    /// Runs an int8 model on a batch and passes every quantised value to `observe(v,
    /// values)` as it is computed, numbered as in [`Model::trace`]. Value `v` has the
    /// quantisation of [`Header::input_quant`] for `v = 0` and of layer `v - 1`'s
    /// `out_quant` otherwise. A 16-bit latent is quantised inside the dense layers that read
    /// it, so value 0 is observed only for an 8-bit latent.
    pub fn trace_quantized(
        &self,
        z: &[f32],
        labels: Option<&[u32]>,
        scratch: &mut [u8],
        observe: &mut dyn FnMut(usize, &[i8]),
    ) -> Result<(), InferError> {
        if self.header.compute != Compute::Int8 {
            return Err(InferError::WrongCompute);
        }
        let batch = self.check_batch(z, labels)?;
        let scratch = self.check_scratch(scratch, batch.size)?;
        forward_int8::run(self, z, &batch, scratch, observe, |_| ());
        Ok(())
    }

    /// Runs a float model on a calibration batch and records the minimum and maximum of
    /// every value: `ranges[0]` for the latent input, `ranges[k + 1]` for the output of
    /// layer `k`, so `ranges` holds `layers().len() + 1` pairs. The exporter chooses int8
    /// activation parameters from them.
    pub fn calibrate(
        &self,
        z: &[f32],
        labels: Option<&[u32]>,
        scratch: &mut [u8],
        ranges: &mut [(f32, f32)],
    ) -> Result<(), InferError> {
        if self.header.compute != Compute::Float {
            return Err(InferError::WrongCompute);
        }
        let batch = self.check_batch(z, labels)?;
        let expected = self.layer_count + 1;
        if ranges.len() != expected {
            return Err(InferError::LengthMismatch {
                what: "ranges",
                expected,
                actual: ranges.len(),
            });
        }
        let scratch = self.check_scratch(scratch, batch.size)?;
        ranges.fill((f32::INFINITY, f32::NEG_INFINITY));
        let mut sink = [0.0f32; 0];
        forward::run(self, z, &batch, scratch, &mut sink, &mut |v, values| {
            for &x in values {
                ranges[v].0 = ranges[v].0.min(x);
                ranges[v].1 = ranges[v].1.max(x);
            }
        });
        Ok(())
    }

    fn last_quant(&self) -> crate::format::QuantParams {
        self.layers[self.layer_count - 1].out_quant
    }

    fn check_batch<'l>(
        &self,
        z: &[f32],
        labels: Option<&'l [u32]>,
    ) -> Result<Batch<'l>, InferError> {
        let latent = self.header.latent;
        if z.is_empty() || z.len() % latent != 0 {
            return Err(InferError::InvalidLatentLength {
                len: z.len(),
                latent,
            });
        }
        let size = z.len() / latent;
        let classes = self.header.classes;
        let labels = match (classes, labels) {
            (0, None) => &[][..],
            (0, Some(_)) => return Err(InferError::UnexpectedLabels),
            (_, None) => return Err(InferError::MissingLabels),
            (_, Some(l)) => l,
        };
        if classes > 0 && labels.len() != size {
            return Err(InferError::LengthMismatch {
                what: "labels",
                expected: size,
                actual: labels.len(),
            });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            return Err(InferError::LabelOutOfRange {
                index,
                label,
                classes,
            });
        }
        Ok(Batch { size, labels })
    }

    fn check_out(&self, len: usize, batch: usize) -> Result<(), InferError> {
        let expected = self
            .output_len()
            .checked_mul(batch)
            .ok_or(InferError::BatchTooLarge { batch })?;
        if len != expected {
            return Err(InferError::LengthMismatch {
                what: "out",
                expected,
                actual: len,
            });
        }
        Ok(())
    }

    fn check_scratch<'s>(
        &self,
        scratch: &'s mut [u8],
        batch: usize,
    ) -> Result<&'s mut [u8], InferError> {
        let needed = self.scratch_len(batch)?;
        if scratch.len() < needed {
            return Err(InferError::ScratchTooSmall {
                needed,
                actual: scratch.len(),
            });
        }
        if scratch.as_ptr().align_offset(SCRATCH_ALIGN) != 0 {
            return Err(InferError::ScratchMisaligned {
                align: SCRATCH_ALIGN,
            });
        }
        Ok(&mut scratch[..needed])
    }
}
