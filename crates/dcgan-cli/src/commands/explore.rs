//! The paper's §6 tools: argument parsing and rendering; the pipelines are in
//! `dcgan::tasks::explore`.

use std::path::PathBuf;

use clap::Args;
use dcgan::latent::Interpolation;
use dcgan::tasks::explore::{
    self, ArithmeticConfig, ConceptSpec, ForgetConfig, InterpolateConfig, NeighboursConfig,
    TurnSpec, VisualizeDConfig,
};

use super::common::{JsonArg, ModelArgs};
use crate::ui::Ui;

#[derive(Args)]
pub struct InterpolateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Folder for interpolate.png (one row per walk) and interpolate.gif.
    #[arg(long)]
    pub out: PathBuf,
    /// Random points per walk (the paper's Fig. 4: 9).
    #[arg(long, default_value_t = InterpolateConfig::default().points)]
    pub points: usize,
    /// Walks, one row each.
    #[arg(long, default_value_t = InterpolateConfig::default().walks)]
    pub walks: usize,
    /// Steps between consecutive points.
    #[arg(long, default_value_t = InterpolateConfig::default().steps)]
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
    #[arg(long, default_value_t = InterpolateConfig::default().gif_delay_ms)]
    pub gif_delay: u32,
    /// GIF magnification.
    #[arg(long, default_value_t = InterpolateConfig::default().gif_scale)]
    pub gif_scale: u32,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_interpolate(a: InterpolateArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = InterpolateConfig {
        input: a.model.input(),
        out: a.out,
        points: a.points,
        walks: a.walks,
        steps: a.steps,
        interpolation: if a.spherical {
            Interpolation::Spherical
        } else {
            Interpolation::Linear
        },
        sheet: a.latents.zip(a.indices),
        seed: a.seed,
        gif_delay_ms: a.gif_delay,
        gif_scale: a.gif_scale,
    };
    let r = explore::interpolate(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![format!(
            "wrote {} ({} walks of {} images) and {}",
            r.grid.display(),
            r.walks,
            r.length,
            r.gif.display()
        )]
    });
    Ok(())
}

#[derive(Args)]
pub struct ArithmeticArgs {
    #[command(flatten)]
    pub model: ModelArgs,
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
    #[arg(long, default_value_t = ArithmeticConfig::default().neighbours)]
    pub neighbours: usize,
    #[arg(long, default_value_t = ArithmeticConfig::default().noise)]
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
    #[arg(long, default_value_t = TurnSpec::default().steps)]
    pub turn_steps: usize,
    /// The turn vector is added from −reach to +reach times.
    #[arg(long, default_value_t = TurnSpec::default().reach)]
    pub turn_reach: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_arithmetic(a: ArithmeticArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let turn = match (a.turn_left, a.turn_right) {
        (Some(left), Some(right)) => Some(TurnSpec {
            left,
            right,
            bases: a.turn_bases,
            steps: a.turn_steps,
            reach: a.turn_reach,
        }),
        _ => None,
    };
    let config = ArithmeticConfig {
        input: a.model.input(),
        out: a.out,
        sheet: a.latents,
        concepts: a
            .concept
            .iter()
            .map(|s| ConceptSpec::parse(s))
            .collect::<dcgan::Result<_>>()?,
        expression: a.expr,
        neighbours: a.neighbours,
        noise: a.noise,
        turn,
        seed: a.seed,
    };
    let r = explore::arithmetic(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        let mut lines = Vec::new();
        if let Some(p) = &r.arithmetic {
            lines.push(format!("wrote {}: a row per concept (exemplars, then G(mean)), G(Y) and {} neighbours, then pixel-space arithmetic", p.figure.display(), r.neighbours));
        }
        if let Some(t) = &r.turn {
            lines.push(format!(
                "wrote {}: {} samples moved along the turn vector in {} steps",
                t.figure.display(),
                t.samples,
                t.steps
            ));
        }
        lines
    });
    Ok(())
}

#[derive(Args)]
pub struct VisualizeDArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The data to search for the images that activate each feature most.
    #[arg(long)]
    pub data: String,
    /// Folder for guided.png (trained D) and guided-random.png (random-weight D).
    #[arg(long)]
    pub out: PathBuf,
    /// The first N features of D's last convolutional layer.
    #[arg(long, default_value_t = VisualizeDConfig::default().features)]
    pub features: usize,
    /// Images per feature.
    #[arg(long, default_value_t = VisualizeDConfig::default().top)]
    pub top: usize,
    /// Search only the first N items of the data.
    #[arg(long, default_value_t = VisualizeDConfig::default().limit)]
    pub limit: usize,
    /// Seed of the random-weight D (its weights come from seed + 1, as in `eval svm`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_visualize_d(a: VisualizeDArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = VisualizeDConfig {
        input: a.model.input(),
        data: ui.data(&a.data)?,
        background: ui.background(),
        out: a.out,
        features: a.features,
        top: a.top,
        limit: a.limit,
        seed: a.seed,
    };
    let r = explore::visualize_d(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![format!(
            "wrote {} and {} (a row per feature: its {} strongest images, then their guided backpropagation)",
            r.trained.figure.display(),
            r.random.figure.display(),
            r.top
        )]
    });
    Ok(())
}

#[derive(Args)]
pub struct ForgetArgs {
    #[command(flatten)]
    pub model: ModelArgs,
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
    #[arg(long, default_value_t = ForgetConfig::default().negatives)]
    pub negatives: usize,
    /// Which sheet samples to show (default: all).
    #[arg(long)]
    pub show: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_forget(a: ForgetArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = ForgetConfig {
        input: a.model.input(),
        sheet: a.latents,
        boxes: a.boxes,
        out: a.out,
        negatives: a.negatives,
        show: a.show,
        seed: a.seed,
    };
    let r = explore::forget(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        let m = &r.model;
        vec![format!(
            "dropped {} of {} feature maps (logistic regression on {} positions inside the boxes, {} outside; {:.1} % classified right); wrote {}",
            m.dropped.len(),
            m.weights.len(),
            m.positives,
            m.negatives,
            100.0 * m.train_accuracy,
            r.figure.display()
        )]
    });
    Ok(())
}

#[derive(Args)]
pub struct NeighboursArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The training data.
    #[arg(long)]
    pub data: String,
    /// The grid to write: a row per sample (the sample, its nearest images in pixel space, then in D-feature space).
    #[arg(long)]
    pub out: PathBuf,
    /// Samples.
    #[arg(long, default_value_t = NeighboursConfig::default().n)]
    pub n: usize,
    /// Neighbours per sample and space.
    #[arg(long, default_value_t = NeighboursConfig::default().k)]
    pub k: usize,
    /// Search only the first N items of the data.
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_neighbours(a: NeighboursArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = NeighboursConfig {
        input: a.model.input(),
        data: ui.data(&a.data)?,
        background: ui.background(),
        out: a.out,
        n: a.n,
        k: a.k,
        limit: a.limit,
        seed: a.seed,
    };
    let r = explore::neighbours(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![format!(
            "wrote {} (a row per sample: the sample, {} nearest in pixels, {} nearest in D features); closest pixel distance {:.2}",
            r.figure.display(),
            r.k,
            r.k,
            r.closest_pixel_distance.unwrap_or(f32::NAN)
        )]
    });
    Ok(())
}
