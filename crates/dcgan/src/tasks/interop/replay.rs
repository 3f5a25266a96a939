//! `dcgan replay`: training on given batches and latents from a checkpoint, nothing random, to
//! compare the trajectory with PyTorch's.

use std::path::PathBuf;

use serde::Serialize;

use super::{load_with_discriminator, read_real};
use crate::Result;
use crate::tasks::{Event, Events};

#[derive(Clone, Debug)]
/// `interop replay`: training iterations on given batches, for comparison with PyTorch.
pub struct ReplayConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file, with a discriminator.
    pub checkpoint: PathBuf,
    /// Every iteration's real batch, in order: `.npy` of shape (K·B, channels, size, size) in
    /// [−1, 1].
    pub real: PathBuf,
    /// Every iteration's latents, in the same order: `.npy` of shape (K·B, nz) or (K·B, nz, 1, 1).
    pub latent: PathBuf,
    /// B, the batch size of one iteration.
    pub batch_size: usize,
    /// Folder for `steps.jsonl`, `netG.safetensors` and `netD.safetensors`.
    pub out: PathBuf,
    /// `flex` (CPU) unless told otherwise.
    pub device: String,
}

impl ReplayConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        crate::tasks::at_least_one("batch size", self.batch_size)
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `interop replay` wrote.
pub struct ReplayReport {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// Iterations run.
    pub steps: usize,
    /// The last iteration's measurements.
    pub last: crate::train::StepStats,
}

/// Train from a checkpoint's weights on given batches and latents, with nothing random
/// (`interop::torch_replay`), to compare the trajectory with another implementation's.
pub fn replay(c: ReplayConfig, events: &mut dyn Events) -> Result<ReplayReport> {
    c.validate()?;
    let ckpt = load_with_discriminator(&c.checkpoint, "replays")?;
    let m = ckpt.model();
    let real = read_real(&c.real, m)?;
    let (n_z, z) = crate::io::npy::read_latents(&c.latent, m.latent_dim)?;
    let n = real.shape[0];
    if n % c.batch_size != 0 {
        return Err(crate::Error::format(
            &c.real,
            format!(
                "holds {n} images, not a whole number of batches of {}",
                c.batch_size
            ),
        ));
    }
    if n_z != n {
        return Err(crate::Error::format(
            &c.latent,
            format!(
                "holds {n_z} latents; {} holds {n} images, one latent each",
                c.real.display()
            ),
        ));
    }
    let device = crate::device::by_name(&c.device)?;
    let total = (n / c.batch_size) as u64;
    events.emit(Event::Begin {
        what: "iterations".into(),
        total,
    });
    let files = crate::interop::torch_replay(
        &ckpt,
        &real,
        &z,
        c.batch_size,
        &device,
        &c.out,
        |done, _| events.emit(Event::Progress { done, total }),
    )?;
    events.emit(Event::End);
    Ok(ReplayReport {
        written: files.written,
        steps: files.steps.len(),
        last: files.steps.last().copied().unwrap_or_default(),
    })
}
