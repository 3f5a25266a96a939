//! `dcgan import-torch` and `dcgan export-torch`: pytorch/examples' DCGAN state dicts
//! (safetensors) in and out.

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
