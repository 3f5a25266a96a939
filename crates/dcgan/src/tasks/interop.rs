//! `dcgan import-torch` and `dcgan export-torch`: pytorch/examples' DCGAN state dicts
//! (safetensors) in and out; `dcgan grads`: both half-steps' gradients in the same layout, to
//! compare with PyTorch's.

use std::path::PathBuf;

use serde::Serialize;

use super::{Event, Events};
use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::config::ModelConfig;

#[derive(Clone, Debug)]
pub struct ImportConfig {
    /// The generator's state dict (keys `main.N.*`).
    pub generator: PathBuf,
    /// The discriminator's, if there is one.
    pub discriminator: Option<PathBuf>,
    /// The architecture the state dicts were saved from: pytorch/examples' defaults
    /// (64×64 RGB, nz 100, ngf = ndf = 64) unless told otherwise.
    pub model: ModelConfig,
    /// The checkpoint file to write.
    pub out: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub checkpoint: PathBuf,
    pub with_discriminator: bool,
}

pub fn import(c: ImportConfig, _events: &mut dyn Events) -> Result<ImportReport> {
    crate::interop::import_torch(&c.model, &c.generator, c.discriminator.as_deref(), &c.out)?;
    Ok(ImportReport {
        checkpoint: c.out,
        with_discriminator: c.discriminator.is_some(),
    })
}

#[derive(Clone, Debug)]
pub struct ExportTorchConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// Folder for `netG.safetensors` and `netD.safetensors`.
    pub out: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportTorchReport {
    pub written: Vec<PathBuf>,
}

pub fn export(c: ExportTorchConfig, _events: &mut dyn Events) -> Result<ExportTorchReport> {
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    Ok(ExportTorchReport {
        written: crate::interop::export_torch(&ckpt, &c.out)?,
    })
}

#[derive(Clone, Debug)]
pub struct GradsConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file, with a discriminator.
    pub checkpoint: PathBuf,
    /// The real batch, `.npy` of shape (N, channels, size, size) in [−1, 1].
    pub real: PathBuf,
    /// The latents, `.npy` of shape (N, nz) or (N, nz, 1, 1).
    pub latent: PathBuf,
    /// Folder for `grads_d.safetensors`, `grads_g.safetensors` and `losses.json`.
    pub out: PathBuf,
    /// `flex` (CPU) unless told otherwise.
    pub device: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct GradsReport {
    pub written: Vec<PathBuf>,
    /// BCE(D(x), 1).
    pub err_d_real: f32,
    /// BCE(D(G(z)), 0).
    pub err_d_fake: f32,
    /// BCE(D(G(z)), 1), through the same D.
    pub err_g: f32,
    /// Mean D(x) and D(G(z)).
    pub d_real: f32,
    pub d_fake: f32,
}

/// A checkpoint that holds D as well as G: gradients and replays need both networks.
fn load_with_discriminator(path: &std::path::Path, what: &str) -> Result<Checkpoint> {
    let ckpt = Checkpoint::load(path)?;
    if !ckpt.has_discriminator() {
        return Err(crate::Error::Data(format!(
            "{}: holds no discriminator; {what} need both networks",
            ckpt.path.display()
        )));
    }
    Ok(ckpt)
}

/// Real images from `.npy`: shape (N, channels, size, size) for the checkpoint's model, N ≥ 1,
/// every value finite.
fn read_real(path: &std::path::Path, m: &ModelConfig) -> Result<crate::io::HostTensor> {
    let real = crate::io::npy::read(path)?;
    let want = [m.channels, m.image_size, m.image_size];
    if real.shape.len() != 4 || real.shape[0] == 0 || real.shape[1..] != want {
        return Err(crate::Error::format(
            path,
            format!(
                "has shape {:?}; the checkpoint's model needs (N, {}, {}, {}) with N ≥ 1",
                real.shape, want[0], want[1], want[2]
            ),
        ));
    }
    if let Some(i) = real.data.iter().position(|v| !v.is_finite()) {
        return Err(crate::Error::format(
            path,
            format!("value {} at index {i} is not finite", real.data[i]),
        ));
    }
    Ok(real)
}

/// Both half-steps' gradients at a checkpoint's weights (`interop::torch_gradients`).
pub fn grads(c: GradsConfig, _events: &mut dyn Events) -> Result<GradsReport> {
    let ckpt = load_with_discriminator(&c.checkpoint, "gradients")?;
    let m = ckpt.model();
    let real = read_real(&c.real, m)?;
    let (n_z, z) = crate::io::npy::read_latents(&c.latent, m.latent_dim)?;
    let device = crate::device::by_name(&c.device)?;
    let files = crate::interop::torch_gradients(&ckpt, &real, &z, n_z, &device, &c.out)?;
    let s = files.stats;
    Ok(GradsReport {
        written: files.written,
        err_d_real: s.loss_d_real,
        err_d_fake: s.loss_d_fake,
        err_g: s.loss_g,
        d_real: s.d_real,
        d_fake: s.d_fake,
    })
}

#[derive(Clone, Debug)]
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
    pub fn validate(&self) -> Result<()> {
        super::at_least_one("batch size", self.batch_size)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    pub written: Vec<PathBuf>,
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
