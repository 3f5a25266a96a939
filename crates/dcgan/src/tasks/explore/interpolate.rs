//! `interpolate`: walks through latent space (paper Fig. 4), as a grid and a looping GIF.

use std::path::PathBuf;

use serde::Serialize;

use super::{Input, read_sheet, rows_of};
use crate::explore::{self, interpolate};
use crate::latent::Interpolation;
use crate::tasks::{Events, MAX_IMAGES, at_least_one, at_most};
use crate::{Error, Result};

/// Walks through latent space, as a grid (one row per walk) and a looping GIF.
#[derive(Clone, Debug)]
pub struct InterpolateConfig {
    /// The checkpoint and device.
    pub input: Input,
    /// Folder for `interpolate.png` and `interpolate.gif`.
    pub out: PathBuf,
    /// 9 random points per walk: the paper's Fig. 4.
    pub points: usize,
    /// 4 walks, one row each: enough to see that transitions are smooth everywhere.
    pub walks: usize,
    /// 8 steps between consecutive points: smooth in a GIF, small in a grid.
    pub steps: usize,
    /// Linear by default (the paper); spherical follows great circles of the Gaussian's shell.
    pub interpolation: Interpolation,
    /// Walk through these latents instead of random ones: a sheet and the indices on it.
    pub sheet: Option<(PathBuf, String)>,
    /// Seed of the random points.
    pub seed: u64,
    /// 80 ms per GIF frame: 12.5 frames a second.
    pub gif_delay_ms: u32,
    /// GIF magnification: small models are 32 or 64 pixels wide.
    pub gif_scale: u32,
}

impl Default for InterpolateConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            out: PathBuf::new(),
            points: 9,
            walks: 4,
            steps: 8,
            interpolation: Interpolation::Linear,
            sheet: None,
            seed: 0,
            gif_delay_ms: 80,
            gif_scale: 2,
        }
    }
}

impl InterpolateConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        crate::tasks::at_least("points", self.points, 2)?;
        at_least_one("walks", self.walks)?;
        at_least_one("steps", self.steps)?;
        at_most("points", self.points, 10_000, "a walk")?;
        at_most("walks", self.walks, 1_000, "rows of one figure")?;
        at_most("steps", self.steps, 1_000, "images between two points")?;
        at_most(
            "walks × points × steps",
            self.walks * self.points * self.steps,
            MAX_IMAGES,
            "images of one figure",
        )?;
        if !(1..=16).contains(&self.gif_scale) {
            return Err(Error::config(
                "gif scale",
                self.gif_scale,
                "must be 1 to 16",
            ));
        }
        if self.gif_delay_ms > 655_350 {
            return Err(Error::config(
                "gif delay",
                self.gif_delay_ms,
                "must be at most 655350 ms (GIF stores hundredths of a second in 16 bits)",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `explore interpolate` drew.
pub struct InterpolateReport {
    /// Walks drawn.
    pub walks: usize,
    /// Images per walk.
    pub length: usize,
    /// Linear or spherical.
    pub interpolation: Interpolation,
    /// Latent dimension (nz).
    pub latent_dim: usize,
    /// Every walk's latents, `walks × length × nz`.
    pub latents: Vec<f32>,
    /// `interpolate.png`, a row per walk.
    pub grid: PathBuf,
    /// `interpolate.gif`, the walks as an animation.
    pub gif: PathBuf,
}

/// Walk through latent space (paper §6.1, Fig. 4) and draw G's images along the walks.
pub fn interpolate(c: InterpolateConfig, _events: &mut dyn Events) -> Result<InterpolateReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let given = match &c.sheet {
        Some((p, ix)) => {
            let sheet = read_sheet(p, m.latent_dim)?;
            let idx = explore::parse_indices(ix, sheet.len() / m.latent_dim, "index")?;
            Some(rows_of(&sheet, m.latent_dim, &idx))
        }
        None => None,
    };
    let plan = interpolate::WalkPlan {
        given,
        walks: c.walks,
        points: c.points,
        steps: c.steps,
        how: c.interpolation,
        seed: c.seed,
    };
    let w = interpolate::walks(&ckpt, &plan, &device)?;
    crate::tasks::make_dir(&c.out)?;
    let (ch, s) = (m.channels, m.image_size);
    let grid = c.out.join("interpolate.png");
    crate::viz::save_grid(&grid, &w.images, w.walks * w.length, ch, s, w.length)?;
    // GIF: frame t shows step t of every walk side by side, forth and back so the loop has no jump.
    let per = ch * s * s;
    let frames: Vec<_> = (0..w.length)
        .chain((1..w.length.saturating_sub(1)).rev())
        .map(|t| {
            let tiles: Vec<f32> = (0..w.walks)
                .flat_map(|k| {
                    w.images[(k * w.length + t) * per..(k * w.length + t + 1) * per].to_vec()
                })
                .collect();
            crate::viz::grid_image(&tiles, w.walks, ch, s, w.walks)
        })
        .collect();
    let gif = c.out.join("interpolate.gif");
    crate::viz::gif::save_gif(&gif, &frames, c.gif_delay_ms, c.gif_scale)?;
    Ok(InterpolateReport {
        walks: w.walks,
        length: w.length,
        interpolation: c.interpolation,
        latent_dim: m.latent_dim,
        latents: w.latents,
        grid,
        gif,
    })
}
