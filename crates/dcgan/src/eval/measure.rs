//! The measurement behind FID and KID, shared by `dcgan fid` and the evaluations of
//! `dcgan train --eval-every` so that the two agree to the bit: a set measured as statistics (a
//! `.npz` given), from the statistics cache ([`super::fid_cache`]), or by Inception over its
//! images; and the scores of two measured sets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::fid::{Extractor, Kid, Stats, dataset_features, frechet_distance_of, kid};
use super::fid_cache::{CacheEntry, cache_key};
use super::inception::{FEATURES, Inception};
use super::prdc::Prdc;
use crate::data::Dataset;
use crate::device::Device;
use crate::progress::Events;
use crate::rng::Stream;
use crate::{Error, Result};

/// How sets are measured and scored: at most `n` images a set, `batch_size` at a time through
/// Inception (`weights`), subsets and latents drawn from `seed`, KID over `kid_subsets` subsets
/// of `kid_subset_size`; real sets' statistics kept in `stats_cache` when it is set.
#[derive(Clone, Debug)]
pub struct Protocol {
    /// At most this many images a set (a random subset of a larger set); a generator draws this
    /// many.
    pub n: usize,
    /// Seed of the generator's latents and of the subsets.
    pub seed: u64,
    /// Images through Inception at a time.
    pub batch_size: usize,
    /// KID: subsets drawn.
    pub kid_subsets: usize,
    /// KID: feature vectors in each subset.
    pub kid_subset_size: usize,
    /// The Inception weights file.
    pub weights: PathBuf,
    /// Folder of cached reference statistics (none: always recomputed).
    pub stats_cache: Option<PathBuf>,
    /// What images with transparency are composited over (part of the cache key).
    pub background: crate::config::Background,
    /// How images are prepared for Inception (part of the cache key).
    pub mode: crate::config::FidMode,
    /// Precision, recall, density and coverage with this many neighbours; `None`: not measured.
    pub prdc_k: Option<usize>,
    /// With `prdc_k`, the same scores for these k too, from the same pass over the pairs.
    pub prdc_other_k: Vec<usize>,
}

impl Default for Protocol {
    /// `dcgan fid`'s defaults, each with its reason in `tasks::fid::FidConfig`.
    fn default() -> Self {
        Self {
            n: 10_000,
            seed: 0,
            batch_size: 50,
            kid_subsets: 100,
            kid_subset_size: 1000,
            weights: PathBuf::new(),
            stats_cache: None,
            background: crate::config::Background::WHITE,
            mode: crate::config::FidMode::default(),
            prdc_k: None,
            prdc_other_k: Vec::new(),
        }
    }
}

/// One side of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SetReport {
    /// What was measured (a data set, or a checkpoint's samples).
    pub what: String,
    /// Images measured.
    pub n: usize,
    /// Its statistics and features came from the cache (no Inception pass).
    pub from_cache: bool,
    /// A data set's fingerprint (16 hex digits of the SHA-256 of its item count and the pixels
    /// of 64 items spread over it): equal fingerprints, the same images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Of a data set's items, how many are JPEG files (lossy copies score differently from the
    /// originals); `None` for generated images and statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jpeg_items: Option<usize>,
}

/// A data set's fingerprint for reports: 16 hex digits of the SHA-256 of [`Fingerprint::of`].
///
/// [`Fingerprint::of`]: crate::data::Fingerprint::of
pub fn fingerprint_hex(ds: &dyn Dataset) -> String {
    use sha2::{Digest, Sha256};
    let f = crate::data::Fingerprint::of(ds);
    let h = Sha256::digest(serde_json::to_vec(&f).expect("plain data"));
    crate::io::hex(&h[..8])
}

/// Items of `ds` whose names end in `.jpg` or `.jpeg`.
fn jpeg_items(ds: &dyn Dataset) -> usize {
    (0..ds.len())
        .filter(|&i| {
            let n = ds.name(i).to_ascii_lowercase();
            n.ends_with(".jpg") || n.ends_with(".jpeg")
        })
        .count()
}

/// One side, measured: statistics, and features when it was images.
pub struct Side {
    /// What was measured.
    pub report: SetReport,
    /// Its feature statistics.
    pub stats: Stats,
    /// The features themselves, kept when KID needs them.
    pub features: Option<Vec<f32>>,
}

fn is_stats(s: &str) -> bool {
    Path::new(s)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// The statistics of a set given as `.npz`, read before any network runs (a bad file is reported
/// at once).
pub(crate) fn stats_side(source: &str, mode: crate::config::FidMode) -> Result<Option<Side>> {
    if !is_stats(source) {
        return Ok(None);
    }
    let (stats, made_in) = Stats::load_npz_with_mode(Path::new(source))?;
    if let Some(m) = made_in.filter(|&m| m != mode) {
        return Err(Error::config(
            "FID mode",
            mode,
            format!(
                "{source} holds statistics measured in the {m} mode: give --fid-mode {m}, or the images"
            ),
        ));
    }

    Ok(Some(Side {
        report: SetReport {
            what: format!("statistics {source}"),
            n: stats.n,
            from_cache: false,
            fingerprint: None,
            jpeg_items: None,
        },
        stats,
        features: None,
    }))
}

/// A set of images (a folder or data set) measured by Inception at `size` (`None`: its first
/// image's shorter side), through the statistics cache when the protocol has one.
pub(crate) fn images_side(
    net: &Inception,
    source: &str,
    size: Option<usize>,
    c: &Protocol,
    device: &Device,
    events: &mut dyn Events,
) -> Result<Side> {
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(source, c.background)?);
    dataset_side(net, ds, source, size, c, device, events)
}

/// [`images_side`] of a data set already open (`source` names it in messages); with the
/// statistics cache when the protocol has one.
pub(crate) fn dataset_side(
    net: &Inception,
    ds: Arc<dyn Dataset>,
    source: &str,
    size: Option<usize>,
    c: &Protocol,
    device: &Device,
    events: &mut dyn Events,
) -> Result<Side> {
    let size = match size {
        Some(s) => s,
        None => super::fid::natural_size(ds.as_ref())?,
    };
    let what = format!("{} at {size}×{size}", ds.describe());
    let (fingerprint, jpeg) = (
        Some(fingerprint_hex(ds.as_ref())),
        Some(jpeg_items(ds.as_ref())),
    );
    let entry = match &c.stats_cache {
        Some(dir) => {
            let key = cache_key(ds.as_ref(), size, (c.n, c.seed), c.mode, &c.weights)?;
            Some(CacheEntry::new(dir, &key))
        }
        None => None,
    };
    if let Some(entry) = &entry
        && let Some((stats, features)) = entry.load(events)
    {
        events.info(format!(
            "{source}: statistics from the cache ({})",
            entry.stats.display()
        ));
        return Ok(Side {
            report: SetReport {
                what,
                n: stats.n,
                from_cache: true,
                fingerprint,
                jpeg_items: jpeg,
            },
            stats,
            features: Some(features),
        });
    }
    let x = Extractor {
        net,
        batch: c.batch_size,
        device,
        mode: c.mode,
    };
    let (n, feats) = dataset_features(&x, ds.clone(), size, c.n, c.seed, events, source)?;
    let stats = Stats::from_features(&feats, FEATURES)?;
    if let Some(entry) = &entry {
        entry.store(&stats, &feats, events);
    }
    Ok(Side {
        report: SetReport {
            what,
            n,
            from_cache: false,
            fingerprint,
            jpeg_items: jpeg,
        },
        stats,
        features: Some(feats),
    })
}

/// The scores of two sides.
#[derive(Clone, Debug)]
pub struct Scored {
    /// Fréchet Inception Distance.
    pub fid: f64,
    /// KID, when both sides had features and the protocol draws subsets.
    pub kid: Option<Kid>,
    /// Precision, recall, density and coverage, when the protocol asks for them.
    pub prdc: Option<Prdc>,
    /// The same for the protocol's `prdc_other_k`, in that order.
    pub prdc_other_k: Vec<Prdc>,
}

/// FID, KID and PRDC of two sides (statistics, and features where there are any), as `dcgan
/// fid` reports them and `train --eval-every` logs them: one function, so the two agree to the
/// bit. KID needs features on both sides and `c.kid_subsets > 0`; PRDC needs features on both
/// sides and `c.prdc_k`, and says so when a side has none.
pub fn scores(
    c: &Protocol,
    (a, fa): (&Stats, Option<&[f32]>),
    (b, fb): (&Stats, Option<&[f32]>),
) -> Result<Scored> {
    let fid_value = frechet_distance_of(a, fa, b, fb)?;
    let kid = match (fa, fb) {
        (Some(x), Some(y)) if c.kid_subsets > 0 => Some(kid(
            x,
            y,
            FEATURES,
            c.kid_subsets,
            c.kid_subset_size,
            &mut Stream::KidSubsets.rng(c.seed),
        )?),
        _ => None,
    };
    let mut prdc = match (c.prdc_k, fa, fb) {
        (None, _, _) => Vec::new(),
        (Some(k), Some(x), Some(y)) => {
            let ks: Vec<usize> = std::iter::once(k)
                .chain(c.prdc_other_k.iter().copied())
                .collect();
            super::prdc::prdc_each_k(x, y, FEATURES, &ks)?
        }
        (Some(_), _, _) => {
            return Err(Error::config(
                "metrics",
                "prdc",
                "needs features of both sets: give images, not .npz statistics",
            ));
        }
    };
    let other = prdc.split_off(prdc.len().min(1));
    Ok(Scored {
        fid: fid_value,
        kid,
        prdc: prdc.pop(),
        prdc_other_k: other,
    })
}
