//! `dcgan eval svm`: the paper's classification protocols on D's features and the baselines.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use dcgan::data::{Dataset, Transform};
use dcgan::eval::features;
use dcgan::eval::kmeans::KMeansFeatures;
use dcgan::eval::protocol::{self, Labelled};
use dcgan::model::Discriminator;
use dcgan::train::Checkpoint;
use dcgan::{Error, Result};
use serde_json::json;

use crate::progress;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Linear L2-SVM on fixed features (paper Tables 1 and 2): D's features, a random-weight D
    /// and the K-means baseline, under the full-label or few-label protocol.
    Svm(SvmArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// D of --checkpoint, every layer max-pooled to 4×4.
    Dcgan,
    /// The same D architecture with freshly initialised weights.
    RandomD,
    /// Coates & Ng's single-layer K-means network.
    Kmeans,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// Table 1: C on a validation split, retrain on all training labels, test accuracy.
    Full,
    /// Table 2: --per-class labels per class, --draws random draws, mean test error ± 1.96·std.
    FewLabels,
}

#[derive(Args)]
pub struct SvmArgs {
    /// Labelled training images (class folders, IDX with labels, CIFAR binaries).
    #[arg(long)]
    pub train_data: String,
    /// Labelled test images.
    #[arg(long)]
    pub test_data: String,
    /// The trained DCGAN (run directory or checkpoint) whose D gives the features.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Feature extractors to compare [default: dcgan,random-d,kmeans with --checkpoint,
    /// else kmeans].
    #[arg(long, value_delimiter = ',')]
    pub methods: Vec<Method>,
    #[arg(long, value_enum, default_value_t = Protocol::Full)]
    pub protocol: Protocol,
    /// Training items held out to choose C [default: 5000 (full), 10000 (few-labels)].
    #[arg(long)]
    pub validation: Option<usize>,
    /// Few-labels protocol: labelled examples per class.
    #[arg(long, default_value_t = 100)]
    pub per_class: usize,
    /// Few-labels protocol: random draws of the labelled examples.
    #[arg(long, default_value_t = 100)]
    pub draws: usize,
    /// Values of C to try.
    #[arg(long, value_delimiter = ',')]
    pub c_grid: Vec<f64>,
    /// Use at most this many training / test images (a random subset).
    #[arg(long)]
    pub train_limit: Option<usize>,
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// K-means: dictionary size, the number of centroids (4·K features).
    #[arg(long, default_value_t = 1600)]
    pub kmeans_k: usize,
    /// K-means: random patches the dictionary is fitted on.
    #[arg(long, default_value_t = 100_000)]
    pub kmeans_patches: usize,
    #[arg(long, default_value_t = 20)]
    pub kmeans_iterations: u64,
    /// Image side without --checkpoint (default: the data's).
    #[arg(long)]
    pub image_size: Option<usize>,
    /// Seed of the random D, the splits, the draws and the K-means patches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Also write the results as JSON to this file (atomically).
    #[arg(long)]
    pub report: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run(c: EvalCommand) -> Result<()> {
    match c {
        EvalCommand::Svm(a) => run_svm(a),
    }
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Dcgan => "dcgan",
        Method::RandomD => "random-d",
        Method::Kmeans => "kmeans",
    }
}

/// D features of a data set after BatchNorm re-estimation over the training data.
fn d_features(
    d: &Discriminator,
    train: Arc<dyn Dataset>,
    test: Arc<dyn Dataset>,
    t: Transform,
    a: &SvmArgs,
    device: &dcgan::device::Device,
) -> Result<(Labelled, Labelled)> {
    features::reestimate_batchnorm(d, train.clone(), t, a.batch_size, 50, device)?;
    let mut out = Vec::new();
    for (ds, what) in [(train, "training images"), (test, "test images")] {
        let (dim, x, labels) =
            features::extract(d, ds, t, a.batch_size, device, &mut progress::counter(what))?;
        out.push(Labelled::new(dim, x, &labels)?);
    }
    let test = out.pop().expect("two sets");
    Ok((out.pop().expect("two sets"), test))
}

/// The data set, or a random subset of `limit` of its items (drawn from `seed`; the first N of
/// a class-sorted folder would be a few classes only).
fn limited(ds: Box<dyn Dataset>, limit: Option<usize>, seed: u64) -> Arc<dyn Dataset> {
    match limit {
        Some(n) if n < ds.len() => {
            let mut r = dcgan::rng::stream(seed, dcgan::rng::Purpose::Evaluation, 4);
            let keep = rand::seq::index::sample(&mut r, ds.len(), n).into_vec();
            let mut keep_mask = vec![false; ds.len()];
            keep.into_iter().for_each(|i| keep_mask[i] = true);
            let drop: Vec<usize> = (0..ds.len()).filter(|&i| !keep_mask[i]).collect();
            Arc::new(dcgan::data::Subset::excluding(
                ds,
                &drop,
                format!("a random {n} of its items"),
            ))
        }
        _ => Arc::from(ds),
    }
}

fn run_svm(a: SvmArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let device = dcgan::device::by_name(&a.device)?;
    let train = limited(dcgan::data::open(&a.train_data)?, a.train_limit, a.seed);
    let test = limited(dcgan::data::open(&a.test_data)?, a.test_limit, a.seed ^ 1);
    let ckpt = a
        .checkpoint
        .as_ref()
        .map(|p| Checkpoint::load(p))
        .transpose()?;
    let methods = if a.methods.is_empty() {
        if ckpt.is_some() {
            vec![Method::Dcgan, Method::RandomD, Method::Kmeans]
        } else {
            vec![Method::Kmeans]
        }
    } else {
        a.methods.clone()
    };
    let t = match &ckpt {
        Some(c) => Transform {
            size: c.model().image_size,
            channels: c.model().channels,
        },
        None => Transform {
            size: match a.image_size {
                Some(s) => s,
                None => dcgan::eval::fid::natural_size(train.as_ref())?,
            },
            channels: dcgan::data::natural_channels(train.as_ref()),
        },
    };
    let grid = if a.c_grid.is_empty() {
        protocol::C_GRID.to_vec()
    } else {
        a.c_grid.clone()
    };
    let validation = a.validation.unwrap_or(match a.protocol {
        Protocol::Full => 5000,
        Protocol::FewLabels => 10_000,
    });
    let mut results = Vec::new();
    let mut lines = Vec::new();
    for m in methods {
        let name = method_name(m);
        let t0 = std::time::Instant::now();
        let (tr, te) = match m {
            Method::Dcgan | Method::RandomD => {
                let ckpt = ckpt.as_ref().ok_or_else(|| {
                    Error::config("methods", name, "needs --checkpoint (the D architecture)")
                })?;
                let d = if m == Method::Dcgan {
                    ckpt.discriminator(&device)?
                } else {
                    Discriminator::new(ckpt.model(), a.seed.wrapping_add(1), &device)
                };
                d_features(&d, train.clone(), test.clone(), t, &a, &device)?
            }
            Method::Kmeans => {
                eprintln!(
                    "K-means dictionary: K = {}, {} patches",
                    a.kmeans_k, a.kmeans_patches
                );
                let km = KMeansFeatures::fit(
                    train.clone(),
                    t,
                    usize::MAX,
                    a.kmeans_k,
                    a.kmeans_patches,
                    a.kmeans_iterations,
                    a.seed,
                )?;
                let mut sets = Vec::new();
                for (ds, what) in [
                    (train.clone(), "training images"),
                    (test.clone(), "test images"),
                ] {
                    let (x, labels) =
                        km.extract(ds, t, usize::MAX, &device, &mut progress::counter(what))?;
                    sets.push(Labelled::new(4 * a.kmeans_k, x, &labels)?);
                }
                let te = sets.pop().expect("two sets");
                (sets.pop().expect("two sets"), te)
            }
        };
        let features_s = t0.elapsed().as_secs_f64();
        let mut log = |s: &str| eprintln!("{name}: {s}");
        let (result, line) = match a.protocol {
            Protocol::Full => {
                let r = protocol::full_labels(&tr, &te, validation, &grid, a.seed, &mut log)?;
                let line = format!(
                    "{name:<9} {:>6} dims  test accuracy {:6.2} %  (C {:e}; {} train, {} test)",
                    r.dim,
                    100.0 * r.test_accuracy,
                    r.c,
                    r.train,
                    r.test
                );
                (serde_json::to_value(&r).expect("json"), line)
            }
            Protocol::FewLabels => {
                let r = protocol::few_labels(
                    &tr,
                    &te,
                    validation,
                    a.per_class,
                    a.draws,
                    &grid,
                    a.seed,
                    &mut log,
                )?;
                let line = format!(
                    "{name:<9} {:>6} dims  test error {:6.2} % ± {:.2}  ({} labels, {} draws, {} test)",
                    r.dim,
                    100.0 * r.mean_error,
                    100.0 * r.ci95,
                    r.labels,
                    r.draws,
                    r.test
                );
                (serde_json::to_value(&r).expect("json"), line)
            }
        };
        let total_s = t0.elapsed().as_secs_f64();
        eprintln!("{line}  [{total_s:.0} s]");
        lines.push(line);
        results.push(json!({
            "method": name,
            "result": result,
            "feature_seconds": features_s,
            "seconds": total_s,
        }));
    }
    let report = json!({
        "protocol": match a.protocol { Protocol::Full => "full", Protocol::FewLabels => "few-labels" },
        "train_data": train.describe(),
        "test_data": test.describe(),
        "checkpoint": a.checkpoint.as_ref().map(|p| p.display().to_string()),
        "image_size": t.size,
        "channels": t.channels,
        "seed": a.seed,
        "methods": results,
        "seconds": started.elapsed().as_secs_f64(),
    });
    if let Some(p) = &a.report {
        let text = serde_json::to_string_pretty(&report).expect("json");
        dcgan::io::atomic_write(p, text.as_bytes())?;
    }
    if a.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report).expect("json"));
    } else {
        for l in lines {
            crate::outln!("{l}");
        }
    }
    Ok(())
}
