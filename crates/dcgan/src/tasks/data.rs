//! `dcgan data`: what a data set holds (`info`), how the model sees it (`preview`), its items as
//! files (`export`), and the paper's de-duplication (`dedup`, `dedup-eval`, §4.1.1).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Events, MAX_IMAGES, at_least_one, at_most};
use crate::data::{self, Dataset, Transform, dedup, tools};
use crate::{Error, Result};

/// `data info`.
#[derive(Clone, Debug)]
pub struct InfoConfig {
    pub data: String,
    /// Examine only the first N items; all by default.
    pub limit: usize,
}

impl Default for InfoConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            limit: usize::MAX,
        }
    }
}

pub fn info(c: InfoConfig, _events: &mut dyn Events) -> Result<tools::Info> {
    at_least_one("limit", c.limit)?;
    let ds = data::open(&c.data)?;
    Ok(tools::info(&*ds, c.limit))
}

/// `data preview`.
#[derive(Clone, Debug)]
pub struct PreviewConfig {
    pub data: String,
    pub out: PathBuf,
    /// 64 items: an 8×8 grid.
    pub n: usize,
    /// 64-pixel tiles (shorter side resized, centre crop), the paper's LSUN size.
    pub size: usize,
    /// Tiles' channels, 1 or 3; `None`: the data's.
    pub channels: Option<usize>,
    pub seed: u64,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            out: PathBuf::new(),
            n: 64,
            size: 64,
            channels: None,
            seed: 0,
        }
    }
}

impl PreviewConfig {
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
pub struct PreviewReport {
    pub grid: PathBuf,
    pub shown: usize,
    pub data: String,
}

pub fn preview(c: PreviewConfig, _events: &mut dyn Events) -> Result<PreviewReport> {
    c.validate()?;
    let ds = data::open(&c.data)?;
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
    super::make_parent(&c.out)?;
    crate::viz::save_grid(&c.out, &images, n, channels, c.size, 0)?;
    Ok(PreviewReport {
        grid: c.out,
        shown: n,
        data: ds.describe(),
    })
}

/// `data export`.
#[derive(Clone, Debug)]
pub struct ExportConfig {
    pub data: String,
    pub out: PathBuf,
    pub limit: usize,
}

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            out: PathBuf::new(),
            limit: usize::MAX,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    pub out: PathBuf,
    pub written: usize,
    pub unreadable: usize,
}

pub fn export(c: ExportConfig, _events: &mut dyn Events) -> Result<ExportReport> {
    at_least_one("limit", c.limit)?;
    let path = Path::new(&c.data);
    // An LMDB environment can be open once per process: use the one handle for both.
    let (written, unreadable) = if data::lmdb::is_lmdb(path) {
        let db = data::lmdb::Lmdb::open(path)?;
        tools::export(&db, Some(&db), &c.out, c.limit)?
    } else {
        tools::export(&*data::open(&c.data)?, None, &c.out, c.limit)?
    };
    Ok(ExportReport {
        out: c.out,
        written,
        unreadable,
    })
}

/// The autoencoder settings `dedup` and `dedup-eval` share.
#[derive(Clone, Debug)]
pub struct Autoencoder {
    /// 10 epochs: the reconstruction error has levelled off by then on CIFAR-10.
    pub epochs: usize,
    /// 128 code bits: the paper's (§4.1.1).
    pub bits: usize,
    pub seed: u64,
}

impl Default for Autoencoder {
    fn default() -> Self {
        Self {
            epochs: 10,
            bits: 128,
            seed: 1,
        }
    }
}

impl Autoencoder {
    pub fn validate(&self) -> Result<()> {
        if self.bits == 0 || self.bits > 128 {
            return Err(Error::config("code bits", self.bits, "must be 1 to 128"));
        }
        at_least_one("epochs", self.epochs)?;
        at_most("epochs", self.epochs, 100_000, "passes over the data")?;
        Ok(())
    }

    fn config(&self) -> dedup::DedupConfig {
        dedup::DedupConfig {
            epochs: self.epochs,
            code_bits: self.bits,
            seed: self.seed,
            ..dedup::DedupConfig::default()
        }
    }
}

/// Train the autoencoder on `ds` and return the codes and the last reconstruction error.
fn codes(
    ds: Arc<dyn Dataset>,
    cfg: &dedup::DedupConfig,
    events: &mut dyn Events,
) -> Result<(Vec<Option<u128>>, f32)> {
    let device = crate::device::by_name("flex")?;
    dedup::codes(ds, cfg, &device, events)
}

/// `data dedup`.
#[derive(Clone, Debug)]
pub struct DedupConfig {
    pub data: String,
    /// Folder for `report.json`, `groups.png` and `kept.txt`.
    pub out: PathBuf,
    pub autoencoder: Autoencoder,
    /// 16 groups in `groups.png`: a page a person can check.
    pub show: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            out: PathBuf::new(),
            autoencoder: Autoencoder::default(),
            show: 16,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DedupReport {
    pub images: usize,
    pub groups: usize,
    pub excluded: usize,
    pub report: PathBuf,
    pub kept: PathBuf,
    /// None when there was no group to show.
    pub figure: Option<PathBuf>,
}

pub fn dedup(c: DedupConfig, events: &mut dyn Events) -> Result<DedupReport> {
    c.autoencoder.validate()?;
    at_most("show", c.show, 10_000, "rows of one figure")?;
    let cfg = c.autoencoder.config();
    let ds: Arc<dyn Dataset> = Arc::from(data::open(&c.data)?);
    super::make_dir(&c.out)?;
    let (codes, mse) = codes(ds.clone(), &cfg, events)?;
    let groups = dedup::groups(&codes);
    let report = dedup::report(&c.data, &*ds, cfg.code_bits, mse, &groups);
    let report_path = c.out.join("report.json");
    let text = serde_json::to_string_pretty(&report).expect("a report serialises");
    crate::io::atomic_write(&report_path, text.as_bytes())?;
    let excluded: std::collections::HashSet<usize> = report.excluded.iter().copied().collect();
    let kept: String = (0..ds.len())
        .filter(|i| !excluded.contains(i))
        .map(|i| ds.name(i) + "\n")
        .collect();
    let kept_path = c.out.join("kept.txt");
    crate::io::atomic_write(&kept_path, kept.as_bytes())?;
    let t = Transform {
        size: 32,
        channels: 3,
    };
    let rows: Vec<Vec<f32>> = groups
        .iter()
        .take(c.show)
        .map(|g| {
            g.iter()
                .take(8)
                .filter_map(|&i| ds.get(i).ok())
                .flat_map(|img| t.apply(&img))
                .collect()
        })
        .collect();
    let figure = if rows.is_empty() {
        None
    } else {
        let p = c.out.join("groups.png");
        crate::viz::save_rows(&p, &rows, 3, 32)?;
        Some(p)
    };
    Ok(DedupReport {
        images: ds.len(),
        groups: groups.len(),
        excluded: report.excluded.len(),
        report: report_path,
        kept: kept_path,
        figure,
    })
}

/// `data dedup-eval`: planted near-duplicates, found by the autoencoder and a perceptual hash.
#[derive(Clone, Debug)]
pub struct DedupEvalConfig {
    pub data: String,
    /// 500 planted copies: recall to within a few per cent.
    pub plant: usize,
    /// Use only the first N items of the data.
    pub limit: usize,
    pub autoencoder: Autoencoder,
}

impl Default for DedupEvalConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            plant: 500,
            limit: usize::MAX,
            autoencoder: Autoencoder::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DedupEvalReport {
    pub data: String,
    pub images: usize,
    pub config: dedup::DedupConfig,
    pub reconstruction_mse: f32,
    pub autoencoder: dedup::Scores,
    pub autoencoder_seconds: f64,
    pub phash: dedup::Scores,
    pub phash_seconds: f64,
}

pub fn dedup_eval(c: DedupEvalConfig, events: &mut dyn Events) -> Result<DedupEvalReport> {
    c.autoencoder.validate()?;
    at_least_one("limit", c.limit)?;
    at_most("plant", c.plant, MAX_IMAGES, "copies held in memory")?;
    let cfg = c.autoencoder.config();
    let base = data::open(&c.data)?;
    let n = base.len().min(c.limit);
    let base: Arc<dyn Dataset> = if n < base.len() {
        let drop: Vec<usize> = (n..base.len()).collect();
        Arc::new(data::Subset::excluding(base, &drop, format!("first {n}")))
    } else {
        Arc::from(base)
    };
    let planted = Arc::new(dedup::Planted::new(base, c.plant, cfg.seed));
    let pairs = planted.pairs();
    let total = planted.len();
    let t0 = std::time::Instant::now();
    let (codes, mse) = codes(planted.clone(), &cfg, events)?;
    let autoencoder_seconds = t0.elapsed().as_secs_f64();
    let autoencoder = dedup::score(&dedup::groups(&codes), &pairs, total);
    let t1 = std::time::Instant::now();
    let phash = dedup::score(
        &dedup::groups(&dedup::phash_codes(&*planted)),
        &pairs,
        total,
    );
    Ok(DedupEvalReport {
        data: planted.describe(),
        images: total,
        config: cfg,
        reconstruction_mse: mse,
        autoencoder,
        autoencoder_seconds,
        phash,
        phash_seconds: t1.elapsed().as_secs_f64(),
    })
}
