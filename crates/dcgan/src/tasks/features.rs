//! `dcgan features`: D's features of a data set (paper §5.1), with its labels, as `.npy`.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{Event, Events, at_least_one, at_most};
use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Transform};
use crate::eval::features;
use crate::io::{HostTensor, npy};
use crate::{Error, Result};

#[derive(Clone, Debug)]
/// `dcgan features`: D's features of a data set, written as `.npy` for other tools.
pub struct FeaturesConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// The images to describe (labels come from the data set).
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// `FILE.npy`: float32 (N, 16·Σ channels); labels go to `FILE.labels.npy` (int64, −1: none).
    pub out: PathBuf,
    /// 256 images per batch.
    pub batch_size: usize,
    /// Re-estimate BatchNorm statistics over this data from at most 50 batches first, as the
    /// authors' SVHN script does; 0 keeps the checkpoint's running statistics.
    pub reestimate_batches: usize,
    /// Device to run on: `flex` (the CPU), `cuda`, `cuda:N` or `wgpu`.
    pub device: String,
}

impl Default for FeaturesConfig {
    fn default() -> Self {
        Self {
            checkpoint: PathBuf::new(),
            data: String::new(),
            background: crate::config::Background::WHITE,
            out: PathBuf::new(),
            batch_size: 256,
            reestimate_batches: 50,
            device: "flex".into(),
        }
    }
}

impl FeaturesConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        at_least_one("batch size", self.batch_size)?;
        at_most("batch size", self.batch_size, 65_536, "one batch of images")?;
        if self.out.file_stem().is_none() {
            return Err(Error::config(
                "out",
                self.out.display(),
                "needs a file name",
            ));
        }
        Ok(())
    }

    /// Where the labels go: `FILE.labels.npy` beside `FILE.npy`.
    pub fn labels_path(&self) -> PathBuf {
        let stem = self.out.file_stem().unwrap_or_default().to_string_lossy();
        self.out.with_file_name(format!("{stem}.labels.npy"))
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `dcgan features` wrote.
pub struct FeaturesReport {
    /// The data set, as given.
    pub data: String,
    /// Items described.
    pub items: usize,
    /// Features per item.
    pub dim: usize,
    /// Batches BatchNorm's statistics were re-estimated over (0: the checkpoint's were kept).
    pub reestimated_batches: usize,
    /// The features file.
    pub features: PathBuf,
    /// The labels file.
    pub labels: PathBuf,
    /// Seconds in all.
    pub seconds: f64,
}

/// Extract D's features (every layer max-pooled to 4×4, as for the SVM) of a data set.
pub fn run(c: FeaturesConfig, events: &mut dyn Events) -> Result<FeaturesReport> {
    c.validate()?;
    let device = crate::device::by_name(&c.device)?;
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    let m = ckpt.model().clone();
    let d = ckpt.discriminator(&device)?;
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(&c.data, c.background)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    let started = std::time::Instant::now();
    let mut reestimated = 0;
    if c.reestimate_batches > 0 {
        reestimated = features::reestimate_batchnorm(
            &d,
            ds.clone(),
            t,
            c.batch_size,
            c.reestimate_batches,
            &device,
        )?;
        events.emit(Event::Info(format!(
            "BatchNorm statistics re-estimated over {reestimated} batches of {}",
            ds.describe()
        )));
    }
    let (dim, feats, labels) =
        features::extract(&d, ds.clone(), t, c.batch_size, &device, events, "images")?;
    let n = labels.len();
    super::make_parent(&c.out)?;
    npy::write(&c.out, &HostTensor::new(vec![n, dim], feats))?;
    let labels_path = c.labels_path();
    npy::write_i64(&labels_path, &[n], &labels)?;
    Ok(FeaturesReport {
        data: ds.describe(),
        items: n,
        dim,
        reestimated_batches: reestimated,
        features: c.out,
        labels: labels_path,
        seconds: started.elapsed().as_secs_f64(),
    })
}
