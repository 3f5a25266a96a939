//! `neighbours`: the nearest training images of samples, in pixels and D features (a
//! memorisation check).

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{Input, prepared};
use crate::Result;
use crate::data::{Dataset, Transform};
use crate::explore::neighbours;
use crate::model::BnMode;
use crate::tasks::{Events, at_least_one, at_most};

/// The nearest training images of samples, in pixels and in D's features.
#[derive(Clone, Debug)]
pub struct NeighboursConfig {
    /// The checkpoint and device.
    pub input: Input,
    /// The training data.
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// The grid: a row per sample (the sample, its nearest images in pixels, then in D features).
    pub out: PathBuf,
    /// 8 samples: one screenful of rows.
    pub n: usize,
    /// 4 neighbours per sample and space.
    pub k: usize,
    /// Search the first N items; all by default (a memorisation check must see every image).
    pub limit: usize,
    /// Seed of the samples' latents.
    pub seed: u64,
}

impl Default for NeighboursConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            data: String::new(),
            background: crate::config::Background::WHITE,
            out: PathBuf::new(),
            n: 8,
            k: 4,
            limit: usize::MAX,
            seed: 0,
        }
    }
}

impl NeighboursConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        at_least_one("samples", self.n)?;
        at_least_one("k", self.k)?;
        at_least_one("limit", self.limit)?;
        at_most("samples", self.n, 10_000, "rows of one figure")?;
        at_most("k", self.k, 1_000, "images of one row")?;
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `explore neighbours` found.
pub struct NeighboursReport {
    /// The PNG grid.
    pub figure: PathBuf,
    /// Samples drawn.
    pub samples: usize,
    /// Each sample's nearest training images.
    pub nearest: Vec<neighbours::Nearest>,
    /// The smallest pixel distance of any sample to any image (small: a possible copy).
    pub closest_pixel_distance: Option<f32>,
    #[serde(skip)]
    /// Neighbours per sample and space.
    pub k: usize,
}

/// Draw samples and find their nearest training images, a memorisation check (paper §6.1).
pub fn neighbours(c: NeighboursConfig, events: &mut dyn Events) -> Result<NeighboursReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(&c.data, c.background)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    // A conditional G draws every class in turn.
    let samples = crate::sample::sample(
        &ckpt,
        c.n,
        c.seed,
        crate::sample::ClassChoice::Cycle,
        0,
        BnMode::Eval,
        &device,
    )?
    .images;
    let d = ckpt.discriminator(&device)?;
    events.emit(crate::tasks::Event::Info(format!(
        "searching {} for the nearest images of {} samples",
        ds.describe(),
        c.n
    )));
    let search = neighbours::Search {
        dataset: ds.clone(),
        transform: t,
        k: c.k,
        limit: c.limit,
    };
    let near = neighbours::nearest(&d, &samples, c.n, &search, &device)?;
    let per = t.channels * t.size * t.size;
    let mut rows = Vec::new();
    for (q, nn) in near.iter().enumerate() {
        let mut row = samples[q * per..(q + 1) * per].to_vec();
        for (item, _) in nn.pixel.iter().chain(&nn.feature) {
            row.extend(prepared(ds.as_ref(), *item, t)?);
        }
        rows.push(row);
    }
    crate::tasks::make_parent(&c.out)?;
    crate::viz::save_rows(&c.out, &rows, t.channels, t.size)?;
    let closest = near
        .iter()
        .filter_map(|n| n.pixel.first().map(|p| p.1))
        .reduce(f32::min);
    Ok(NeighboursReport {
        figure: c.out,
        samples: c.n,
        nearest: near,
        closest_pixel_distance: closest,
        k: c.k,
    })
}
