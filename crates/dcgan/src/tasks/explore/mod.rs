//! The paper's §6 tools as tasks, one file each: [`interpolate`] (Fig. 4), [`arithmetic`]
//! (Figs. 7, 8), [`visualize_d`] (Fig. 5), [`forget`] (Fig. 6) and [`neighbours`] (the
//! memorisation check). Each writes its figure and reports what it computed; this module holds
//! what they share.

mod arithmetic;
mod forget;
mod interpolate;
mod neighbours;
mod visualize_d;

pub use arithmetic::*;
pub use forget::*;
pub use interpolate::*;
pub use neighbours::*;
pub use visualize_d::*;

use std::path::{Path, PathBuf};

use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Transform};
use crate::device::Device;
use crate::{Error, Result};

/// What every §6 tool starts from: a checkpoint on a device.
#[derive(Clone, Debug)]
pub struct Input {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// Device to run on: `flex` (the CPU), `cuda`, `cuda:N` or `wgpu`.
    pub device: String,
}

impl Default for Input {
    fn default() -> Self {
        Self {
            checkpoint: PathBuf::new(),
            device: "flex".into(),
        }
    }
}

impl Input {
    fn open(&self) -> Result<(Checkpoint, Device)> {
        let device = crate::device::by_name(&self.device)?;
        Ok((Checkpoint::load(&self.checkpoint)?, device))
    }
}

/// Rows `indices` of a sheet of latents (`count × dim`).
fn rows_of(sheet: &[f32], dim: usize, indices: &[usize]) -> Vec<f32> {
    indices
        .iter()
        .flat_map(|&i| sheet[i * dim..(i + 1) * dim].to_vec())
        .collect()
}

/// The latents of a sheet written by `dcgan sample --save-latents`.
fn read_sheet(path: &Path, latent_dim: usize) -> Result<Vec<f32>> {
    Ok(crate::io::npy::read_latents(path, latent_dim)?.1)
}

/// A dataset item prepared as the model sees it.
fn prepared(ds: &dyn Dataset, item: usize, t: Transform) -> Result<Vec<f32>> {
    let img = ds.get(item).map_err(|e| Error::Data(e.to_string()))?;
    Ok(t.apply(&img))
}
