//! `forget`: G draws again without the feature maps that draw a boxed object (paper Fig. 6).

use std::path::PathBuf;

use serde::Serialize;

use super::{Input, read_sheet, rows_of};
use crate::Result;
use crate::explore::{self, forget};
use crate::tasks::{Events, at_least_one, at_most};

/// Drop the feature maps that draw a boxed object, and draw the same latents again.
#[derive(Clone, Debug)]
pub struct ForgetConfig {
    /// The checkpoint and device.
    pub input: Input,
    /// The sample sheet's latents (`dcgan sample --save-latents`).
    pub sheet: PathBuf,
    /// `[{"sample": 3, "box": [x0, y0, x1, y1]}, ...]` in pixels of the sheet's images.
    pub boxes: PathBuf,
    /// Folder for `forget.png` (first row: as drawn; second: without the object's feature maps).
    pub out: PathBuf,
    /// 1 random negative position per positive one: balanced classes, as the paper's §6.1.
    pub negatives: usize,
    /// Sheet indices to show; `None`: all.
    pub show: Option<String>,
    /// Seed of the negative positions.
    pub seed: u64,
}

impl Default for ForgetConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            sheet: PathBuf::new(),
            boxes: PathBuf::new(),
            out: PathBuf::new(),
            negatives: 1,
            show: None,
            seed: 0,
        }
    }
}

impl ForgetConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        at_least_one("negatives", self.negatives)?;
        at_most("negatives", self.negatives, 1_000, "per positive position")?;
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `explore forget` drew.
pub struct ForgetReport {
    /// `forget.png`.
    pub figure: PathBuf,
    /// The regression and the feature maps it dropped.
    pub model: forget::ForgetModel,
    /// Sheet indices shown.
    pub shown: Vec<usize>,
}

/// Find the feature maps that draw the boxed objects (paper §6.1), drop them, and draw the samples
/// again.
pub fn forget(c: ForgetConfig, _events: &mut dyn Events) -> Result<ForgetReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let sheet = read_sheet(&c.sheet, m.latent_dim)?;
    let n = sheet.len() / m.latent_dim;
    let boxes = forget::read_boxes(&c.boxes, n, m.image_size)?;
    let g = ckpt.unconditional_generator(&device, "forget")?;
    let examples = forget::Examples {
        latents: &sheet,
        latent_dim: m.latent_dim,
        boxes: &boxes,
        image_size: m.image_size,
        negatives_per_positive: c.negatives,
        seed: c.seed,
    };
    let model = forget::fit(&g, &examples, &device)?;
    let shown = match &c.show {
        Some(s) => explore::parse_indices(s, n, "show index")?,
        None => (0..n).collect(),
    };
    let z = rows_of(&sheet, m.latent_dim, &shown);
    let before = explore::render(&g, &z, m.latent_dim, &device);
    let after = forget::render_without(
        &g,
        &z,
        m.latent_dim,
        &model.dropped,
        m.generator_width,
        &device,
    );
    crate::tasks::make_dir(&c.out)?;
    let figure = c.out.join("forget.png");
    crate::viz::save_rows(&figure, &[before, after], m.channels, m.image_size)?;
    Ok(ForgetReport {
        figure,
        model,
        shown,
    })
}
