//! `data dedup`: near-duplicates found and written as a report, a list of kept items and a
//! figure ([`crate::dedup`] does the search).

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::tile;
use crate::Result;
use crate::data::{self, Dataset};
use crate::dedup::{self, AutoencoderSettings, Mode, NearSearch, near, near_search, paper_codes};
use crate::tasks::{Events, at_most};

/// `data dedup`.
#[derive(Clone, Debug)]
pub struct DedupConfig {
    /// The data set searched (a folder, a file or a set's name).
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// Folder for `report.json`, `groups.png` and `kept.txt`.
    pub out: PathBuf,
    /// The near-duplicate search or the paper's autoencoder codes.
    pub mode: Mode,
    /// Near mode's settings.
    pub near: NearSearch,
    /// Paper mode's settings.
    pub autoencoder: AutoencoderSettings,
    /// 16 groups in `groups.png`: a page a person can check.
    pub show: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            background: crate::config::Background::WHITE,
            out: PathBuf::new(),
            mode: Mode::Near,
            near: NearSearch::default(),
            autoencoder: AutoencoderSettings::default(),
            show: 16,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `data dedup` found and wrote.
pub struct DedupReport {
    /// Items searched.
    pub images: usize,
    /// How they were searched.
    pub mode: Mode,
    /// Groups of near-duplicates.
    pub groups: usize,
    /// Items to leave out (all but the first of each group).
    pub excluded: usize,
    /// Near mode: the similarity threshold used.
    pub threshold: Option<f32>,
    /// `report.json` (for `train --exclude`).
    pub report: PathBuf,
    /// `kept.txt`: the names of the items kept.
    pub kept: PathBuf,
    /// None when there was no group to show.
    pub figure: Option<PathBuf>,
}

/// Search a data set for near-duplicates and write the report, the list kept and a picture of
/// groups.
pub fn dedup(c: DedupConfig, events: &mut dyn Events) -> Result<DedupReport> {
    c.autoencoder.validate()?;
    c.near.validate()?;
    at_most("show", c.show, 10_000, "rows of one figure")?;
    let ds: Arc<dyn Dataset> = Arc::from(data::open(&c.data, c.background)?);
    crate::tasks::make_dir(&c.out)?;
    let n = ds.len();
    let (report, similarity): (dedup::Report, Option<Vec<Vec<f32>>>) = match c.mode {
        Mode::Paper => {
            let cfg = c.autoencoder.training();
            let (codes, mse) = paper_codes(ds.clone(), &cfg, events)?;
            let groups = dedup::groups(&codes);
            let mut r = dedup::report(&c.data, &*ds, &groups, None);
            r.code_bits = cfg.code_bits;
            r.reconstruction_mse = mse;
            (r, None)
        }
        Mode::Near => {
            let val =
                dedup::Planted::validation(ds.clone(), n, c.near.validation.min(n), c.near.seed);
            let found = near_search(&val, n, &c.near, events)?;
            let groups = near::groups(&found.pairs, n, found.calibration.threshold);
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
