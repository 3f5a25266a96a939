//! The paper's §6 tools.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use dcgan::data::{Dataset, Transform};
use dcgan::explore::{self, arithmetic, forget, guided, interpolate, neighbours};
use dcgan::latent::{Expression, Interpolation};
use dcgan::model::Discriminator;
use dcgan::train::Checkpoint;
use dcgan::{Error, Result};
use serde_json::json;

fn prepare(
    checkpoint: &Path,
    out: &Path,
    device: &str,
) -> Result<(Checkpoint, dcgan::device::Device)> {
    let device = dcgan::device::by_name(device)?;
    let ckpt = Checkpoint::load(checkpoint)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    Ok((ckpt, device))
}

fn report(json: bool, value: serde_json::Value, lines: &[String]) {
    if json {
        outln!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else {
        for l in lines {
            outln!("{l}");
        }
    }
}

fn read_sheet(path: &Path, latent_dim: usize) -> Result<Vec<f32>> {
    Ok(dcgan::io::npy::read_latents(path, latent_dim)?.1)
}

fn rows_of(sheet: &[f32], dim: usize, indices: &[usize]) -> Vec<f32> {
    indices
        .iter()
        .flat_map(|&i| sheet[i * dim..(i + 1) * dim].to_vec())
        .collect()
}

#[derive(Args)]
pub struct InterpolateArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Folder for interpolate.png (one row per walk) and interpolate.gif.
    #[arg(long)]
    pub out: PathBuf,
    /// Random points per walk (the paper's Fig. 4: 9).
    #[arg(long, default_value_t = 9)]
    pub points: usize,
    /// Walks, one row each.
    #[arg(long, default_value_t = 4)]
    pub walks: usize,
    /// Steps between consecutive points.
    #[arg(long, default_value_t = 8)]
    pub steps: usize,
    /// Spherical interpolation (great circles) instead of linear.
    #[arg(long)]
    pub spherical: bool,
    /// Walk through these latents instead: a sheet saved by `sample --save-latents`...
    #[arg(long, requires = "indices")]
    pub latents: Option<PathBuf>,
    /// ... and the indices on it, in order ("3,7,12").
    #[arg(long, requires = "latents")]
    pub indices: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Milliseconds per GIF frame.
    #[arg(long, default_value_t = 80)]
    pub gif_delay: u32,
    /// GIF magnification.
    #[arg(long, default_value_t = 2)]
    pub gif_scale: u32,
    /// Print what was computed as JSON.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run_interpolate(a: InterpolateArgs) -> Result<()> {
    let (ckpt, device) = prepare(&a.checkpoint, &a.out, &a.device)?;
    let m = ckpt.model().clone();
    let given = match (&a.latents, &a.indices) {
        (Some(p), Some(ix)) => {
            let sheet = read_sheet(p, m.latent_dim)?;
            let idx = explore::parse_indices(ix, sheet.len() / m.latent_dim, "index")?;
            Some(rows_of(&sheet, m.latent_dim, &idx))
        }
        _ => None,
    };
    let how = if a.spherical {
        Interpolation::Spherical
    } else {
        Interpolation::Linear
    };
    let w = interpolate::walks(
        &ckpt, given, a.walks, a.points, a.steps, how, a.seed, &device,
    )?;
    let (c, s) = (m.channels, m.image_size);
    let grid = a.out.join("interpolate.png");
    dcgan::viz::save_grid(&grid, &w.images, w.walks * w.length, c, s, w.length)?;
    // GIF: frame t shows step t of every walk side by side.
    let per = c * s * s;
    let frames: Vec<_> = (0..w.length)
        .chain((1..w.length.saturating_sub(1)).rev()) // and back, so the loop has no jump
        .map(|t| {
            let tiles: Vec<f32> = (0..w.walks)
                .flat_map(|k| {
                    w.images[(k * w.length + t) * per..(k * w.length + t + 1) * per].to_vec()
                })
                .collect();
            dcgan::viz::grid_image(&tiles, w.walks, c, s, w.walks)
        })
        .collect();
    let gif = a.out.join("interpolate.gif");
    dcgan::viz::gif::save_gif(&gif, &frames, a.gif_delay, a.gif_scale)?;
    report(
        a.json,
        json!({"walks": w.walks, "length": w.length, "interpolation": how, "latent_dim": m.latent_dim, "latents": w.latents, "grid": grid, "gif": gif}),
        &[format!(
            "wrote {} ({} walks of {} images) and {}",
            grid.display(),
            w.walks,
            w.length,
            gif.display()
        )],
    );
    Ok(())
}

#[derive(Args)]
pub struct ArithmeticArgs {
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Folder for arithmetic.png and turn.png.
    #[arg(long)]
    pub out: PathBuf,
    /// The sample sheet's latents (`dcgan sample --save-latents`) the indices refer to.
    #[arg(long)]
    pub latents: Option<PathBuf>,
    /// NAME=3,7,12 (exemplar indices on the sheet) or NAME=file.npy (exemplar latents); repeatable.
    #[arg(long)]
    pub concept: Vec<String>,
    /// Such as "smiling_woman - neutral_woman + neutral_man".
    #[arg(long)]
    pub expr: Option<String>,
    /// Neighbours of the result, Y + U(−noise, noise).
    #[arg(long, default_value_t = 8)]
    pub neighbours: usize,
    #[arg(long, default_value_t = 0.25)]
    pub noise: f32,
    /// The turn vector (Fig. 8): indices of left-facing samples on the sheet ...
    #[arg(long, requires = "turn_right")]
    pub turn_left: Option<String>,
    /// ... and of right-facing ones.
    #[arg(long, requires = "turn_left")]
    pub turn_right: Option<String>,
    /// Samples moved along the turn vector: these sheet indices (default: 4 random latents).
    #[arg(long)]
    pub turn_bases: Option<String>,
    #[arg(long, default_value_t = 9)]
    pub turn_steps: usize,
    /// The turn vector is added from −reach to +reach times.
    #[arg(long, default_value_t = 1.0)]
    pub turn_reach: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run_arithmetic(a: ArithmeticArgs) -> Result<()> {
    if a.expr.is_none() && a.turn_left.is_none() {
        return Err(Error::config(
            "arguments",
            "none",
            "give --expr with --concept, or --turn-left and --turn-right",
        ));
    }
    let (ckpt, device) = prepare(&a.checkpoint, &a.out, &a.device)?;
    let m = ckpt.model().clone();
    let dim = m.latent_dim;
    let sheet = a.latents.as_ref().map(|p| read_sheet(p, dim)).transpose()?;
    let need_sheet = || {
        sheet
            .as_ref()
            .ok_or_else(|| Error::config("latents", "none", "indices need --latents SHEET.npy"))
    };
    let mut value = json!({});
    let mut lines = Vec::new();
    if let Some(text) = &a.expr {
        let expr = Expression::parse(text)?;
        let mut concepts = Vec::new();
        for spec in &a.concept {
            let (name, what) = spec.split_once('=').ok_or_else(|| {
                Error::config("concept", spec, "must be NAME=3,7,12 or NAME=file.npy")
            })?;
            let exemplars = if what.ends_with(".npy") {
                read_sheet(Path::new(what), dim)?
            } else {
                let s = need_sheet()?;
                rows_of(
                    s,
                    dim,
                    &explore::parse_indices(what, s.len() / dim, "concept index")?,
                )
            };
            concepts.push(arithmetic::Concept {
                name: name.to_string(),
                exemplars,
            });
        }
        let r = arithmetic::arithmetic(
            &ckpt,
            &concepts,
            &expr,
            a.neighbours,
            a.noise,
            a.seed,
            &device,
        )?;
        let path = a.out.join("arithmetic.png");
        dcgan::viz::save_rows(&path, &r.rows, m.channels, m.image_size)?;
        lines.push(format!("wrote {}: a row per concept (exemplars, then G(mean)), G(Y) and {} neighbours, then pixel-space arithmetic", path.display(), a.neighbours));
        value["arithmetic"] = json!({"expression": text, "figure": path, "result": r});
    }
    if let (Some(l), Some(rt)) = (&a.turn_left, &a.turn_right) {
        let s = need_sheet()?;
        let count = s.len() / dim;
        let left = rows_of(
            s,
            dim,
            &explore::parse_indices(l, count, "turn-left index")?,
        );
        let right = rows_of(
            s,
            dim,
            &explore::parse_indices(rt, count, "turn-right index")?,
        );
        let bases = match &a.turn_bases {
            Some(b) => rows_of(
                s,
                dim,
                &explore::parse_indices(b, count, "turn-bases index")?,
            ),
            None => dcgan::rng::latents(
                &mut dcgan::rng::stream(a.seed, dcgan::rng::Purpose::Sample, 88),
                4,
                dim,
                m.latent_distribution,
            ),
        };
        let (v, images) = arithmetic::turn(
            &ckpt,
            &left,
            &right,
            &bases,
            a.turn_steps,
            a.turn_reach,
            &device,
        )?;
        let path = a.out.join("turn.png");
        let k = bases.len() / dim;
        dcgan::viz::save_grid(
            &path,
            &images,
            k * a.turn_steps,
            m.channels,
            m.image_size,
            a.turn_steps,
        )?;
        lines.push(format!(
            "wrote {}: {k} samples moved along the turn vector in {} steps",
            path.display(),
            a.turn_steps
        ));
        value["turn"] =
            json!({"vector": v, "figure": path, "steps": a.turn_steps, "reach": a.turn_reach});
    }
    report(a.json, value, &lines);
    Ok(())
}

#[derive(Args)]
pub struct VisualizeDArgs {
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The data to search for the images that activate each feature most.
    #[arg(long)]
    pub data: String,
    /// Folder for guided.png (trained D) and guided-random.png (random-weight D).
    #[arg(long)]
    pub out: PathBuf,
    /// The first N features of D's last convolutional layer.
    #[arg(long, default_value_t = 6)]
    pub features: usize,
    /// Images per feature.
    #[arg(long, default_value_t = 6)]
    pub top: usize,
    /// Search only the first N items of the data.
    #[arg(long, default_value_t = 5000)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

fn guided_figure(
    d: &Discriminator,
    ds: &Arc<dyn Dataset>,
    t: Transform,
    a: &VisualizeDArgs,
    device: &dcgan::device::Device,
    path: &Path,
) -> Result<Vec<guided::TopImages>> {
    let tops = guided::top_images(d, ds.clone(), t, a.features, a.top, a.limit, device)?;
    let per = t.channels * t.size * t.size;
    let mut rows = Vec::new();
    for top in &tops {
        let mut imgs = Vec::new();
        for (item, _) in &top.items {
            let img = ds.get(*item).map_err(|e| Error::Data(e.to_string()))?;
            imgs.extend(t.apply(&img));
        }
        let n = top.items.len();
        if n == 0 {
            continue;
        }
        let x = burn::tensor::Tensor::<4>::from_data(
            burn::tensor::TensorData::new(imgs.clone(), [n, t.channels, t.size, t.size]),
            device,
        );
        let g = guided::backprop(d, x, top.feature, true)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        let mut row = imgs;
        for i in 0..n {
            row.extend(guided::normalise(&g[i * per..(i + 1) * per]));
        }
        rows.push(row);
    }
    dcgan::viz::save_rows(path, &rows, t.channels, t.size)?;
    Ok(tops)
}

pub fn run_visualize_d(a: VisualizeDArgs) -> Result<()> {
    let (ckpt, device) = prepare(&a.checkpoint, &a.out, &a.device)?;
    let m = ckpt.model().clone();
    let ds: Arc<dyn Dataset> = Arc::from(dcgan::data::open(&a.data)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    let trained = ckpt.discriminator(&device)?;
    let random = Discriminator::new(&m, 12345, &device);
    let p1 = a.out.join("guided.png");
    let p2 = a.out.join("guided-random.png");
    let t1 = guided_figure(&trained, &ds, t, &a, &device, &p1)?;
    let t2 = guided_figure(&random, &ds, t, &a, &device, &p2)?;
    report(
        a.json,
        json!({"trained": {"figure": p1, "features": t1}, "random": {"figure": p2, "features": t2}}),
        &[format!(
            "wrote {} and {} (a row per feature: its {} strongest images, then their guided backpropagation)",
            p1.display(),
            p2.display(),
            a.top
        )],
    );
    Ok(())
}

#[derive(Args)]
pub struct ForgetArgs {
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The sample sheet's latents (`dcgan sample --save-latents`).
    #[arg(long)]
    pub latents: PathBuf,
    /// JSON: [{"sample": 3, "box": [x0, y0, x1, y1]}, ...] in pixels of the sheet's images.
    #[arg(long)]
    pub boxes: PathBuf,
    /// Folder for forget.png (first row: as drawn; second: with the object's feature maps dropped).
    #[arg(long)]
    pub out: PathBuf,
    /// Random negative positions per positive one.
    #[arg(long, default_value_t = 1)]
    pub negatives: usize,
    /// Which sheet samples to show (default: all).
    #[arg(long)]
    pub show: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run_forget(a: ForgetArgs) -> Result<()> {
    let (ckpt, device) = prepare(&a.checkpoint, &a.out, &a.device)?;
    let m = ckpt.model().clone();
    let sheet = read_sheet(&a.latents, m.latent_dim)?;
    let n = sheet.len() / m.latent_dim;
    let boxes = forget::read_boxes(&a.boxes, n, m.image_size)?;
    let g = ckpt.generator(&device)?;
    let model = forget::fit(
        &g,
        &sheet,
        m.latent_dim,
        &boxes,
        m.image_size,
        a.negatives,
        a.seed,
        &device,
    )?;
    let show = match &a.show {
        Some(s) => explore::parse_indices(s, n, "show index")?,
        None => (0..n).collect(),
    };
    let z = rows_of(&sheet, m.latent_dim, &show);
    let before = explore::render(&g, &z, m.latent_dim, &device);
    let after = forget::render_without(
        &g,
        &z,
        m.latent_dim,
        &model.dropped,
        m.generator_width,
        &device,
    );
    let path = a.out.join("forget.png");
    dcgan::viz::save_rows(&path, &[before, after], m.channels, m.image_size)?;
    report(
        a.json,
        json!({"figure": path, "model": model, "shown": show}),
        &[format!(
            "dropped {} of {} feature maps (logistic regression on {} positions inside the boxes, {} outside; {:.1} % classified right); wrote {}",
            model.dropped.len(),
            model.weights.len(),
            model.positives,
            model.negatives,
            100.0 * model.train_accuracy,
            path.display()
        )],
    );
    Ok(())
}

#[derive(Args)]
pub struct NeighboursArgs {
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The training data.
    #[arg(long)]
    pub data: String,
    /// The grid to write: a row per sample (the sample, its nearest images in pixel space, then in D-feature space).
    #[arg(long)]
    pub out: PathBuf,
    /// Samples.
    #[arg(long, default_value_t = 8)]
    pub n: usize,
    /// Neighbours per sample and space.
    #[arg(long, default_value_t = 4)]
    pub k: usize,
    /// Search only the first N items of the data.
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run_neighbours(a: NeighboursArgs) -> Result<()> {
    let device = dcgan::device::by_name(&a.device)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let m = ckpt.model().clone();
    let ds: Arc<dyn Dataset> = Arc::from(dcgan::data::open(&a.data)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    let (samples, _) =
        dcgan::sample::sample(&ckpt, a.n, a.seed, dcgan::model::BnMode::Eval, &device)?;
    let d = ckpt.discriminator(&device)?;
    let near = neighbours::nearest(&d, &samples, a.n, ds.clone(), t, a.k, a.limit, &device)?;
    let per = t.channels * t.size * t.size;
    let mut rows = Vec::new();
    for (q, nn) in near.iter().enumerate() {
        let mut row = samples[q * per..(q + 1) * per].to_vec();
        for (item, _) in nn.pixel.iter().chain(&nn.feature) {
            row.extend(t.apply(&ds.get(*item).map_err(|e| Error::Data(e.to_string()))?));
        }
        rows.push(row);
    }
    if let Some(dir) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    dcgan::viz::save_rows(&a.out, &rows, t.channels, t.size)?;
    let closest = near
        .iter()
        .filter_map(|n| n.pixel.first().map(|p| p.1))
        .fold(f32::MAX, f32::min);
    report(
        a.json,
        json!({"figure": a.out, "samples": a.n, "nearest": near}),
        &[format!(
            "wrote {} (a row per sample: the sample, {} nearest in pixels, {} nearest in D features); closest pixel distance {closest:.2}",
            a.out.display(),
            a.k,
            a.k
        )],
    );
    Ok(())
}
