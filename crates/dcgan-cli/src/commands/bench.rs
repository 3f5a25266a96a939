//! `dcgan bench`: argument parsing and rendering; the measurements are in `dcgan::tasks::bench`.

use clap::{Args, ValueEnum};
use dcgan::bench::Timing;
use dcgan::config::ModelConfig;
use dcgan::tasks::bench::{self, BenchConfig, BenchReport, Measurements, Part, Profile};

use super::common::{DeviceArg, JsonArg};
use crate::ui::Ui;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PartArg {
    Train,
    Generate,
    Loader,
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = ModelConfig::default().image_size)]
    pub image_size: usize,
    #[arg(long, default_value_t = ModelConfig::default().channels)]
    pub channels: usize,
    #[arg(long, default_value_t = BenchConfig::default().batch_size)]
    pub batch_size: usize,
    #[arg(long, default_value_t = ModelConfig::default().latent_dim)]
    pub latent_dim: usize,
    #[arg(long, alias = "ngf", default_value_t = ModelConfig::default().generator_width)]
    pub generator_width: usize,
    #[arg(long, alias = "ndf", default_value_t = ModelConfig::default().discriminator_width)]
    pub discriminator_width: usize,
    #[arg(long, default_value_t = ModelConfig::default().kernel_size)]
    pub kernel_size: usize,
    /// Timed repetitions of each measurement.
    #[arg(long, default_value_t = BenchConfig::default().runs)]
    pub runs: usize,
    /// Untimed repetitions first.
    #[arg(long, default_value_t = BenchConfig::default().warmup)]
    pub warmup: usize,
    /// Data sources for the loader measurement (repeatable).
    #[arg(long)]
    pub data: Vec<String>,
    /// Batches the loader measurement reads per run.
    #[arg(long, default_value_t = BenchConfig::default().loader_batches)]
    pub loader_batches: usize,
    /// Decoding threads for the loader (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Measure only these parts (repeatable; default: all).
    #[arg(long, value_enum)]
    pub only: Vec<PartArg>,
    /// Instead: time each operation of the training iteration alone (where the time goes).
    #[arg(long)]
    pub profile: bool,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub device: DeviceArg,
}

fn line(name: &str, t: &Timing) -> String {
    format!(
        "{name:<28} median {:>9.4} s  min {:>9.4} s  {:>9.1} img/s (best {:.1})  [{} runs]",
        t.median_s, t.min_s, t.items_per_s_median, t.items_per_s_best, t.runs
    )
}

pub fn run(a: BenchArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = BenchConfig {
        model: ModelConfig {
            image_size: a.image_size,
            channels: a.channels,
            latent_dim: a.latent_dim,
            generator_width: a.generator_width,
            discriminator_width: a.discriminator_width,
            kernel_size: a.kernel_size,
            ..ModelConfig::default()
        },
        batch_size: a.batch_size,
        runs: a.runs,
        warmup: a.warmup,
        data: a
            .data
            .iter()
            .map(|d| ui.data(d))
            .collect::<dcgan::Result<_>>()?,
        loader_batches: a.loader_batches,
        workers: a.workers,
        only: a
            .only
            .iter()
            .map(|p| match p {
                PartArg::Train => Part::Train,
                PartArg::Generate => Part::Generate,
                PartArg::Loader => Part::Loader,
            })
            .collect(),
        profile: a.profile,
        device: a.device.device,
    };
    let r = bench::run(config, ui)?;
    ui.report(&r, a.json.json, |r| match r {
        BenchReport::Measurements(m) => measurement_lines(m),
        BenchReport::Profile(p) => profile_lines(p),
    });
    Ok(())
}

fn measurement_lines(m: &Measurements) -> Vec<String> {
    let mut lines = Vec::new();
    if let (Some(b1), Some(bn)) = (&m.generate_batch1, &m.generate) {
        lines.push(line("generate, batch 1", b1));
        lines.push(line(&format!("generate, batch {}", m.batch_size), bn));
    }
    if let Some(t) = &m.train {
        lines.push(line(&format!("train, batch {}", m.batch_size), t));
    }
    for l in &m.loader {
        lines.push(line(&format!("loader, {}", l.source), &l.timing));
    }
    if let Some(mib) = m.peak_rss_mib {
        lines.push(format!("peak RSS {mib:.0} MiB"));
    }
    lines
}

fn profile_lines(p: &Profile) -> Vec<String> {
    let total = p.sum_s;
    let mut lines = vec![format!(
        "{:<26} {:<32} {:>10} {:>6} {:>11} {:>7}",
        "category", "op", "s/call", "calls", "s/iter", "share"
    )];
    for o in &p.ops {
        let t = o.seconds * o.per_iteration as f64;
        lines.push(format!(
            "{:<26} {:<32} {:>10.5} {:>6} {:>11.4} {:>6.1}%",
            o.category,
            o.name,
            o.seconds,
            o.per_iteration,
            t,
            100.0 * t / total
        ));
    }
    lines.push(String::new());
    let mut categories: Vec<&str> = p.ops.iter().map(|o| o.category).collect();
    categories.sort();
    categories.dedup();
    for c in categories {
        let t: f64 = p
            .ops
            .iter()
            .filter(|o| o.category == c)
            .map(|o| o.seconds * o.per_iteration as f64)
            .sum();
        lines.push(format!(
            "{c:<26} {t:>10.4} s/iter {:>6.1}%",
            100.0 * t / total
        ));
    }
    lines.push(format!(
        "{:<26} {total:>10.4} s/iter (sum of the ops timed alone)",
        "all"
    ));
    lines
}
