//! `dcgan import-torch` and `dcgan export-torch`: pytorch/examples' DCGAN state dicts
//! (safetensors) in and out; `dcgan grads`: both half-steps' gradients in the same layout, to
//! compare with PyTorch's.

use std::path::PathBuf;

use serde::Serialize;

use super::Events;
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
pub struct ExportConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// Folder for `netG.safetensors` and `netD.safetensors`.
    pub out: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    pub written: Vec<PathBuf>,
}

pub fn export(c: ExportConfig, _events: &mut dyn Events) -> Result<ExportReport> {
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    Ok(ExportReport {
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

/// Both half-steps' gradients at a checkpoint's weights (`interop::torch_gradients`).
pub fn grads(c: GradsConfig, _events: &mut dyn Events) -> Result<GradsReport> {
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    if !ckpt.has_discriminator() {
        return Err(crate::Error::Data(format!(
            "{}: holds no discriminator; gradients need both networks",
            ckpt.path.display()
        )));
    }
    let m = ckpt.model();
    let real = crate::io::npy::read(&c.real)?;
    let want = [m.channels, m.image_size, m.image_size];
    if real.shape.len() != 4 || real.shape[0] == 0 || real.shape[1..] != want {
        return Err(crate::Error::format(
            &c.real,
            format!(
                "has shape {:?}; the checkpoint's model needs (N, {}, {}, {}) with N ≥ 1",
                real.shape, want[0], want[1], want[2]
            ),
        ));
    }
    if let Some(i) = real.data.iter().position(|v| !v.is_finite()) {
        return Err(crate::Error::format(
            &c.real,
            format!("value {} at index {i} is not finite", real.data[i]),
        ));
    }
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
