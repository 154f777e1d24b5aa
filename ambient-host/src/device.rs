//! The compute device: `--device auto|cpu|cuda`.

use tch::{Cuda, Device};

/// A requested device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    /// The first CUDA device when one is usable, the CPU otherwise.
    Auto,
    /// The CPU.
    Cpu,
    /// The first CUDA device; an error when none is usable.
    Cuda,
}

/// An error choosing the requested device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// CUDA was requested, but libtorch finds no CUDA device.
    #[error(
        "--device cuda was requested, but libtorch sees no CUDA device; run \
         `ambient-host doctor` to see why, or use --device cpu"
    )]
    NoCuda,
}

/// Returns the device for `choice`.
pub fn resolve(choice: DeviceChoice) -> Result<Device, DeviceError> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
        DeviceChoice::Cuda if Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceChoice::Cuda => Err(DeviceError::NoCuda),
    }
}

/// Returns the device's name as the configuration stores it (`cpu`, `cuda:0`).
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}
