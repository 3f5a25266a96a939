//! `dcgan eval svm`: the paper's classification protocols (Tables 1, 2) on fixed features of
//! D, of a random-weight D and of the K-means baseline.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{Event, Events, at_least_one, at_most};
use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Transform};
use crate::device::Device;
use crate::eval::features;
use crate::eval::kmeans::KMeansFeatures;
use crate::eval::protocol::{self, FewResult, FullResult, Labelled};
use crate::model::Discriminator;
use crate::progress::Prefixed;
use crate::rng::Stream;
use crate::{Error, Result};

/// A feature extractor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// D of the checkpoint, every layer max-pooled to 4×4.
    Dcgan,
    /// The same D architecture with fresh random weights.
    RandomD,
    /// Coates & Ng's single-layer K-means network.
    Kmeans,
}

impl Method {
    /// The method's name, as on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Dcgan => "dcgan",
            Method::RandomD => "random-d",
            Method::Kmeans => "kmeans",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
/// Which of the paper's classification protocols.
pub enum Protocol {
    /// Table 1: C on a validation split, retrain on all training labels, test accuracy.
    Full,
    /// Table 2: `per_class` labels per class, `draws` random draws, mean test error ± 1.96·std.
    FewLabels,
}

#[derive(Clone, Debug)]
/// `eval svm`: features from D (or the baselines) and a linear L2-SVM (paper §5.1, §5.2).
pub struct SvmConfig {
    /// Labelled training images (class folders, IDX with labels, CIFAR binaries, SVHN `.mat`).
    pub train_data: String,
    /// Labelled test images.
    pub test_data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// The trained DCGAN whose D gives the features.
    pub checkpoint: Option<PathBuf>,
    /// Empty: dcgan, random-d and kmeans with a checkpoint, else kmeans.
    pub methods: Vec<Method>,
    /// Full labels (Table 1) or few labels (Table 2).
    pub protocol: Protocol,
    /// Training items held out to choose C; `None`: 5000 (full; CIFAR-10's usual split) or
    /// 10,000 (few labels; the authors' SVHN script).
    pub validation: Option<usize>,
    /// 100 labels per class: the 1000-label SVHN protocol of Table 2.
    pub per_class: usize,
    /// 100 random draws of the labelled examples: a tight confidence interval.
    pub draws: usize,
    /// Values of C to try; empty: [`protocol::C_GRID`].
    pub c_grid: Vec<f64>,
    /// At most this many training / test items (a random subset).
    pub train_limit: Option<usize>,
    /// At most this many test items (a random subset).
    pub test_limit: Option<usize>,
    /// 1600 centroids: Coates & Ng's best single-layer figure (4·K features).
    pub kmeans_k: usize,
    /// 100,000 random patches for the dictionary.
    pub kmeans_patches: usize,
    /// 20 Lloyd iterations: the dictionary stops moving well before.
    pub kmeans_iterations: u64,
    /// Image side without a checkpoint; `None`: the data's.
    pub image_size: Option<usize>,
    /// Seed of the random D, the splits, the draws and the K-means patches.
    pub seed: u64,
    /// 256 images per feature batch.
    pub batch_size: usize,
    /// 50 batches to re-estimate D's BatchNorm statistics over the training data (as the
    /// authors' SVHN script does before extracting features).
    pub reestimate_batches: usize,
    /// Also write the report as JSON to this file (atomically).
    pub report: Option<PathBuf>,
    /// Device for feature extraction: `flex` (the CPU), `cuda`, `cuda:N` or `wgpu`.
    pub device: String,
}

impl Default for SvmConfig {
    fn default() -> Self {
        Self {
            train_data: String::new(),
            test_data: String::new(),
            background: crate::config::Background::WHITE,
            checkpoint: None,
            methods: Vec::new(),
            protocol: Protocol::Full,
            validation: None,
            per_class: 100,
            draws: 100,
            c_grid: Vec::new(),
            train_limit: None,
            test_limit: None,
            kmeans_k: 1600,
            kmeans_patches: 100_000,
            kmeans_iterations: 20,
            image_size: None,
            seed: 0,
            batch_size: 256,
            reestimate_batches: 50,
            report: None,
            device: "flex".into(),
        }
    }
}

impl SvmConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        at_least_one("per class", self.per_class)?;
        at_least_one("draws", self.draws)?;
        at_most("draws", self.draws, 100_000, "each trains an SVM")?;
        at_least_one("batch size", self.batch_size)?;
        at_most("batch size", self.batch_size, 65_536, "one batch of images")?;
        at_least_one("K-means K", self.kmeans_k)?;
        at_most("K-means K", self.kmeans_k, 100_000, "4·K features an image")?;
        at_least_one("K-means patches", self.kmeans_patches)?;
        at_most(
            "K-means patches",
            self.kmeans_patches,
            100_000_000,
            "held in memory",
        )?;
        at_least_one("K-means iterations", self.kmeans_iterations as usize)?;
        for &c in &self.c_grid {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::config("C", c, "must be positive and finite"));
            }
        }
        if let Some(0) = self.train_limit {
            return Err(Error::config("train limit", 0, "must be at least 1"));
        }
        if let Some(0) = self.test_limit {
            return Err(Error::config("test limit", 0, "must be at least 1"));
        }
        if let Some(s) = self.image_size {
            at_least_one("image size", s)?;
            at_most("image size", s, 1024, "K-means patches of an image")?;
        }
        let needs_d = self
            .methods
            .iter()
            .find(|m| matches!(m, Method::Dcgan | Method::RandomD));
        if let (Some(m), None) = (needs_d, &self.checkpoint) {
            return Err(Error::config(
                "methods",
                m.name(),
                "needs --checkpoint (the D architecture)",
            ));
        }
        Ok(())
    }

    fn validation_items(&self) -> usize {
        self.validation.unwrap_or(match self.protocol {
            Protocol::Full => 5000,
            Protocol::FewLabels => 10_000,
        })
    }
}

/// One method's result under the chosen protocol.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ProtocolResult {
    /// The full-label protocol's result.
    Full(FullResult),
    /// The few-labels protocol's result.
    FewLabels(FewResult),
}

#[derive(Clone, Debug, Serialize)]
/// One feature extractor's result.
pub struct MethodReport {
    /// The extractor's name.
    pub method: &'static str,
    /// Its result.
    pub result: ProtocolResult,
    /// Seconds extracting features.
    pub feature_seconds: f64,
    /// Seconds in all (features and SVMs).
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
/// What `eval svm` measured.
pub struct SvmReport {
    /// The protocol.
    pub protocol: Protocol,
    /// Training data, as given.
    pub train_data: String,
    /// Test data, as given.
    pub test_data: String,
    /// The checkpoint whose D gave features.
    pub checkpoint: Option<String>,
    /// Image side the features were taken at.
    pub image_size: usize,
    /// Image channels.
    pub channels: usize,
    /// Seed of the splits, draws, random D and K-means.
    pub seed: u64,
    /// Each extractor's result.
    pub methods: Vec<MethodReport>,
    /// Seconds in all.
    pub seconds: f64,
}

/// The data set, or a random subset of `limit` of its items (the first N of a class-sorted
/// folder would be a few classes only).
fn limited(ds: Box<dyn Dataset>, limit: Option<usize>, seed: u64) -> Arc<dyn Dataset> {
    match limit {
        Some(n) if n < ds.len() => {
            let keep = rand::seq::index::sample(&mut Stream::EvalSubset.rng(seed), ds.len(), n);
            let mut kept = vec![false; ds.len()];
            keep.into_iter().for_each(|i| kept[i] = true);
            let drop: Vec<usize> = (0..ds.len()).filter(|&i| !kept[i]).collect();
            Arc::new(crate::data::Subset::excluding(
                ds,
                &drop,
                format!("a random {n} of its items"),
            ))
        }
        _ => Arc::from(ds),
    }
}

/// D features of the training and test sets after BatchNorm re-estimation over the training data.
fn d_features(
    d: &Discriminator,
    train: &Arc<dyn Dataset>,
    test: &Arc<dyn Dataset>,
    t: Transform,
    c: &SvmConfig,
    device: &Device,
    events: &mut dyn Events,
) -> Result<(Labelled, Labelled)> {
    if c.reestimate_batches > 0 {
        features::reestimate_batchnorm(
            d,
            train.clone(),
            t,
            c.batch_size,
            c.reestimate_batches,
            device,
        )?;
    }
    both_sets(train, test, events, |ds, what, events| {
        let (dim, x, labels) =
            features::extract(d, ds.clone(), t, c.batch_size, device, events, what)?;
        Labelled::new(dim, x, &labels)
    })
}

/// The labelled features of the training set, then of the test set, by `extract`.
fn both_sets(
    train: &Arc<dyn Dataset>,
    test: &Arc<dyn Dataset>,
    events: &mut dyn Events,
    mut extract: impl FnMut(&Arc<dyn Dataset>, &str, &mut dyn Events) -> Result<Labelled>,
) -> Result<(Labelled, Labelled)> {
    Ok((
        extract(train, "training images", events)?,
        extract(test, "test images", events)?,
    ))
}

fn kmeans_features(
    train: &Arc<dyn Dataset>,
    test: &Arc<dyn Dataset>,
    t: Transform,
    c: &SvmConfig,
    device: &Device,
    events: &mut dyn Events,
) -> Result<(Labelled, Labelled)> {
    events.emit(Event::Info(format!(
        "K-means dictionary: K = {}, {} patches",
        c.kmeans_k, c.kmeans_patches
    )));
    let km = KMeansFeatures::fit(
        train.clone(),
        t,
        usize::MAX,
        c.kmeans_k,
        c.kmeans_patches,
        c.kmeans_iterations,
        c.seed,
    )?;
    both_sets(train, test, events, |ds, what, events| {
        let (x, labels) = km.extract(ds.clone(), t, usize::MAX, device, events, what)?;
        Labelled::new(4 * c.kmeans_k, x, &labels)
    })
}

/// Extract features with each method and train and test the SVMs under the protocol.
pub fn svm(c: SvmConfig, events: &mut dyn Events) -> Result<SvmReport> {
    c.validate()?;
    let started = std::time::Instant::now();
    let device = crate::device::by_name(&c.device)?;
    let train = limited(
        crate::data::open(&c.train_data, c.background)?,
        c.train_limit,
        c.seed,
    );
    let test = limited(
        crate::data::open(&c.test_data, c.background)?,
        c.test_limit,
        c.seed ^ 1,
    );
    let ckpt = c.checkpoint.as_deref().map(Checkpoint::load).transpose()?;
    let methods = match (c.methods.is_empty(), ckpt.is_some()) {
        (false, _) => c.methods.clone(),
        (true, true) => vec![Method::Dcgan, Method::RandomD, Method::Kmeans],
        (true, false) => vec![Method::Kmeans],
    };
    let t = match &ckpt {
        Some(k) => Transform {
            size: k.model().image_size,
            channels: k.model().channels,
        },
        None => Transform {
            size: match c.image_size {
                Some(s) => s,
                None => crate::eval::fid::natural_size(train.as_ref())?,
            },
            channels: crate::data::natural_channels(train.as_ref()),
        },
    };
    let grid = if c.c_grid.is_empty() {
        protocol::C_GRID.to_vec()
    } else {
        c.c_grid.clone()
    };
    let validation = c.validation_items();
    let mut results = Vec::new();
    for m in methods {
        let name = m.name();
        let t0 = std::time::Instant::now();
        let (tr, te) = match (m, &ckpt) {
            (Method::Kmeans, _) => kmeans_features(&train, &test, t, &c, &device, events)?,
            (_, None) => unreachable!("validate() requires a checkpoint for D's features"),
            (Method::Dcgan, Some(k)) => d_features(
                &k.discriminator(&device)?,
                &train,
                &test,
                t,
                &c,
                &device,
                events,
            )?,
            (Method::RandomD, Some(k)) => {
                let d = crate::model::random_discriminator(k.model(), c.seed, &device);
                d_features(&d, &train, &test, t, &c, &device, events)?
            }
        };
        let feature_seconds = t0.elapsed().as_secs_f64();
        let mut log = Prefixed {
            inner: events,
            prefix: format!("{name}: "),
        };
        let result = match c.protocol {
            Protocol::Full => ProtocolResult::Full(protocol::full_labels(
                &tr, &te, validation, &grid, c.seed, &mut log,
            )?),
            Protocol::FewLabels => ProtocolResult::FewLabels(protocol::few_labels(
                &tr,
                &te,
                &protocol::FewLabelsPlan {
                    validation,
                    per_class: c.per_class,
                    draws: c.draws,
                    seed: c.seed,
                },
                &grid,
                &mut log,
            )?),
        };
        results.push(MethodReport {
            method: name,
            result,
            feature_seconds,
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    let report = SvmReport {
        protocol: c.protocol,
        train_data: train.describe(),
        test_data: test.describe(),
        checkpoint: c.checkpoint.as_ref().map(|p| p.display().to_string()),
        image_size: t.size,
        channels: t.channels,
        seed: c.seed,
        methods: results,
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(p) = &c.report {
        let text = serde_json::to_string_pretty(&report).expect("a report serialises");
        crate::io::atomic_write(p, text.as_bytes())?;
    }
    Ok(report)
}
