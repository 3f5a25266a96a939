//! `dcgan bench`: training and sampling speed, data loading and memory; or, with `profile`,
//! where a training step's time goes.

use serde::Serialize;

use super::{Event, Events, at_least_one, at_most};
use crate::Result;
use crate::bench::{self, OpTiming, Timing};
use crate::config::ModelConfig;
use crate::data::Transform;

/// A part of the measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// One training iteration (D's and G's half-steps).
    Train,
    /// G's forward pass (inference mode).
    Generate,
    /// Decoding batches from the data sources.
    Loader,
}

#[derive(Clone, Debug)]
/// `dcgan bench`: what to time and how often.
pub struct BenchConfig {
    /// The networks measured: 64×64 RGB by default, the paper's LSUN and ImageNet size.
    pub model: ModelConfig,
    /// 64 images a batch: pytorch/examples' default, the usual point of comparison.
    pub batch_size: usize,
    /// 10 timed repetitions: a stable median on a quiet machine.
    pub runs: usize,
    /// 3 untimed repetitions first: caches, allocator and thread pool warm.
    pub warmup: usize,
    /// Data sources for the loader measurement.
    pub data: Vec<String>,
    /// 20 batches a loader run.
    pub loader_batches: usize,
    /// Decoding threads for the loader (0: one per core).
    pub workers: usize,
    /// Parts to measure; empty: all.
    pub only: Vec<Part>,
    /// Time each operation of the training iteration alone instead.
    pub profile: bool,
    /// Device to run on: `flex` (the CPU), `cuda`, `cuda:N` or `wgpu`.
    pub device: String,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            model: ModelConfig::default(),
            batch_size: 64,
            runs: 10,
            warmup: 3,
            data: Vec::new(),
            loader_batches: 20,
            workers: 0,
            only: Vec::new(),
            profile: false,
            device: "flex".into(),
        }
    }
}

impl BenchConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        super::at_least("batch size", self.batch_size, 2)?;
        at_most("batch size", self.batch_size, 65_536, "one batch of images")?;
        at_least_one("runs", self.runs)?;
        at_most("runs", self.runs, 100_000, "timed repetitions")?;
        at_most("warmup", self.warmup, 100_000, "untimed repetitions")?;
        at_least_one("loader batches", self.loader_batches)?;
        at_most(
            "loader batches",
            self.loader_batches,
            1_000_000,
            "batches a run",
        )?;
        at_most("workers", self.workers, 1024, "decoding threads")?;
        Ok(())
    }

    fn wants(&self, p: Part) -> bool {
        self.only.is_empty() || self.only.contains(&p)
    }
}

#[derive(Clone, Debug, Serialize)]
/// The loader's speed on one data source.
pub struct LoaderTiming {
    /// The data source, as given.
    pub source: String,
    /// What the data set says it is.
    pub described: String,
    /// Batches decoded, timed.
    pub timing: Timing,
}

#[derive(Clone, Debug, Serialize)]
/// What `dcgan bench` measured.
pub struct Measurements {
    /// The networks timed.
    pub model: ModelConfig,
    /// Images a batch.
    pub batch_size: usize,
    /// Compute threads.
    pub threads: usize,
    /// Device the work ran on.
    pub device: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// G's forward pass on one latent.
    pub generate_batch1: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// G's forward pass on a batch.
    pub generate: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Peak resident memory after the generation runs, MiB.
    pub peak_rss_mib_after_generate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Training iterations.
    pub train: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Peak resident memory after the training runs, MiB.
    pub peak_rss_mib_after_train: Option<f64>,
    /// The loader on each data source.
    pub loader: Vec<LoaderTiming>,
    /// Peak resident memory at the end, MiB.
    pub peak_rss_mib: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
/// `dcgan bench --profile`: each operation of a training iteration timed alone.
pub struct Profile {
    /// The networks timed.
    pub model: ModelConfig,
    /// Images a batch.
    pub batch_size: usize,
    /// Each operation's timing, in the iteration's order.
    pub ops: Vec<OpTiming>,
    /// Seconds an iteration, the sum of the operations timed alone.
    pub sum_s: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
/// What `dcgan bench` reports.
pub enum BenchReport {
    /// Whole steps timed.
    Measurements(Box<Measurements>),
    /// Operations timed alone.
    Profile(Profile),
}

/// Run the benchmark.
pub fn run(c: BenchConfig, events: &mut dyn Events) -> Result<BenchReport> {
    c.validate()?;
    let device = crate::device::by_name(&c.device)?;
    let model = &c.model;
    if c.profile {
        let ops = bench::profile(model, c.batch_size, c.runs, &device);
        let sum_s = ops.iter().map(|o| o.seconds * o.per_iteration as f64).sum();
        return Ok(BenchReport::Profile(Profile {
            model: model.clone(),
            batch_size: c.batch_size,
            ops,
            sum_s,
        }));
    }
    let mut m = Measurements {
        model: model.clone(),
        batch_size: c.batch_size,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        device: c.device.clone(),
        generate_batch1: None,
        generate: None,
        peak_rss_mib_after_generate: None,
        train: None,
        peak_rss_mib_after_train: None,
        loader: Vec::new(),
        peak_rss_mib: None,
    };
    if c.wants(Part::Generate) {
        events.emit(Event::Info("timing the generator".into()));
        m.generate_batch1 = Some(bench::generate(model, 1, c.warmup, c.runs, &device));
        m.generate = Some(bench::generate(
            model,
            c.batch_size,
            c.warmup,
            c.runs,
            &device,
        ));
        m.peak_rss_mib_after_generate = bench::peak_rss_mib();
    }
    if c.wants(Part::Train) {
        events.emit(Event::Info("timing training iterations".into()));
        m.train = Some(bench::train(model, c.batch_size, c.warmup, c.runs, &device));
        m.peak_rss_mib_after_train = bench::peak_rss_mib();
    }
    if c.wants(Part::Loader) {
        let transform = Transform {
            size: model.image_size,
            channels: model.channels,
        };
        for source in &c.data {
            let (described, timing) = bench::loader(
                source,
                transform,
                c.batch_size,
                c.loader_batches,
                c.workers,
                c.runs,
            )?;
            m.loader.push(LoaderTiming {
                source: source.clone(),
                described,
                timing,
            });
        }
    }
    m.peak_rss_mib = bench::peak_rss_mib();
    Ok(BenchReport::Measurements(Box::new(m)))
}
