//! Writing a [`FloatModel`] as a weight file through the core's writer: f32, f16 weights,
//! or int8 through the core's post-training quantisation.

use ambient_core::format::quantize::quantize_model;
use ambient_core::format::writer::{encoded_len, write, LayerSpec, ModelSpec, TensorData};
use ambient_core::format::{Compute, Op, QuantParams};
use ambient_core::nn::{GemmRoute, Model};

use super::calibrate::narrow_ranges;
use super::generate::Scratch;
use super::latents::Latents;
use super::lower::FloatModel;
use super::ExportError;

/// The storage and compute type of an exported model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
#[non_exhaustive]
pub enum WeightDtype {
    /// f32 weights, f32 compute: the trained model to float rounding.
    F32,
    /// f16 weights of the dense and convolution layers (half the bytes), f32 compute.
    F16,
    /// int8 weights and activations, i32 accumulation (the TensorFlow Lite convention).
    Int8,
}

impl WeightDtype {
    /// Returns the command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Int8 => "int8",
        }
    }
}

impl FloatModel {
    /// Writes the model as a float weight file; with `f16`, the dense and convolution
    /// weights are stored as f16 (biases and batch-norm tables stay f32, as the format
    /// requires).
    pub fn to_bytes(&self, f16: bool) -> Result<Vec<u8>, ExportError> {
        let specs: Vec<LayerSpec<'_>> = self
            .layers
            .iter()
            .map(|layer| {
                let heavy = matches!(
                    layer.op,
                    Op::Dense { .. } | Op::Conv2d(_) | Op::ConvTranspose2d(_)
                );
                let mut tensors = [None; 4];
                for (slot, data) in tensors.iter_mut().zip(&layer.tensors) {
                    *slot = data.as_deref().map(TensorData::F32);
                }
                if let (true, true, Some(weight)) = (f16, heavy, &layer.tensors[0]) {
                    tensors[0] = Some(TensorData::F16(weight));
                }
                LayerSpec::new(layer.op, tensors).reading(layer.input)
            })
            .collect();
        let spec = ModelSpec {
            compute: Compute::Float,
            range: self.range,
            latent: self.latent,
            classes: self.classes,
            input_quant: QuantParams::NONE,
            layers: &specs,
        };
        let mut bytes = vec![0u8; encoded_len(&spec)?];
        write(&spec, &mut bytes)?;
        Ok(bytes)
    }

    /// Writes the model as a weight file of `dtype`. int8 activation ranges come from
    /// running the f32 model in the core on `calibration`.
    pub fn encode(
        &self,
        dtype: WeightDtype,
        calibration: &Latents,
    ) -> Result<Vec<u8>, ExportError> {
        match dtype {
            WeightDtype::F32 => self.to_bytes(false),
            WeightDtype::F16 => self.to_bytes(true),
            WeightDtype::Int8 => self.quantize(calibration),
        }
    }

    fn quantize(&self, calibration: &Latents) -> Result<Vec<u8>, ExportError> {
        let float = self.to_bytes(false)?;
        let mut model = Model::parse(&float)?;
        // The crate's own kernel, not `matrixmultiply`, whose kernel choice depends on the
        // CPU: the calibration ranges, and so the int8 file, then depend only on the
        // weights and the calibration batch.
        model.set_gemm_route(GemmRoute::Blocked);
        let mut ranges = vec![(0.0f32, 0.0f32); model.layers().len() + 1];
        let mut scratch = Scratch::for_model(&model, calibration.count)?;
        model.calibrate(
            &calibration.z,
            calibration.labels.as_deref(),
            scratch.bytes(),
            &mut ranges,
        )?;
        narrow_ranges(model.layers(), &mut ranges);
        Ok(quantize_model(&model, &ranges)?.to_bytes()?)
    }
}
