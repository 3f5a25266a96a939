//! `dcgan import-torch`: pytorch/examples' DCGAN state dicts (safetensors) into a checkpoint.

use std::path::PathBuf;

use serde::Serialize;

use crate::Result;
use crate::config::ModelConfig;
use crate::tasks::Events;

#[derive(Clone, Debug)]
/// `import-torch`: pytorch/examples state dicts as a checkpoint.
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
/// What `import-torch` wrote.
pub struct ImportReport {
    /// The checkpoint written.
    pub checkpoint: PathBuf,
    /// Whether it holds a discriminator.
    pub with_discriminator: bool,
}

/// Read pytorch/examples state dicts and write a checkpoint that `sample`, `fid` and the §6 tools
/// read.
pub fn import(c: ImportConfig, _events: &mut dyn Events) -> Result<ImportReport> {
    crate::interop::import_torch(&c.model, &c.generator, c.discriminator.as_deref(), &c.out)?;
    Ok(ImportReport {
        checkpoint: c.out,
        with_discriminator: c.discriminator.is_some(),
    })
}
