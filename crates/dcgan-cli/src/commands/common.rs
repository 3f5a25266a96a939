//! Argument groups several commands share, flattened into their argument structs.

use std::path::PathBuf;

use clap::Args;

/// A trained model on a compute device.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    #[command(flatten)]
    pub device: DeviceArg,
}

impl ModelArgs {
    pub fn input(&self) -> dcgan::tasks::explore::Input {
        dcgan::tasks::explore::Input {
            checkpoint: self.checkpoint.clone(),
            device: self.device.device.clone(),
        }
    }
}

/// The compute device.
#[derive(Args, Clone, Debug)]
pub struct DeviceArg {
    /// Compute device: flex (CPU), or cuda / cuda:N / wgpu when built with those features.
    #[arg(long, default_value = "flex")]
    pub device: String,
}

/// Machine-readable output.
#[derive(Args, Clone, Copy, Debug)]
pub struct JsonArg {
    /// Print the report as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}
