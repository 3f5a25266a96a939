//! `data dedup-eval`: near-duplicates planted in a data set, found by the chosen mode and by a
//! perceptual hash; recall and precision of each.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::tile;
use crate::Result;
use crate::data::{self, Dataset};
use crate::dedup::{
    self, AutoencoderSettings, Mode, NearSearch, Searched, near, near_search, paper_codes,
};
use crate::tasks::{Events, MAX_IMAGES, at_least_one, at_most};

/// `data dedup-eval`: planted near-duplicates, found by the chosen mode and a perceptual hash.
#[derive(Clone, Debug)]
pub struct DedupEvalConfig {
    /// The data set copies are planted into.
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// 1,000 planted copies, 250 of each alteration: recall to within about 3 %.
    pub plant: usize,
    /// Use only the first N items of the data.
    pub limit: usize,
    /// The search evaluated.
    pub mode: Mode,
    /// Near mode's settings.
    pub near: NearSearch,
    /// Paper mode's settings.
    pub autoencoder: AutoencoderSettings,
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
            background: crate::config::Background::WHITE,
            plant: 1000,
            limit: usize::MAX,
            mode: Mode::Near,
            near: NearSearch::default(),
            autoencoder: AutoencoderSettings::default(),
            out: None,
            show: 40,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
/// How well the search and a perceptual hash found the planted copies.
pub struct DedupEvalReport {
    /// The data set, as given.
    pub data: String,
    /// Data and planted copies (validation copies not counted).
    pub images: usize,
    /// The search evaluated.
    pub mode: Mode,
    /// Near mode: the threshold and how it was chosen.
    pub calibration: Option<near::Calibration>,
    /// Near mode: signatures compared in the search, and the bytes the index held.
    pub compared: Option<u64>,
    /// Near mode: bytes the index held.
    pub index_bytes: Option<usize>,
    /// Paper mode: the autoencoder's reconstruction error.
    pub reconstruction_mse: Option<f32>,
    /// The search's scores.
    pub method: dedup::PairScores,
    /// Its seconds.
    pub method_seconds: f64,
    /// A 64-bit perceptual hash's scores, as a baseline.
    pub phash: dedup::PairScores,
    /// Its seconds.
    pub phash_seconds: f64,
}

/// Plant altered copies of images, search, and score what was found.
pub fn dedup_eval(c: DedupEvalConfig, events: &mut dyn Events) -> Result<DedupEvalReport> {
    c.autoencoder.validate()?;
    c.near.validate()?;
    at_least_one("limit", c.limit)?;
    // Recall over no planted copies is undefined.
    at_least_one("plant", c.plant)?;
    at_most("plant", c.plant, MAX_IMAGES, "copies held in memory")?;
    at_most("show", c.show, 10_000, "rows of one figure")?;
    let base = data::open(&c.data, c.background)?;
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
            let cfg = c.autoencoder.training();
            let (codes, mse) = paper_codes(planted.clone(), &cfg, events)?;
            report.method =
                dedup::score(&dedup::group_pairs(&dedup::groups(&codes)), &pairs, total);
            report.reconstruction_mse = Some(mse);
        }
        Mode::Near => {
            // Validation copies of the data's own images (never of a planted copy), searched
            // with everything else; they choose the threshold and are then set aside. The
            // calibration is not told which items were planted: it sees them as `dedup` sees
            // the duplicates a data set already holds.
            let val = dedup::Planted::validation(
                planted.clone(),
                n,
                c.near.validation.min(n),
                c.near.seed,
            );
            let found = near_search(&val, total, &c.near, events)?;
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
        crate::tasks::make_dir(out)?;
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
    let mut unplanted: Vec<&near::Pair> = found
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
