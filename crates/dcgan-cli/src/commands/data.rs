//! `dcgan data`: argument parsing and rendering; the tools are in `dcgan::tasks::data`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use dcgan::Result;
use dcgan::dedup::ALTERATIONS;
use dcgan::tasks::data::{
    self, AutoencoderSettings, DataExportConfig, DedupConfig, DedupEvalConfig, InfoConfig, Mode,
    NearSearch, PreviewConfig,
};

use super::common::JsonArg;
use crate::ui::Ui;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Count the items, their sizes, channels, classes and unreadable files.
    Info(InfoArgs),
    /// A grid of random items, prepared as a model would see them.
    Preview(PreviewArgs),
    /// Write the items to a folder (an LMDB's stored bytes as they are).
    Export(ExportArgs),
    /// Find near-duplicates (resized, re-compressed, cropped, brightened copies), or with
    /// `--mode paper` the paper's autoencoder hashing (§4.1.1).
    Dedup(DedupArgs),
    /// Measure de-duplication on a data set with planted near-duplicates, against a perceptual hash.
    DedupEval(DedupEvalArgs),
}

#[derive(Args)]
pub struct ModeArgs {
    /// near: lined-up thumbnails with a threshold chosen for --precision; paper: equal 128-bit
    /// autoencoder codes (§4.1.1).
    #[arg(long, default_value_t = Mode::Near)]
    pub mode: Mode,
    /// Near mode: the share of flagged pairs that must be right, measured on validation copies.
    #[arg(long, default_value_t = NearSearch::default().precision)]
    pub precision: f64,
    /// Near mode: validation copies planted to choose the threshold.
    #[arg(long, default_value_t = NearSearch::default().validation)]
    pub validation: usize,
    /// Near mode: a fixed similarity threshold (0.9 to 1) instead of a chosen one.
    #[arg(long)]
    pub threshold: Option<f32>,
}

#[derive(Args)]
pub struct AutoencoderArgs {
    /// Paper mode: autoencoder training epochs.
    #[arg(long, default_value_t = AutoencoderSettings::default().epochs)]
    pub epochs: usize,
    /// Paper mode: code bits (the paper: 128).
    #[arg(long, default_value_t = AutoencoderSettings::default().bits)]
    pub bits: usize,
    #[arg(long, default_value_t = AutoencoderSettings::default().seed)]
    pub seed: u64,
}

impl AutoencoderArgs {
    fn config(&self) -> AutoencoderSettings {
        AutoencoderSettings {
            epochs: self.epochs,
            bits: self.bits,
            seed: self.seed,
        }
    }

    fn near(&self, m: &ModeArgs) -> NearSearch {
        NearSearch {
            precision: m.precision,
            validation: m.validation,
            threshold: m.threshold,
            seed: self.seed,
        }
    }
}

#[derive(Args)]
pub struct DedupArgs {
    pub data: String,
    /// Folder for report.json, groups.png and kept.txt.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub mode: ModeArgs,
    #[command(flatten)]
    pub autoencoder: AutoencoderArgs,
    /// Groups shown in groups.png.
    #[arg(long, default_value_t = DedupConfig::default().show)]
    pub show: usize,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Args)]
pub struct DedupEvalArgs {
    pub data: String,
    /// Near-duplicates to plant.
    #[arg(long, default_value_t = DedupEvalConfig::default().plant)]
    pub plant: usize,
    /// Use only the first N items of the data.
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[command(flatten)]
    pub mode: ModeArgs,
    #[command(flatten)]
    pub autoencoder: AutoencoderArgs,
    /// A folder for report.json, unplanted.png (flagged pairs not planted) and missed.png.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rows of those pictures.
    #[arg(long, default_value_t = DedupEvalConfig::default().show)]
    pub show: usize,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Args)]
pub struct InfoArgs {
    pub data: String,
    /// Examine only the first N items.
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Args)]
pub struct PreviewArgs {
    pub data: String,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = PreviewConfig::default().n)]
    pub n: usize,
    /// Side of each tile (shorter side resized, centre crop).
    #[arg(long, default_value_t = PreviewConfig::default().size)]
    pub size: usize,
    /// Tiles' channels: 1 or 3 (default: the data's).
    #[arg(long)]
    pub channels: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Args)]
pub struct ExportArgs {
    pub data: String,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(cmd: DataCommand, ui: &mut Ui) -> Result<()> {
    match cmd {
        DataCommand::Info(a) => {
            let r = data::info(
                InfoConfig {
                    data: ui.data(&a.data)?,
                    background: ui.background(),
                    limit: a.limit,
                },
                ui,
            )?;
            ui.report(&r, a.json.json, info_lines);
        }
        DataCommand::Preview(a) => {
            let config = PreviewConfig {
                data: ui.data(&a.data)?,
                background: ui.background(),
                out: a.out,
                n: a.n,
                size: a.size,
                channels: a.channels,
                seed: a.seed,
            };
            let r = data::preview(config, ui)?;
            ui.report(&r, a.json.json, |r| {
                vec![format!(
                    "wrote {} ({} images of {})",
                    r.grid.display(),
                    r.shown,
                    r.data
                )]
            });
        }
        DataCommand::Export(a) => {
            let config = DataExportConfig {
                data: ui.data(&a.data)?,
                out: a.out,
                limit: a.limit,
            };
            let r = data::export(config, ui)?;
            ui.report(&r, a.json.json, |r| {
                vec![format!(
                    "wrote {} images to {}{}",
                    r.written,
                    r.out.display(),
                    if r.unreadable > 0 {
                        format!("; {} unreadable skipped", r.unreadable)
                    } else {
                        String::new()
                    }
                )]
            });
        }
        DataCommand::Dedup(a) => {
            let config = DedupConfig {
                data: ui.data(&a.data)?,
                background: ui.background(),
                out: a.out,
                mode: a.mode.mode,
                near: a.autoencoder.near(&a.mode),
                autoencoder: a.autoencoder.config(),
                show: a.show,
            };
            let r = data::dedup(config, ui)?;
            ui.report(&r, a.json.json, |r| {
                vec![format!(
                    "{} images, {} duplicate groups{}, {} images excluded; wrote {}, {}{}",
                    r.images,
                    r.groups,
                    r.threshold
                        .map(|t| format!(" (similarity at least {t:.4})"))
                        .unwrap_or_default(),
                    r.excluded,
                    r.report.display(),
                    r.kept.display(),
                    r.figure
                        .as_ref()
                        .map(|p| format!(", {}", p.display()))
                        .unwrap_or_default()
                )]
            });
        }
        DataCommand::DedupEval(a) => {
            let config = DedupEvalConfig {
                data: ui.data(&a.data)?,
                background: ui.background(),
                plant: a.plant,
                limit: a.limit,
                mode: a.mode.mode,
                near: a.autoencoder.near(&a.mode),
                autoencoder: a.autoencoder.config(),
                out: a.out,
                show: a.show,
            };
            let r = data::dedup_eval(config, ui)?;
            ui.report(&r, a.json.json, |r| {
                let mut lines = vec![format!("{} ({} images)", r.data, r.images)];
                if let Some(c) = &r.calibration {
                    lines.push(format!(
                        "threshold {:.4}, chosen on {} validation copies for precision {} (there: recall {:.3}, precision {:.3})",
                        c.threshold, c.copies, c.target_precision, c.recall, c.precision
                    ));
                }
                let name = match r.mode {
                    Mode::Near => "near-duplicate search",
                    Mode::Paper => "autoencoder, equal codes",
                };
                for (name, s, secs) in [
                    (name, &r.method, r.method_seconds),
                    ("perceptual hash, equal", &r.phash, r.phash_seconds),
                ] {
                    lines.push(format!(
                        "{name:<24} recall {:.3} ({}/{} planted pairs)  flagged pairs {}, not planted {}: precision {:.3}, with a copy in them {:.3}  [{secs:.0} s]",
                        s.recall,
                        s.found,
                        s.planted_pairs,
                        s.flagged_pairs,
                        s.false_pairs,
                        s.precision,
                        s.copy_precision,
                    ));
                    let by: Vec<String> = ALTERATIONS
                        .iter()
                        .zip(s.recall_by_alteration)
                        .map(|(k, r)| format!("{k} {r:.3}"))
                        .collect();
                    lines.push(format!("{:<24} recall by alteration: {}", "", by.join(", ")));
                }
                lines
            });
        }
    }
    Ok(())
}

fn info_lines(info: &dcgan::data::tools::Info) -> Vec<String> {
    let top = |m: &BTreeMap<String, usize>| {
        let mut v: Vec<_> = m.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1));
        v.iter()
            .take(8)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![
        info.description.clone(),
        format!("items: {} (examined {})", info.items, info.examined),
        format!(
            "sizes: {}{}",
            top(&info.sizes),
            if info.sizes.len() > 8 {
                format!(", ... ({} sizes)", info.sizes.len())
            } else {
                String::new()
            }
        ),
        format!("channels: {}", top(&info.channels)),
    ];
    if info.transparent > 0 {
        lines.push(format!(
            "transparency: {} of {} images; composited over {} before use (--background)",
            info.transparent,
            info.examined - info.unreadable,
            info.background.as_deref().unwrap_or("white")
        ));
    }
    if !info.classes.is_empty() {
        lines.push(format!(
            "classes ({}): {}",
            info.classes.len(),
            info.classes
                .iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines.push(format!("unreadable: {}", info.unreadable));
    lines.extend(info.unreadable_examples.iter().map(|e| format!("  {e}")));
    lines
}
