//! `data preview`: random items as the model sees them.

use std::path::PathBuf;

use serde::Serialize;

use crate::data::{self, Transform, tools};
use crate::tasks::{Events, at_least_one, at_most};
use crate::{Error, Result};

/// `data preview`.
#[derive(Clone, Debug)]
pub struct PreviewConfig {
    /// The data set (a folder, a file or a set's name).
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// The PNG grid written.
    pub out: PathBuf,
    /// 64 items: an 8×8 grid.
    pub n: usize,
    /// 64-pixel tiles (shorter side resized, centre crop), the paper's LSUN size.
    pub size: usize,
    /// Tiles' channels, 1 or 3; `None`: the data's.
    pub channels: Option<usize>,
    /// Seed of the random pick of items.
    pub seed: u64,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            background: crate::config::Background::WHITE,
            out: PathBuf::new(),
            n: 64,
            size: 64,
            channels: None,
            seed: 0,
        }
    }
}

impl PreviewConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        at_least_one("n", self.n)?;
        at_most("n", self.n, 100_000, "tiles of one grid")?;
        at_least_one("size", self.size)?;
        at_most("size", self.size, 4096, "pixels of one tile")?;
        if let Some(ch) = self.channels.filter(|&c| c != 1 && c != 3) {
            return Err(Error::config("channels", ch, "must be 1 (grey) or 3 (RGB)"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `data preview` wrote.
pub struct PreviewReport {
    /// The PNG grid.
    pub grid: PathBuf,
    /// Tiles on it.
    pub shown: usize,
    /// What the data set says it is.
    pub data: String,
}

/// Write a grid of random items of a data set, prepared as training would prepare them.
pub fn preview(c: PreviewConfig, _events: &mut dyn Events) -> Result<PreviewReport> {
    c.validate()?;
    let ds = data::open(&c.data, c.background)?;
    let channels = c.channels.unwrap_or_else(|| data::natural_channels(&*ds));
    let t = Transform {
        size: c.size,
        channels,
    };
    let (n, images) = tools::preview(&*ds, c.n, t, c.seed);
    if n == 0 {
        return Err(Error::Data(format!(
            "{}: no readable image to preview",
            c.data
        )));
    }
    crate::tasks::make_parent(&c.out)?;
    crate::viz::save_grid(&c.out, &images, n, channels, c.size, 0)?;
    Ok(PreviewReport {
        grid: c.out,
        shown: n,
        data: ds.describe(),
    })
}
