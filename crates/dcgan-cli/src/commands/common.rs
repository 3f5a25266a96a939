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

/// `--fid-mode`: how images are prepared for Inception, named as clean-fid names the modes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FidModeArg {
    /// pytorch-fid's: PyTorch's bilinear resize, then 2x − 1. The default: the implementation
    /// most published PyTorch figures come from
    #[value(name = "legacy_pytorch")]
    LegacyPytorch,
    /// clean-fid's default: PIL's bicubic filter on float channels, then (x − 128)/128
    #[value(name = "clean")]
    Clean,
    /// The TensorFlow metric code's (TTUR, StyleGAN): TensorFlow 1's bilinear resize, then
    /// (x − 128)/128
    #[value(name = "legacy_tensorflow")]
    LegacyTensorflow,
    /// This project's before the modes: PyTorch's bilinear resize, then (x − 128)/128; for
    /// comparing with figures measured before
    #[value(name = "legacy_dcgan")]
    LegacyDcgan,
}

impl From<FidModeArg> for dcgan::config::FidMode {
    fn from(m: FidModeArg) -> Self {
        use dcgan::config::FidMode;
        match m {
            FidModeArg::LegacyPytorch => FidMode::LegacyPytorch,
            FidModeArg::Clean => FidMode::Clean,
            FidModeArg::LegacyTensorflow => FidMode::LegacyTensorflow,
            FidModeArg::LegacyDcgan => FidMode::LegacyDcgan,
        }
    }
}
