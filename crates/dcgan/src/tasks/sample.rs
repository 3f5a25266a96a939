//! `dcgan sample`: a grid of samples from a trained generator.

use std::path::PathBuf;

use serde::Serialize;

use super::{Events, MAX_IMAGES, at_least_one, at_most};
use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::io::{HostTensor, npy};
use crate::model::BnMode;
use crate::sample::ClassChoice;

/// A grid of samples from a trained generator.
#[derive(Clone, Debug)]
pub struct SampleConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// The PNG grid to write.
    pub out: PathBuf,
    /// 64: the 8×8 grid of pytorch/examples' and the paper's figures.
    pub n: usize,
    /// Seed of the latents (0: any fixed seed would do; the same seed draws the same sheet).
    pub seed: u64,
    /// Also save the latents as `.npy` (N, nz) for `generate`, interpolation, arithmetic.
    pub save_latents: Option<PathBuf>,
    /// Images per row; 0: a square grid.
    pub per_row: usize,
    /// A class-conditional model: draw every image of this class. None: one row per class,
    /// `per_row` latents (0: ⌈√n⌉) shown in every class.
    pub class: Option<usize>,
    /// Running statistics (inference mode): each image depends on its own latent only.
    pub batch_norm: BnMode,
    /// The compute device.
    pub device: String,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            checkpoint: PathBuf::new(),
            out: PathBuf::new(),
            n: 64,
            seed: 0,
            save_latents: None,
            per_row: 0,
            class: None,
            batch_norm: BnMode::Eval,
            device: "flex".into(),
        }
    }
}

impl SampleConfig {
    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        at_least_one("sample count", self.n)?;
        at_most("sample count", self.n, MAX_IMAGES, "one grid")?;
        if self.batch_norm != BnMode::Eval {
            super::at_least("sample count", self.n, 2)?;
        }
        at_most("images per row", self.per_row, MAX_IMAGES, "one grid")?;
        Ok(())
    }
}

/// What `sample` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct SampleReport {
    /// The checkpoint file G came from.
    pub checkpoint: PathBuf,
    /// Images drawn.
    pub n: usize,
    /// Their classes, for a class-conditional model (one per image, in grid order).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<usize>,
    /// The class names of a class-conditional model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// The grid written.
    pub grid: PathBuf,
    /// The latents written, when asked for.
    pub latents: Option<PathBuf>,
}

/// Where `sample --save-latents z.npy` puts a conditional model's classes: `z.labels.npy`, for
/// `generate --latents z.npy --labels z.labels.npy`.
pub fn labels_beside(latents: &std::path::Path) -> PathBuf {
    latents.with_extension("labels.npy")
}

/// A grid of G's images from a checkpoint.
pub fn sample(c: SampleConfig, _events: &mut dyn Events) -> Result<SampleReport> {
    c.validate()?;
    let device = crate::device::by_name(&c.device)?;
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    let m = ckpt.model().clone();
    let choice = match c.class {
        Some(k) => ClassChoice::One(k),
        None => ClassChoice::Rows,
    };
    let d = crate::sample::sample(&ckpt, c.n, c.seed, choice, c.per_row, c.batch_norm, &device)?;
    let n = d.images.len() / (m.channels * m.image_size * m.image_size);
    super::make_parent(&c.out)?;
    crate::viz::save_grid(&c.out, &d.images, n, m.channels, m.image_size, d.per_row)?;
    if let Some(p) = &c.save_latents {
        super::make_parent(p)?;
        npy::write(p, &HostTensor::new(vec![n, m.latent_dim], d.latents))?;
        if !d.labels.is_empty() {
            let labels: Vec<i64> = d.labels.iter().map(|&y| y as i64).collect();
            npy::write_i64(&labels_beside(p), &[n], &labels)?;
        }
    }
    Ok(SampleReport {
        checkpoint: ckpt.path.clone(),
        n,
        labels: d.labels,
        classes: m.classes.clone(),
        grid: c.out,
        latents: c.save_latents,
    })
}
