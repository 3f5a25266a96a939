//! `dcgan sample` and `dcgan generate`.

use std::path::PathBuf;

use clap::Args;
use dcgan::model::BnMode;
use dcgan::tasks::generate::{self, GenerateConfig};
use dcgan::tasks::sample::{self, SampleConfig};

use super::common::{JsonArg, ModelArgs};
use crate::ui::Ui;

fn batch_norm(batch_stats: bool) -> BnMode {
    if batch_stats {
        BnMode::BatchStats
    } else {
        BnMode::Eval
    }
}

#[derive(Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Number of samples.
    #[arg(long, default_value_t = SampleConfig::default().n)]
    pub n: usize,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the latents.
    #[arg(long, default_value_t = SampleConfig::default().seed)]
    pub seed: u64,
    /// Also save the latents as .npy (N, nz), for `generate`, interpolation, arithmetic (a
    /// class-conditional model: their classes too, as NAME.labels.npy beside it).
    #[arg(long)]
    pub save_latents: Option<PathBuf>,
    /// A class-conditional model: every image of this class (0 to K−1). Without it, one row per
    /// class, the same latent down each column.
    #[arg(long, value_name = "K")]
    pub class: Option<usize>,
    /// Images per row (0: square grid).
    #[arg(long, default_value_t = SampleConfig::default().per_row)]
    pub per_row: usize,
    /// Normalise G's BatchNorm with the batch's statistics instead of the running ones.
    #[arg(long)]
    pub batch_stats: bool,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_sample(a: SampleArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = SampleConfig {
        checkpoint: a.model.checkpoint,
        out: a.out,
        n: a.n,
        seed: a.seed,
        save_latents: a.save_latents,
        per_row: a.per_row,
        class: a.class,
        batch_norm: batch_norm(a.batch_stats),
        device: a.model.device.device,
    };
    let r = sample::sample(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        let mut lines = vec![format!(
            "wrote {} samples from {} to {}",
            r.n,
            r.checkpoint.display(),
            r.grid.display()
        )];
        if !r.classes.is_empty() {
            let mut shown: Vec<usize> = r.labels.clone();
            shown.dedup();
            let names: Vec<&str> = shown.iter().map(|&k| r.classes[k].as_str()).collect();
            lines.push(format!("classes: {}", names.join(", ")));
        }
        if let Some(p) = &r.latents {
            lines.push(format!("latents: {}", p.display()));
            if !r.labels.is_empty() {
                let labels = dcgan::tasks::sample::labels_beside(p);
                lines.push(format!("labels: {}", labels.display()));
            }
        }
        lines
    });
    Ok(())
}

#[derive(Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Latents, .npy of shape (N, nz) or (N, nz, 1, 1).
    #[arg(long)]
    pub latent: PathBuf,
    /// A class-conditional model's class for each latent: .npy of N integers (0 to K−1).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// `out.npy`: G's raw output, float32 (N, nc, H, W) in [-1, 1]; `DIR/`: one PNG per image.
    #[arg(long)]
    pub out: PathBuf,
    /// Normalise G's BatchNorm with the batch's statistics instead of the running ones.
    #[arg(long)]
    pub batch_stats: bool,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_generate(a: GenerateArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = GenerateConfig {
        checkpoint: a.model.checkpoint,
        latents: a.latent,
        labels: a.labels,
        out: a.out,
        batch_norm: batch_norm(a.batch_stats),
        device: a.model.device.device,
    };
    let r = generate::generate(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![format!("wrote {} images to {}", r.n, r.out.display())]
    });
    Ok(())
}
