//! `dcgan export-torch`: a checkpoint's networks as pytorch/examples' state dicts.

use std::path::PathBuf;

use serde::Serialize;

use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::tasks::Events;

#[derive(Clone, Debug)]
/// `interop export-torch`: a checkpoint as PyTorch state dicts.
pub struct ExportTorchConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// Folder for `netG.safetensors` and `netD.safetensors`.
    pub out: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
/// What `interop export-torch` wrote.
pub struct ExportTorchReport {
    /// The files written.
    pub written: Vec<PathBuf>,
}

/// Write G's and D's weights as pytorch/examples state dicts (safetensors).
pub fn export(c: ExportTorchConfig, _events: &mut dyn Events) -> Result<ExportTorchReport> {
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    Ok(ExportTorchReport {
        written: crate::interop::export_torch(&ckpt, &c.out)?,
    })
}
