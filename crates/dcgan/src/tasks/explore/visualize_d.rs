//! `visualize-d`: guided backpropagation on D's last-layer features, trained against random
//! weights (paper Fig. 5).

use std::path::PathBuf;
use std::sync::Arc;

use burn::tensor::{Tensor, TensorData};
use serde::Serialize;

use super::{Input, prepared};
use crate::Result;
use crate::data::{Dataset, Transform};
use crate::device::Device;
use crate::explore::guided;
use crate::model::Discriminator;
use crate::tasks::{Events, at_least_one, at_most};

/// Guided backpropagation on D's last-layer features, trained D beside a random-weight D.
#[derive(Clone, Debug)]
pub struct VisualizeDConfig {
    /// The checkpoint and device.
    pub input: Input,
    /// The data searched for the images that activate each feature most.
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// Folder for `guided.png` (trained D) and `guided-random.png` (random-weight D).
    pub out: PathBuf,
    /// The first 6 features of D's last convolutional layer: the paper's Fig. 5 shows 6 rows.
    pub features: usize,
    /// 6 images per feature, as in Fig. 5.
    pub top: usize,
    /// Search the first 5000 items: enough for strong activations, seconds on a CPU.
    pub limit: usize,
    /// Seed of the random-weight D.
    pub seed: u64,
}

impl Default for VisualizeDConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            data: String::new(),
            background: crate::config::Background::WHITE,
            out: PathBuf::new(),
            features: 6,
            top: 6,
            limit: 5000,
            seed: 0,
        }
    }
}

impl VisualizeDConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        at_least_one("features", self.features)?;
        at_least_one("top", self.top)?;
        at_least_one("limit", self.limit)?;
        at_most("features", self.features, 100_000, "rows of one figure")?;
        at_most("top", self.top, 10_000, "images of one row")?;
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// One guided-backpropagation figure.
pub struct GuidedFigure {
    /// The PNG file.
    pub figure: PathBuf,
    /// Each feature's strongest images.
    pub features: Vec<guided::TopImages>,
}

#[derive(Clone, Debug, Serialize)]
/// What `explore visualize-d` drew.
pub struct VisualizeDReport {
    /// The trained D's figure.
    pub trained: GuidedFigure,
    /// The random-weight D's figure.
    pub random: GuidedFigure,
    #[serde(skip)]
    /// Images per feature.
    pub top: usize,
}

/// One figure: per feature, its strongest images and their guided backpropagation.
fn guided_figure(
    d: &Discriminator,
    ds: &Arc<dyn Dataset>,
    t: Transform,
    c: &VisualizeDConfig,
    device: &Device,
    path: PathBuf,
) -> Result<GuidedFigure> {
    let tops = guided::top_images(d, ds.clone(), t, c.features, c.top, c.limit, device)?;
    let per = t.channels * t.size * t.size;
    let mut rows = Vec::new();
    for top in &tops {
        let n = top.items.len();
        if n == 0 {
            continue;
        }
        let mut imgs = Vec::with_capacity(n * per);
        for (item, _) in &top.items {
            imgs.extend(prepared(ds.as_ref(), *item, t)?);
        }
        let x = Tensor::<4>::from_data(
            TensorData::new(imgs.clone(), [n, t.channels, t.size, t.size]),
            device,
        );
        let g = crate::model::host_vec(guided::backprop(d, x, top.feature, true));
        let mut row = imgs;
        for i in 0..n {
            row.extend(guided::normalise(&g[i * per..(i + 1) * per]));
        }
        rows.push(row);
    }
    crate::viz::save_rows(&path, &rows, t.channels, t.size)?;
    Ok(GuidedFigure {
        figure: path,
        features: tops,
    })
}

/// Guided backpropagation of D's features, trained and random (paper §6.2, Fig. 5).
pub fn visualize_d(c: VisualizeDConfig, _events: &mut dyn Events) -> Result<VisualizeDReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(&c.data, c.background)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    crate::tasks::make_dir(&c.out)?;
    let trained = ckpt.discriminator(&device)?;
    let random = crate::model::random_discriminator(&m, c.seed, &device);
    Ok(VisualizeDReport {
        trained: guided_figure(&trained, &ds, t, &c, &device, c.out.join("guided.png"))?,
        random: guided_figure(
            &random,
            &ds,
            t,
            &c,
            &device,
            c.out.join("guided-random.png"),
        )?,
        top: c.top,
    })
}
