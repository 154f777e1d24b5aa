//! `ambient-host doctor`.

use std::path::PathBuf;

use ambient_host::device::DeviceChoice;
use ambient_host::doctor::diagnose;

/// Options of `doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The device to check, as `train --device` would choose it.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// Another data folder to check (repeatable), besides the built-in ones.
    #[arg(long, value_name = "DIR")]
    data: Vec<PathBuf>,
}

/// Prints the report.
pub fn run(args: DoctorArgs) -> anyhow::Result<()> {
    super::set_threads(None);
    print!("{}", diagnose(args.device, &args.data));
    Ok(())
}
