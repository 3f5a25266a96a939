//! The paper's §6 tools as tasks: `interpolate` (Fig. 4), `arithmetic` (Figs. 7, 8),
//! `visualize-d` (Fig. 5), `forget` (Fig. 6) and `neighbours` (the memorisation check). Each
//! writes its figure and reports what it computed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::{Tensor, TensorData};
use serde::Serialize;

use super::{Events, MAX_IMAGES, at_least_one, at_most, in_range};
use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Transform};
use crate::device::Device;
use crate::explore::{self, arithmetic, forget, guided, interpolate, neighbours};
use crate::latent::{Expression, Interpolation};
use crate::model::{BnMode, Discriminator};
use crate::rng::Stream;
use crate::{Error, Result};

/// What every §6 tool starts from: a checkpoint on a device.
#[derive(Clone, Debug)]
pub struct Input {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
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

// ------------------------------------------------------------------------------------------------

/// Walks through latent space, as a grid (one row per walk) and a looping GIF.
#[derive(Clone, Debug)]
pub struct InterpolateConfig {
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
    pub fn validate(&self) -> Result<()> {
        super::at_least("points", self.points, 2)?;
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
pub struct InterpolateReport {
    pub walks: usize,
    /// Images per walk.
    pub length: usize,
    pub interpolation: Interpolation,
    pub latent_dim: usize,
    /// Every walk's latents, `walks × length × nz`.
    pub latents: Vec<f32>,
    pub grid: PathBuf,
    pub gif: PathBuf,
}

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
    let w = interpolate::walks(
        &ckpt,
        given,
        c.walks,
        c.points,
        c.steps,
        c.interpolation,
        c.seed,
        &device,
    )?;
    super::make_dir(&c.out)?;
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

// ------------------------------------------------------------------------------------------------

/// Exemplars of a concept: indices on the sheet, or a `.npy` of latents.
#[derive(Clone, Debug)]
pub enum Exemplars {
    Indices(String),
    File(PathBuf),
}

/// A concept named in the expression, with its exemplars.
#[derive(Clone, Debug)]
pub struct ConceptSpec {
    pub name: String,
    pub exemplars: Exemplars,
}

impl ConceptSpec {
    /// `NAME=3,7,12` (sheet indices) or `NAME=file.npy` (latents).
    pub fn parse(spec: &str) -> Result<Self> {
        let (name, what) = spec
            .split_once('=')
            .filter(|(n, w)| !n.trim().is_empty() && !w.trim().is_empty())
            .ok_or_else(|| {
                Error::config("concept", spec, "must be NAME=3,7,12 or NAME=file.npy")
            })?;
        let exemplars = if what.ends_with(".npy") {
            Exemplars::File(PathBuf::from(what))
        } else {
            Exemplars::Indices(what.to_string())
        };
        Ok(Self {
            name: name.trim().to_string(),
            exemplars,
        })
    }
}

/// The turn vector: left- and right-facing samples on the sheet, and the samples moved along it.
#[derive(Clone, Debug)]
pub struct TurnSpec {
    pub left: String,
    pub right: String,
    /// Sheet indices of the samples to move; `None`: 4 random latents.
    pub bases: Option<String>,
    /// 9 steps from −reach to +reach: the paper's Fig. 8 shows a few poses each way.
    pub steps: usize,
    /// 1: the whole vector each way.
    pub reach: f32,
}

impl Default for TurnSpec {
    fn default() -> Self {
        Self {
            left: String::new(),
            right: String::new(),
            bases: None,
            steps: 9,
            reach: 1.0,
        }
    }
}

/// Concept arithmetic (Fig. 7) and the turn vector (Fig. 8).
#[derive(Clone, Debug)]
pub struct ArithmeticConfig {
    pub input: Input,
    /// Folder for `arithmetic.png` and `turn.png`.
    pub out: PathBuf,
    /// The sample sheet's latents (`dcgan sample --save-latents`) that indices refer to.
    pub sheet: Option<PathBuf>,
    pub concepts: Vec<ConceptSpec>,
    /// Such as `smiling_woman - neutral_woman + neutral_man`.
    pub expression: Option<String>,
    /// 8 neighbours Y + U(−noise, noise): the paper's Fig. 7 shows 8 around each result.
    pub neighbours: usize,
    /// 0.25: the paper's Fig. 7.
    pub noise: f32,
    pub turn: Option<TurnSpec>,
    pub seed: u64,
}

impl Default for ArithmeticConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            out: PathBuf::new(),
            sheet: None,
            concepts: Vec::new(),
            expression: None,
            neighbours: 8,
            noise: 0.25,
            turn: None,
            seed: 0,
        }
    }
}

impl ArithmeticConfig {
    pub fn validate(&self) -> Result<()> {
        if self.expression.is_none() && self.turn.is_none() {
            return Err(Error::config(
                "arguments",
                "none",
                "give --expr with --concept, or --turn-left and --turn-right",
            ));
        }
        at_most("neighbours", self.neighbours, 10_000, "images of one row")?;
        in_range("noise", self.noise as f64, 0.0, 1e6)?;
        if let Some(t) = &self.turn {
            at_least_one("turn steps", t.steps)?;
            at_most("turn steps", t.steps, 10_000, "images of one row")?;
            in_range("turn reach", t.reach as f64, -1e6, 1e6)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ArithmeticPart {
    pub expression: String,
    pub figure: PathBuf,
    pub result: arithmetic::ArithmeticResult,
}

#[derive(Clone, Debug, Serialize)]
pub struct TurnPart {
    pub vector: Vec<f32>,
    pub figure: PathBuf,
    pub steps: usize,
    pub reach: f32,
    /// Samples moved along the vector.
    pub samples: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ArithmeticReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arithmetic: Option<ArithmeticPart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<TurnPart>,
    /// Neighbours shown beside the result.
    #[serde(skip)]
    pub neighbours: usize,
}

pub fn arithmetic(c: ArithmeticConfig, _events: &mut dyn Events) -> Result<ArithmeticReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let dim = m.latent_dim;
    let sheet = c.sheet.as_ref().map(|p| read_sheet(p, dim)).transpose()?;
    let need_sheet = || {
        sheet
            .as_ref()
            .ok_or_else(|| Error::config("latents", "none", "indices need --latents SHEET.npy"))
    };
    super::make_dir(&c.out)?;
    let mut report = ArithmeticReport {
        arithmetic: None,
        turn: None,
        neighbours: c.neighbours,
    };
    if let Some(text) = &c.expression {
        let expr = Expression::parse(text)?;
        let mut concepts = Vec::new();
        for spec in &c.concepts {
            let exemplars = match &spec.exemplars {
                Exemplars::File(p) => read_sheet(p, dim)?,
                Exemplars::Indices(ix) => {
                    let s = need_sheet()?;
                    rows_of(
                        s,
                        dim,
                        &explore::parse_indices(ix, s.len() / dim, "concept index")?,
                    )
                }
            };
            concepts.push(arithmetic::Concept {
                name: spec.name.clone(),
                exemplars,
            });
        }
        let r = arithmetic::arithmetic(
            &ckpt,
            &concepts,
            &expr,
            c.neighbours,
            c.noise,
            c.seed,
            &device,
        )?;
        let figure = c.out.join("arithmetic.png");
        crate::viz::save_rows(&figure, &r.rows, m.channels, m.image_size)?;
        report.arithmetic = Some(ArithmeticPart {
            expression: text.clone(),
            figure,
            result: r,
        });
    }
    if let Some(t) = &c.turn {
        let s = need_sheet()?;
        let count = s.len() / dim;
        let pick = |ix: &str, what| -> Result<Vec<f32>> {
            Ok(rows_of(s, dim, &explore::parse_indices(ix, count, what)?))
        };
        let left = pick(&t.left, "turn-left index")?;
        let right = pick(&t.right, "turn-right index")?;
        let bases = match &t.bases {
            Some(b) => pick(b, "turn-bases index")?,
            None => crate::rng::latents(
                &mut Stream::TurnBases.rng(c.seed),
                4,
                dim,
                m.latent_distribution,
            ),
        };
        let (vector, images) =
            arithmetic::turn(&ckpt, &left, &right, &bases, t.steps, t.reach, &device)?;
        let figure = c.out.join("turn.png");
        let k = bases.len() / dim;
        crate::viz::save_grid(
            &figure,
            &images,
            k * t.steps,
            m.channels,
            m.image_size,
            t.steps,
        )?;
        report.turn = Some(TurnPart {
            vector,
            figure,
            steps: t.steps,
            reach: t.reach,
            samples: k,
        });
    }
    Ok(report)
}

// ------------------------------------------------------------------------------------------------

/// Guided backpropagation on D's last-layer features, trained D beside a random-weight D.
#[derive(Clone, Debug)]
pub struct VisualizeDConfig {
    pub input: Input,
    /// The data searched for the images that activate each feature most.
    pub data: String,
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
            out: PathBuf::new(),
            features: 6,
            top: 6,
            limit: 5000,
            seed: 0,
        }
    }
}

impl VisualizeDConfig {
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
pub struct GuidedFigure {
    pub figure: PathBuf,
    pub features: Vec<guided::TopImages>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VisualizeDReport {
    pub trained: GuidedFigure,
    pub random: GuidedFigure,
    #[serde(skip)]
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

pub fn visualize_d(c: VisualizeDConfig, _events: &mut dyn Events) -> Result<VisualizeDReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(&c.data)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    super::make_dir(&c.out)?;
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

// ------------------------------------------------------------------------------------------------

/// Drop the feature maps that draw a boxed object, and draw the same latents again.
#[derive(Clone, Debug)]
pub struct ForgetConfig {
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
    pub fn validate(&self) -> Result<()> {
        at_least_one("negatives", self.negatives)?;
        at_most("negatives", self.negatives, 1_000, "per positive position")?;
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ForgetReport {
    pub figure: PathBuf,
    pub model: forget::ForgetModel,
    pub shown: Vec<usize>,
}

pub fn forget(c: ForgetConfig, _events: &mut dyn Events) -> Result<ForgetReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let sheet = read_sheet(&c.sheet, m.latent_dim)?;
    let n = sheet.len() / m.latent_dim;
    let boxes = forget::read_boxes(&c.boxes, n, m.image_size)?;
    let g = ckpt.generator(&device)?;
    let model = forget::fit(
        &g,
        &sheet,
        m.latent_dim,
        &boxes,
        m.image_size,
        c.negatives,
        c.seed,
        &device,
    )?;
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
    super::make_dir(&c.out)?;
    let figure = c.out.join("forget.png");
    crate::viz::save_rows(&figure, &[before, after], m.channels, m.image_size)?;
    Ok(ForgetReport {
        figure,
        model,
        shown,
    })
}

// ------------------------------------------------------------------------------------------------

/// The nearest training images of samples, in pixels and in D's features.
#[derive(Clone, Debug)]
pub struct NeighboursConfig {
    pub input: Input,
    /// The training data.
    pub data: String,
    /// The grid: a row per sample (the sample, its nearest images in pixels, then in D features).
    pub out: PathBuf,
    /// 8 samples: one screenful of rows.
    pub n: usize,
    /// 4 neighbours per sample and space.
    pub k: usize,
    /// Search the first N items; all by default (a memorisation check must see every image).
    pub limit: usize,
    pub seed: u64,
}

impl Default for NeighboursConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            data: String::new(),
            out: PathBuf::new(),
            n: 8,
            k: 4,
            limit: usize::MAX,
            seed: 0,
        }
    }
}

impl NeighboursConfig {
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
pub struct NeighboursReport {
    pub figure: PathBuf,
    pub samples: usize,
    pub nearest: Vec<neighbours::Nearest>,
    /// The smallest pixel distance of any sample to any image (small: a possible copy).
    pub closest_pixel_distance: Option<f32>,
    #[serde(skip)]
    pub k: usize,
}

pub fn neighbours(c: NeighboursConfig, events: &mut dyn Events) -> Result<NeighboursReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(&c.data)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    let (samples, _) = crate::sample::sample(&ckpt, c.n, c.seed, BnMode::Eval, &device)?;
    let d = ckpt.discriminator(&device)?;
    events.emit(super::Event::Info(format!(
        "searching {} for the nearest images of {} samples",
        ds.describe(),
        c.n
    )));
    let near = neighbours::nearest(&d, &samples, c.n, ds.clone(), t, c.k, c.limit, &device)?;
    let per = t.channels * t.size * t.size;
    let mut rows = Vec::new();
    for (q, nn) in near.iter().enumerate() {
        let mut row = samples[q * per..(q + 1) * per].to_vec();
        for (item, _) in nn.pixel.iter().chain(&nn.feature) {
            row.extend(prepared(ds.as_ref(), *item, t)?);
        }
        rows.push(row);
    }
    super::make_parent(&c.out)?;
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
