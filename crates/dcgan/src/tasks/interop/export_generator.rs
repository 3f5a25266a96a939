//! `dcgan export-generator`: a checkpoint's generator alone, the file to publish a trained model
//! as (the repository's `models/` holds such files).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, IoContext};
use crate::tasks::Events;

#[derive(Clone, Debug)]
/// `dcgan export-generator`: a checkpoint without D and the optimisers.
pub struct ExportGeneratorConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// The checkpoint file to write.
    pub out: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
/// What `dcgan export-generator` wrote.
pub struct ExportGeneratorReport {
    /// The checkpoint read.
    pub source: PathBuf,
    /// The file written.
    pub written: PathBuf,
    /// The training step of the checkpoint.
    pub step: u64,
    /// Whether the averaged G (`--ema-decay`) is in the file beside the trained one.
    pub averaged: bool,
    /// The sizes of the source and of the file written, in bytes.
    pub source_bytes: u64,
    /// See `source_bytes`.
    pub bytes: u64,
}

/// Write the checkpoint's G (and its average, if any) with the run's config and counters: it
/// samples, scores and exports as the source does, to the bit, and cannot be resumed.
pub fn export_generator(
    c: ExportGeneratorConfig,
    _events: &mut dyn Events,
) -> Result<ExportGeneratorReport> {
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    if same_file(&ckpt.path, &c.out) {
        return Err(Error::config(
            "--out",
            c.out.display(),
            "is the checkpoint being read; write the generator to another file",
        ));
    }
    let bytes = ckpt.generator_only();
    super::write(&c.out, &bytes)?;
    Ok(ExportGeneratorReport {
        source_bytes: std::fs::metadata(&ckpt.path).at(&ckpt.path)?.len(),
        source: ckpt.path.clone(),
        written: c.out,
        step: ckpt.state.step,
        averaged: ckpt.has_average(),
        bytes: bytes.len() as u64,
    })
}

/// Whether `out` names the file `source` (through links or `..`); false when `out` does not exist.
fn same_file(source: &Path, out: &Path) -> bool {
    match (source.canonicalize(), out.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
