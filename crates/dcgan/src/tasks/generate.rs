//! `dcgan generate`: G on latents from a `.npy` file, written as raw output (`.npy`) or PNGs.

use std::path::PathBuf;

use serde::Serialize;

use super::Events;
use crate::Result;
use crate::checkpoint::Checkpoint;

use crate::model::BnMode;

/// G's output for latents from a `.npy` file.
#[derive(Clone, Debug)]
pub struct GenerateConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// `.npy` of shape (N, nz) or (N, nz, 1, 1), float32 or float64.
    pub latents: PathBuf,
    /// A class-conditional model's class for each latent: `.npy` of N integers (required for
    /// such a model, refused for another).
    pub labels: Option<PathBuf>,
    /// `out.npy`: float32 (N, nc, H, W) in [−1, 1]; a folder (ends in `/` or exists): PNGs.
    pub out: PathBuf,
    /// Which statistics BatchNorm uses (running ones by default).
    pub batch_norm: BnMode,
    /// The compute device.
    pub device: String,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self {
            checkpoint: PathBuf::new(),
            latents: PathBuf::new(),
            labels: None,
            out: PathBuf::new(),
            batch_norm: BnMode::Eval,
            device: "flex".into(),
        }
    }
}

/// What `generate` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct GenerateReport {
    /// Images made.
    pub n: usize,
    /// Where they went.
    pub out: PathBuf,
    /// `npy` or `png`.
    pub format: &'static str,
}

/// G's images of given latents, as `.npy` or PNGs.
pub fn generate(c: GenerateConfig, _events: &mut dyn Events) -> Result<GenerateReport> {
    let device = crate::device::by_name(&c.device)?;
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    let m = ckpt.model().clone();
    let (n, images) = crate::sample::generate_from_file(
        &ckpt,
        &c.latents,
        c.labels.as_deref(),
        c.batch_norm,
        &device,
    )?;
    let as_dir = c.out.to_string_lossy().ends_with('/') || c.out.is_dir();
    if as_dir {
        crate::sample::save_pngs(&c.out, &images, n, m.channels, m.image_size)?;
    } else {
        super::make_parent(&c.out)?;
        crate::sample::save_npy(&c.out, &images, n, m.channels, m.image_size)?;
    }
    Ok(GenerateReport {
        n,
        out: c.out,
        format: if as_dir { "png" } else { "npy" },
    })
}
