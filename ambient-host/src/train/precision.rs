//! The arithmetic of the training forward passes (`--precision`).
//!
//! With [`Precision::Bf16`] the forward passes of the generator and the discriminator run
//! under libtorch's CPU autocast, the mechanism behind PyTorch's
//! `torch.autocast("cpu", dtype=torch.bfloat16)`: convolutions and matrix products take
//! bf16 copies of their inputs and weights and return bf16, which the element-wise layers
//! after them keep. The weights, the optimisers' state, the models' outputs, the losses,
//! the gradient penalty's norm and every measurement are f32. The gradient penalty's
//! input gradient is taken inside the scope, and the updates' backward passes outside it,
//! in the types the forward pass recorded.
//!
//! On an AMD EPYC with AVX512-BF16, the median step of the paper's critic with the CPU
//! preset's generator took 1.6 (one thread) to 1.8 (two threads) times less time than in
//! f32 (`ambient-bench --only recipe`). The cost is the rounding of the products' inputs
//! to 8 bits of mantissa.

use std::ffi::c_int;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use tch::Device;

use super::TrainError;

/// The arithmetic of the training forward passes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Precision {
    /// Everything in f32.
    #[default]
    F32,
    /// Convolutions and matrix products in bf16 under CPU autocast; weights, optimiser
    /// state, losses and measurements in f32.
    Bf16,
}

impl Precision {
    /// Returns the command-line and config.json name.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }

    /// Returns an error unless training on `device` can use this precision: bf16 is built
    /// on the CPU's autocast only.
    pub fn check_device(self, device: Device) -> Result<(), TrainError> {
        if self == Self::Bf16 && device != Device::Cpu {
            return Err(TrainError::InvalidOption {
                option: "--precision",
                reason: "bf16 is implemented for training on the CPU only; pass \
                         --precision f32 or --device cpu"
                    .into(),
            });
        }
        Ok(())
    }
}

extern "C" {
    fn ambient_autocast_cpu_enter() -> c_int;
    fn ambient_autocast_cpu_exit(was_enabled: c_int) -> c_int;
}

/// An open autocast scope on this thread for the forward passes of one update; dropping it
/// closes the scope and restores the state from before. With [`Precision::F32`] it does
/// nothing.
///
/// Autocast is a property of the thread, so the scope cannot move to another one.
#[derive(Debug)]
pub struct Autocast {
    was_enabled: Option<c_int>,
    not_send: PhantomData<*const ()>,
}

impl Autocast {
    /// Opens the scope for `precision`.
    pub fn enter(precision: Precision) -> Result<Self, TrainError> {
        let was_enabled = match precision {
            Precision::F32 => None,
            Precision::Bf16 => {
                // SAFETY: the function takes no arguments, catches every C++ exception and
                // only changes this thread's autocast state, which `drop` restores.
                let was = unsafe { ambient_autocast_cpu_enter() };
                if was < 0 {
                    return Err(TrainError::InvalidOption {
                        option: "--precision",
                        reason: "libtorch failed to turn CPU autocast on; pass --precision f32"
                            .into(),
                    });
                }
                Some(was)
            }
        };
        Ok(Self {
            was_enabled,
            not_send: PhantomData,
        })
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        if let Some(was) = self.was_enabled {
            // SAFETY: closes the scope `enter` opened on this thread (the type is not
            // `Send`). Its only failure, an exception from libtorch while restoring a
            // thread-local flag, leaves nothing to undo here.
            unsafe {
                ambient_autocast_cpu_exit(was);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tch::{Kind, Tensor};

    use super::*;

    fn product(x: &Tensor, w: &Tensor) -> Tensor {
        x.matmul(w)
    }

    #[test]
    fn bf16_scope_runs_products_in_bf16_and_closes() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let w = Tensor::ones([3, 4], (Kind::Float, Device::Cpu));

        let inside = {
            let _scope = Autocast::enter(Precision::Bf16).unwrap();
            product(&x, &w)
        };
        assert_eq!(inside.kind(), Kind::BFloat16);
        assert_eq!(product(&x, &w).kind(), Kind::Float);
        assert_eq!(
            inside
                .to_kind(Kind::Float)
                .sum(Kind::Float)
                .double_value(&[]),
            24.0
        );
    }

    #[test]
    fn f32_scope_changes_nothing() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let _scope = Autocast::enter(Precision::F32).unwrap();
        assert_eq!(product(&x, &x.tr()).kind(), Kind::Float);
    }

    #[test]
    fn nested_scopes_restore_the_outer_state() {
        let x = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
        let outer = Autocast::enter(Precision::Bf16).unwrap();
        drop(Autocast::enter(Precision::Bf16).unwrap());
        assert_eq!(product(&x, &x).kind(), Kind::BFloat16);
        drop(outer);
        assert_eq!(product(&x, &x).kind(), Kind::Float);
    }

    /// Autocast caches the bf16 copy of a weight that requires a gradient. A scope that
    /// did not clear the cache on closing would give the next one the stale weight.
    #[test]
    fn scope_sees_weight_changed_in_place() {
        let x = Tensor::ones([1, 2], (Kind::Float, Device::Cpu));
        let mut w = Tensor::ones([2, 1], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let first = {
            let _scope = Autocast::enter(Precision::Bf16).unwrap();
            product(&x, &w).to_kind(Kind::Float).double_value(&[0, 0])
        };
        tch::no_grad(|| {
            let _ = w.fill_(3.0);
        });
        let second = {
            let _scope = Autocast::enter(Precision::Bf16).unwrap();
            product(&x, &w).to_kind(Kind::Float).double_value(&[0, 0])
        };
        assert_eq!((first, second), (2.0, 6.0));
    }

    #[test]
    fn bf16_rejected_off_cpu() {
        assert!(Precision::Bf16.check_device(Device::Cuda(0)).is_err());
        assert!(Precision::Bf16.check_device(Device::Cpu).is_ok());
        assert!(Precision::F32.check_device(Device::Cuda(0)).is_ok());
    }
}
