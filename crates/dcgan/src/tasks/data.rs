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

/// Which de-duplication: the near-duplicate search (default) or the paper's exact collisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// [`crate::data::neardup`]: lined-up thumbnails, threshold chosen for a precision.
    Near,
    /// Paper §4.1.1: equal 128-bit autoencoder codes.
    Paper,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "near" => Ok(Mode::Near),
            "paper" => Ok(Mode::Paper),
            _ => Err(format!("unknown mode '{s}': use near or paper")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Near => "near",
            Mode::Paper => "paper",
        })
    }
}

/// The near-duplicate search's settings.
#[derive(Clone, Debug)]
pub struct NearSearch {
    /// The share of flagged pairs that must be right, measured on the validation copies.
    pub precision: f64,
    /// Validation copies planted to choose the threshold (at most one per image).
    pub validation: usize,
    /// A fixed threshold instead of one chosen on validation copies.
    pub threshold: Option<f32>,
    pub seed: u64,
}

impl Default for NearSearch {
    fn default() -> Self {
        Self {
            precision: 0.99,
            // 1,000 copies: the precision is then measured on about a thousand pairs.
            validation: 1000,
            threshold: None,
            seed: 1,
        }
    }
}

impl NearSearch {
    pub fn validate(&self) -> Result<()> {
        if !(self.precision > 0.0 && self.precision <= 1.0) {
            return Err(Error::config(
                "precision",
                self.precision,
                "must be above 0 and at most 1",
            ));
        }
        at_least_one("validation", self.validation)?;
        at_most(
            "validation",
            self.validation,
            MAX_IMAGES,
            "copies held in memory",
        )?;
        if let Some(t) = self.threshold
            && !(data::neardup::FLOOR..=1.0).contains(&t)
        {
            return Err(Error::config(
                "threshold",
                t,
                "must be a similarity from 0.9 to 1 (pairs below 0.9 are never kept)",
            ));
        }
        Ok(())
    }
}

/// What the near-duplicate search found in `planted` (the data, perhaps evaluation copies, then
/// validation copies): the index, its pairs, and the threshold.
struct Searched {
    index: data::neardup::Index,
    pairs: Vec<data::neardup::Pair>,
    compared: u64,
    calibration: data::neardup::Calibration,
}

/// Search `val` (its first `items` the data, perhaps with evaluation copies, the rest validation
/// copies) and choose the threshold; `root(item)` is the image an item below `items` copies
/// (itself for the data's own).
fn near_search(
    val: &dedup::Planted,
    items: usize,
    root: impl Fn(usize) -> usize,
    s: &NearSearch,
    events: &mut dyn Events,
) -> Result<Searched> {
    let index = data::neardup::Index::build(val, s.seed, events)?;
    let (pairs, compared) = index.pairs(events);
    let calibration = data::neardup::calibrate(
        &pairs,
        items..val.len(),
        |i| {
            if i < items {
                root(i)
            } else {
                root(val.original(i))
            }
        },
        items,
        s.precision,
        s.threshold,
    );
    let copies = val.len() - items;
    if s.threshold.is_none() && (copies as f64) * (1.0 - s.precision) < 1.0 {
        events.info(format!(
            "note: with {copies} validation copies one false pair already breaks precision {}; the threshold may be set high (a smaller --precision, or more images, lowers it)",
            s.precision
        ));
    }
    events.info(format!(
        "threshold {:.4}: {} of {} validation copies found, {} false pairs with them (precision {:.3})",
        calibration.threshold,
        calibration.found,
        calibration.copies,
        calibration.false_pairs,
        calibration.precision
    ));
    Ok(Searched {
        index,
        pairs,
        compared,
        calibration,
    })
}

/// An item at 32×32 for a figure (grey when unreadable).
fn tile(ds: &dyn Dataset, i: usize) -> image::RgbImage {
    ds.get(i)
        .map(|im| {
            im.resize_exact(32, 32, image::imageops::FilterType::Triangle)
                .to_rgb8()
        })
        .unwrap_or_else(|_| image::RgbImage::from_pixel(32, 32, image::Rgb([128, 128, 128])))
}

/// `data dedup`.
#[derive(Clone, Debug)]
pub struct DedupConfig {
    pub data: String,
    /// Folder for `report.json`, `groups.png` and `kept.txt`.
    pub out: PathBuf,
    pub mode: Mode,
    pub near: NearSearch,
    pub autoencoder: Autoencoder,
    /// 16 groups in `groups.png`: a page a person can check.
    pub show: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            out: PathBuf::new(),
            mode: Mode::Near,
            near: NearSearch::default(),
            autoencoder: Autoencoder::default(),
            show: 16,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DedupReport {
    pub images: usize,
    pub mode: Mode,
    pub groups: usize,
    pub excluded: usize,
    /// Near mode: the similarity threshold used.
    pub threshold: Option<f32>,
    pub report: PathBuf,
    pub kept: PathBuf,
    /// None when there was no group to show.
    pub figure: Option<PathBuf>,
}

pub fn dedup(c: DedupConfig, events: &mut dyn Events) -> Result<DedupReport> {
    c.autoencoder.validate()?;
    c.near.validate()?;
    at_most("show", c.show, 10_000, "rows of one figure")?;
    let ds: Arc<dyn Dataset> = Arc::from(data::open(&c.data)?);
    super::make_dir(&c.out)?;
    let n = ds.len();
    let (report, similarity): (dedup::Report, Option<Vec<Vec<f32>>>) = match c.mode {
        Mode::Paper => {
            let cfg = c.autoencoder.config();
            let (codes, mse) = codes(ds.clone(), &cfg, events)?;
            let groups = dedup::groups(&codes);
            let mut r = dedup::report(&c.data, &*ds, &groups, None);
            r.code_bits = cfg.code_bits;
            r.reconstruction_mse = mse;
            (r, None)
        }
        Mode::Near => {
            let val =
                dedup::Planted::validation(ds.clone(), n, c.near.validation.min(n), c.near.seed);
            let found = near_search(&val, n, |i| i, &c.near, events)?;
            let groups = data::neardup::groups(&found.pairs, n, found.calibration.threshold);
            let sim = |a: usize, b: usize| found.index.similarity(a, b);
            let mut r = dedup::report(&c.data, &*ds, &groups, Some(&sim));
            r.mode = "near".into();
            r.calibration = Some(found.calibration);
            let s = r.groups.iter().map(|g| g.similarity.clone()).collect();
            (r, Some(s))
        }
    };
    let report_path = c.out.join("report.json");
    let text = serde_json::to_string_pretty(&report).expect("a report serialises");
    crate::io::atomic_write(&report_path, text.as_bytes())?;
    let excluded: std::collections::HashSet<usize> = report.excluded.iter().copied().collect();
    let kept: String = (0..n)
        .filter(|i| !excluded.contains(i))
        .map(|i| ds.name(i) + "\n")
        .collect();
    let kept_path = c.out.join("kept.txt");
    crate::io::atomic_write(&kept_path, kept.as_bytes())?;
    // One group a row: the kept image first, then the others with their distance to it
    // (1 − similarity; near mode) or their shared code (paper mode).
    let rows: Vec<Vec<(image::RgbImage, String)>> = report
        .groups
        .iter()
        .enumerate()
        .take(c.show)
        .map(|(g, group)| {
            group
                .items
                .iter()
                .take(8)
                .enumerate()
                .map(|(k, &i)| {
                    let label = match (&similarity, k) {
                        (_, 0) => "kept".to_string(),
                        (Some(s), _) => format!("d {:.4}", 1.0 - s[g][k]),
                        (None, _) => "same code".to_string(),
                    };
                    (tile(&*ds, i), label)
                })
                .collect()
        })
        .collect();
    let figure = if rows.is_empty() {
        None
    } else {
        let p = c.out.join("groups.png");
        crate::viz::save_labelled_rows(&p, &rows, 2)?;
        Some(p)
    };
    Ok(DedupReport {
        images: n,
        mode: c.mode,
        groups: report.groups.len(),
        excluded: report.excluded.len(),
        threshold: report.calibration.as_ref().map(|c| c.threshold),
        report: report_path,
        kept: kept_path,
        figure,
    })
}

/// `data dedup-eval`: planted near-duplicates, found by the chosen mode and a perceptual hash.
#[derive(Clone, Debug)]
pub struct DedupEvalConfig {
    pub data: String,
    /// 1,000 planted copies, 250 of each alteration: recall to within about 3 %.
    pub plant: usize,
    /// Use only the first N items of the data.
    pub limit: usize,
    pub mode: Mode,
    pub near: NearSearch,
    pub autoencoder: Autoencoder,
    /// A folder for `report.json` and pictures of the pairs flagged but not planted
    /// (`unplanted.png`) and the planted pairs missed (`missed.png`).
    pub out: Option<PathBuf>,
    /// Rows of those pictures.
    pub show: usize,
}

impl Default for DedupEvalConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            plant: 1000,
            limit: usize::MAX,
            mode: Mode::Near,
            near: NearSearch::default(),
            autoencoder: Autoencoder::default(),
            out: None,
            show: 40,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DedupEvalReport {
    pub data: String,
    /// Data and planted copies (validation copies not counted).
    pub images: usize,
    pub mode: Mode,
    /// Near mode: the threshold and how it was chosen.
    pub calibration: Option<data::neardup::Calibration>,
    /// Near mode: signatures compared in the search, and the bytes the index held.
    pub compared: Option<u64>,
    pub index_bytes: Option<usize>,
    /// Paper mode: the autoencoder's reconstruction error.
    pub reconstruction_mse: Option<f32>,
    pub method: dedup::Scores,
    pub method_seconds: f64,
    pub phash: dedup::Scores,
    pub phash_seconds: f64,
}

pub fn dedup_eval(c: DedupEvalConfig, events: &mut dyn Events) -> Result<DedupEvalReport> {
    c.autoencoder.validate()?;
    c.near.validate()?;
    at_least_one("limit", c.limit)?;
    at_most("plant", c.plant, MAX_IMAGES, "copies held in memory")?;
    at_most("show", c.show, 10_000, "rows of one figure")?;
    let base = data::open(&c.data)?;
    let n = base.len().min(c.limit);
    let base: Arc<dyn Dataset> = if n < base.len() {
        let drop: Vec<usize> = (n..base.len()).collect();
        Arc::new(data::Subset::excluding(base, &drop, format!("first {n}")))
    } else {
        Arc::from(base)
    };
    let planted = Arc::new(dedup::Planted::new(base, c.plant, c.near.seed));
    let pairs = planted.pairs();
    let total = planted.len();
    let t0 = std::time::Instant::now();
    let mut report = DedupEvalReport {
        data: planted.describe(),
        images: total,
        mode: c.mode,
        calibration: None,
        compared: None,
        index_bytes: None,
        reconstruction_mse: None,
        method: dedup::score(&[], &pairs, total),
        method_seconds: 0.0,
        phash: dedup::score(&[], &pairs, total),
        phash_seconds: 0.0,
    };
    let mut near_found = None;
    match c.mode {
        Mode::Paper => {
            let cfg = c.autoencoder.config();
            let (codes, mse) = codes(planted.clone(), &cfg, events)?;
            report.method =
                dedup::score(&dedup::group_pairs(&dedup::groups(&codes)), &pairs, total);
            report.reconstruction_mse = Some(mse);
        }
        Mode::Near => {
            // Validation copies of the data's own images (never of a planted copy), searched
            // with everything else; they choose the threshold and are then set aside.
            let val = dedup::Planted::validation(
                planted.clone(),
                n,
                c.near.validation.min(n),
                c.near.seed,
            );
            let root = |i: usize| if i < n { i } else { planted.original(i) };
            let found = near_search(&val, total, root, &c.near, events)?;
            let t = found.calibration.threshold;
            let flagged: Vec<(usize, usize)> = found
                .pairs
                .iter()
                .filter(|p| p.b < total && p.similarity >= t)
                .map(|p| (p.a, p.b))
                .collect();
            report.method = dedup::score(&flagged, &pairs, total);
            report.compared = Some(found.compared);
            report.index_bytes = Some(found.index.bytes());
            report.calibration = Some(found.calibration.clone());
            near_found = Some(found);
        }
    }
    report.method_seconds = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    report.phash = dedup::score(
        &dedup::group_pairs(&dedup::groups(&dedup::phash_codes(&*planted))),
        &pairs,
        total,
    );
    report.phash_seconds = t1.elapsed().as_secs_f64();
    if let Some(out) = &c.out {
        super::make_dir(out)?;
        if let Some(found) = &near_found {
            eval_figures(out, &*planted, &pairs, found, c.show)?;
        }
        let text = serde_json::to_string_pretty(&report).expect("a report serialises");
        crate::io::atomic_write(&out.join("report.json"), text.as_bytes())?;
    }
    Ok(report)
}

/// `unplanted.png`: flagged pairs that were not planted, most similar first, three to a row;
/// `missed.png`: planted pairs not flagged, with their similarity and alteration.
fn eval_figures(
    out: &Path,
    ds: &dyn Dataset,
    planted: &[(usize, usize)],
    found: &Searched,
    show: usize,
) -> Result<()> {
    let t = found.calibration.threshold;
    let total = ds.len();
    let set: std::collections::HashSet<(usize, usize)> = planted.iter().copied().collect();
    let mut unplanted: Vec<&data::neardup::Pair> = found
        .pairs
        .iter()
        .filter(|p| p.b < total && p.similarity >= t && !set.contains(&(p.a, p.b)))
        .collect();
    unplanted.sort_by(|x, y| y.similarity.total_cmp(&x.similarity));
    let flagged: std::collections::HashSet<(usize, usize)> = found
        .pairs
        .iter()
        .filter(|p| p.similarity >= t)
        .map(|p| (p.a, p.b))
        .collect();
    let pair_tiles = |a: usize, b: usize, first: String, second: String| {
        [(tile(ds, a), first), (tile(ds, b), second)]
    };
    let rows = |cells: Vec<[(image::RgbImage, String); 2]>| -> Vec<Vec<(image::RgbImage, String)>> {
        cells
            .chunks(3)
            .take(show)
            .map(|c| c.iter().flat_map(|p| p.iter().cloned()).collect())
            .collect()
    };
    let cells = unplanted
        .iter()
        .map(|p| {
            pair_tiles(
                p.a,
                p.b,
                format!("{}", p.a),
                format!("d {:.4}", 1.0 - p.similarity),
            )
        })
        .collect();
    crate::viz::save_labelled_rows(&out.join("unplanted.png"), &rows(cells), 2)?;
    let cells = planted
        .iter()
        .enumerate()
        .filter(|(_, p)| !flagged.contains(p))
        .map(|(k, &(a, b))| {
            let kind = ["resized", "JPEG", "cropped", "bright"][k % 4];
            let d = 1.0 - found.index.similarity(a, b);
            pair_tiles(a, b, kind.to_string(), format!("d {d:.4}"))
        })
        .collect();
    crate::viz::save_labelled_rows(&out.join("missed.png"), &rows(cells), 2)
}
