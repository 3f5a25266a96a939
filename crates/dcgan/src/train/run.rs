//! The training loop over a run directory:
//!
//! ```text
//! RUN_DIR/config.json                      the resolved RunConfig
//! RUN_DIR/checkpoints/step-NNNNNNNN.safetensors
//! RUN_DIR/samples/step-NNNNNNNN.png        the fixed-noise grid every `sample_every` steps
//! RUN_DIR/samples/epoch-NNN.png            ... and at each epoch's end
//! RUN_DIR/checkpoints/best-fid.safetensors the best-scoring one (`eval.keep_best`)
//! RUN_DIR/log.jsonl                        one LogRecord per step (with FID/KID when evaluated)
//! RUN_DIR/loss.png                         the curves, redrawn each epoch, evaluation and at the end
//! TENSORBOARD/events.out.tfevents.*        the log's scalars and the grids (`train.tensorboard`)
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};

use super::ema::Ema;
use super::evaluate::Evaluate;
use super::observer::LogRecord;
use super::step::{Gan, StepInput};
use crate::checkpoint::{self, Best, Checkpoint, TrainState};
use crate::config::{RunConfig, RunDir};
use crate::data::{self, Dataset, Loader, Transform};
use crate::error::{Error, IoContext, Result};
use crate::io::tensorboard::EventWriter;
use crate::model::inference::{class_rows, generate, generate_labelled};
use crate::model::{BnMode, Discriminator, Generator};
use crate::optim::Adam;
use crate::progress::{Event, Events};
use crate::rng::{self, Stream};
use crate::viz::plot::CurvePoint;

/// How a run ended.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Steps done in the run so far.
    pub steps: u64,
    /// Whole epochs done.
    pub epochs_completed: u64,
    /// The newest checkpoint written.
    pub last_checkpoint: Option<PathBuf>,
    /// The newest sample grid written.
    pub last_samples: Option<PathBuf>,
    /// Seconds this invocation ran.
    pub seconds: f64,
    /// The last step's log record.
    pub last: Option<LogRecord>,
    /// Images that could not be decoded and were skipped.
    pub bad_images: u64,
    /// The best score of `eval.keep_best` and its step.
    pub best: Option<Best>,
}

/// An evaluator when the config asks for evaluations (refused without one), prepared (the real
/// images' statistics) before anything is written.
fn prepare<'a>(
    config: &RunConfig,
    evaluator: Option<&'a mut dyn Evaluate>,
    events: &mut dyn Events,
) -> Result<Option<&'a mut dyn Evaluate>> {
    if config.eval.every == 0 {
        return Ok(None);
    }
    let Some(e) = evaluator else {
        return Err(Error::config(
            "eval every",
            config.eval.every,
            "evaluations need an evaluator (the FID weights); none was given",
        ));
    };
    e.prepare(events)?;
    Ok(Some(e))
}

/// Start a new run in `out` (which must not hold one already). `evaluator` scores G every
/// `config.eval.every` steps (needed when that is not 0).
pub fn train(
    config: RunConfig,
    out: &Path,
    evaluator: Option<&mut dyn Evaluate>,
    events: &mut dyn Events,
    stop: &AtomicBool,
) -> Result<Summary> {
    config.validate()?;
    let run = RunDir::new(out);
    if run.config().exists() || !checkpoint::list(&run.checkpoints())?.is_empty() {
        return Err(Error::format(
            out,
            "already holds a run; continue it with `dcgan train --resume` or choose another --out",
        ));
    }
    let dataset: Arc<dyn Dataset> = Arc::from(data::open_config(&config.data)?);
    check_data_size(&*dataset, &config)?;
    check_classes(&*dataset, &config)?;
    board_folder(&config)?;
    let device = crate::device::by_name(&config.device)?.autodiff();
    let evaluator = prepare(&config, evaluator, events)?;
    for dir in [run.root.clone(), run.checkpoints(), run.samples()] {
        std::fs::create_dir_all(&dir).at(&dir)?;
    }
    crate::io::atomic_write(&run.config(), config.to_json().as_bytes())?;
    let seed = config.train.seed;
    let generator = Generator::new(&config.model, seed, &device);
    let gan = Gan {
        ema: config.recipe.ema.clone().map(|e| Ema::new(e, &generator)),
        generator,
        discriminator: Discriminator::new(&config.model, seed, &device),
        opt_g: Adam::new(config.optim.generator()),
        opt_d: Adam::new(config.optim.discriminator()),
        loss: config.recipe.loss,
        augment: augmenter(&config),
    };
    let state = TrainState {
        data_len: dataset.len() as u64,
        data_fingerprint: Some(data::Fingerprint::of(&*dataset)),
        ..Default::default()
    };
    std::fs::File::create(run.log()).at(run.log())?;
    let setting = Setting {
        run: &run,
        cfg: &config,
        dataset,
        device: &device,
        // A shorter-lived view of the evaluator, so it shares the setting's lifetime.
        evaluator: evaluator.map(|e| e as &mut dyn Evaluate),
        events,
        stop,
    };
    run_loop(setting, gan, state)
}

/// The classes of the data `config` names, for a class-conditional run (`--conditional`): its
/// subfolders, CIFAR-10's or SVHN's labels, an IDX label file. An error naming the data when it
/// has fewer than two classes or an image without a class.
pub fn conditional_classes(config: &crate::config::DataConfig) -> Result<Vec<String>> {
    let dataset = data::open_config(config)?;
    let classes = dataset.classes();
    if classes.len() < 2 {
        return Err(Error::Data(format!(
            "{}: --conditional needs images with classes (one subfolder per class, CIFAR-10 or SVHN labels, an IDX label file); {}",
            config.source,
            if classes.is_empty() {
                "this data has none".to_string()
            } else {
                "this data has one class only".to_string()
            }
        )));
    }
    check_labelled(&*dataset, &config.source, classes.len())?;
    Ok(classes)
}

/// Every item of `dataset` has a class below `count`.
fn check_labelled(dataset: &dyn Dataset, source: &str, count: usize) -> Result<()> {
    for i in 0..dataset.len() {
        match dataset.label(i) {
            Some(y) if y < count => {}
            Some(y) => {
                return Err(Error::Data(format!(
                    "{source}: {} has class {y}, outside the run's {count} classes",
                    dataset.name(i)
                )));
            }
            None => {
                return Err(Error::Data(format!(
                    "{source}: {} has no class; a conditional run needs every image labelled",
                    dataset.name(i)
                )));
            }
        }
    }
    Ok(())
}

/// A conditional run trains on data with its classes, in its order.
fn check_classes(dataset: &dyn Dataset, config: &RunConfig) -> Result<()> {
    let want = &config.model.classes;
    if want.is_empty() {
        return Ok(());
    }
    let have = dataset.classes();
    if &have != want {
        return Err(Error::Data(format!(
            "{}: its classes ({}) are not the run's ({})",
            config.data.source,
            have.join(", "),
            want.join(", ")
        )));
    }
    check_labelled(dataset, &config.data.source, want.len())
}

/// Changes allowed when resuming: how long to go on for.
#[derive(Clone, Debug, Default)]
pub struct ResumeOptions {
    /// Train until this many epochs in all.
    pub epochs: Option<u64>,
    /// Train until this many steps in all.
    pub max_steps: Option<u64>,
    /// The data's new location, if it moved (it must hold the same number of items).
    pub data: Option<String>,
    /// Changes to the evaluation settings (they do not change training).
    pub eval: crate::config::EvalEdits,
    /// Another compute device (`flex`, `wgpu`, `cuda[:N]`): checkpoints hold host tensors, so a
    /// run moves between devices; only rounding differs from staying.
    pub device: Option<String>,
    /// Write TensorBoard event files to this folder from now on.
    pub tensorboard: Option<std::path::PathBuf>,
}

impl ResumeOptions {
    /// The run's config with these changes.
    pub fn apply(&self, config: &mut RunConfig) {
        if let Some(e) = self.epochs {
            config.train.epochs = e;
        }
        if let Some(s) = self.max_steps {
            config.train.max_steps = Some(s);
        }
        if let Some(d) = &self.data {
            config.data.source = d.clone();
        }
        self.eval.apply(&mut config.eval);
        if let Some(d) = &self.device {
            config.device = d.clone();
        }
        if let Some(d) = &self.tensorboard {
            config.train.tensorboard = Some(d.clone());
        }
    }
}

/// The run's DiffAugment, if it has one.
fn augmenter(config: &RunConfig) -> Option<super::augment::Augmenter> {
    (!config.recipe.augment.is_empty()).then(|| super::augment::Augmenter {
        policies: config.recipe.augment.clone(),
        seed: config.train.seed,
    })
}

/// Continue the run in `out` from its newest checkpoint (`evaluator`: as for [`train`]).
pub fn resume(
    out: &Path,
    options: ResumeOptions,
    evaluator: Option<&mut dyn Evaluate>,
    events: &mut dyn Events,
    stop: &AtomicBool,
) -> Result<Summary> {
    let run = RunDir::new(out);
    if !run.config().is_file() {
        return Err(Error::format(
            out,
            "is not a run directory (no config.json)",
        ));
    }
    let mut config = RunConfig::load(&run.config())?;
    let ckpt = Checkpoint::load(&run.checkpoints())?;
    check_resume_edits(&ckpt, &config, &run.config())?;
    options.apply(&mut config);
    config.validate()?;
    let dataset: Arc<dyn Dataset> = Arc::from(data::open_config(&config.data)?);
    if dataset.len() as u64 != ckpt.state.data_len {
        return Err(Error::Data(format!(
            "{}: holds {} items, the run was started on {}; resuming on other data would not continue the same run",
            config.data.source,
            dataset.len(),
            ckpt.state.data_len
        )));
    }
    if let Some(then) = &ckpt.state.data_fingerprint
        && let Some(what) = then.differences(&data::Fingerprint::of(&*dataset), &*dataset)
    {
        events.emit(Event::Warning(format!(
            "{}: not the data the run started on ({what}); training goes on with it",
            config.data.source
        )));
    }
    check_classes(&*dataset, &config)?;
    let device = crate::device::by_name(&config.device)?.autodiff();
    if config.device != ckpt.config.device {
        events.emit(Event::Warning(format!(
            "resuming on {} a run trained on {}: the recipe continues, but the two devices round \
             differently, so the steps will not repeat an uninterrupted run on {} bit for bit",
            config.device, ckpt.config.device, ckpt.config.device
        )));
    }
    let evaluator = prepare(&config, evaluator, events)?;
    board_folder(&config)?;
    // Rewritten only now that every check has passed: a refused resume leaves the run as it was.
    crate::io::atomic_write(&run.config(), config.to_json().as_bytes())?;
    let (opt_g, opt_d) = ckpt.optimizers(&device, &config.optim)?;
    let ema = match &config.recipe.ema {
        Some(e) => Some(Ema {
            config: e.clone(),
            generator: ckpt.average_generator(&device.clone().inner())?,
        }),
        None => None,
    };
    let gan = Gan {
        generator: ckpt.raw_generator(&device)?,
        discriminator: ckpt.discriminator(&device)?,
        opt_g,
        opt_d,
        loss: config.recipe.loss,
        ema,
        augment: augmenter(&config),
    };
    truncate_log(&run.log(), ckpt.state.step)?;
    let setting = Setting {
        run: &run,
        cfg: &config,
        dataset,
        device: &device,
        // A shorter-lived view of the evaluator, so it shares the setting's lifetime.
        evaluator: evaluator.map(|e| e as &mut dyn Evaluate),
        events,
        stop,
    };
    run_loop(setting, gan, ckpt.state.clone())
}

/// The `config.json` fields a user may edit before `--resume`: how long to train, the
/// optimiser's settings (after a divergence), how often to write, how to decode, and where the
/// data now is. Everything else decides the data order or the networks, so a resume with it
/// changed would not continue the same run.
pub(crate) const RESUME_EDITABLE: &[&str] = &[
    "optim.learning_rate",
    "optim.beta1",
    "optim.beta2",
    "optim.lr_d",
    "optim.lr_g",
    "train.epochs",
    "train.max_steps",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.tensorboard",
    "data.workers",
    "data.prefetch",
    "data.max_bad_fraction",
    "data.source",
    "device",
    "eval.every",
    "eval.samples",
    "eval.data",
    "eval.keep_best",
];

/// Refuse a `config.json` that differs from the checkpoint's own config outside
/// [`RESUME_EDITABLE`], naming the first such field and both values.
fn check_resume_edits(ckpt: &Checkpoint, config: &RunConfig, path: &Path) -> Result<()> {
    fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&key, v, out);
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    let as_leaves = |c: &RunConfig| {
        let mut out = Vec::new();
        leaves(
            "",
            &serde_json::to_value(c).expect("a config serialises"),
            &mut out,
        );
        out
    };
    let (was, now) = (as_leaves(&ckpt.config), as_leaves(config));
    for ((field, before), (_, after)) in was.iter().zip(&now) {
        if before == after || RESUME_EDITABLE.contains(&field.as_str()) {
            continue;
        }
        let what = format!(
            "config.json changes {field} from {before} to {after}; only {} may change before --resume (this one changes the {}, so the run would not continue the same way)",
            RESUME_EDITABLE.join(", "),
            if field.starts_with("model.") {
                "networks"
            } else {
                "data order or the samples"
            }
        );
        return Err(if field.starts_with("model.") {
            Error::mismatch(&ckpt.path, what)
        } else {
            Error::format(path, what)
        });
    }
    Ok(())
}

fn check_data_size(dataset: &dyn Dataset, config: &RunConfig) -> Result<()> {
    if dataset.len() < config.train.batch_size {
        return Err(Error::Data(format!(
            "{}: {} images is fewer than one batch of {} (lower --batch-size)",
            dataset.describe(),
            dataset.len(),
            config.train.batch_size
        )));
    }
    Ok(())
}

/// Keep the log lines of steps up to `step` (the ones after it will be trained again).
fn truncate_log(path: &Path, step: u64) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<LogRecord>(l)
                .map(|r| r.step <= step)
                .unwrap_or(false)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    crate::io::atomic_write(path, kept.as_bytes())
}

/// Read the log's records (unparsable lines, such as one torn by a crash, are skipped).
pub fn read_log(path: &Path) -> Vec<LogRecord> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn curve(records: &[LogRecord]) -> Vec<CurvePoint> {
    records
        .iter()
        .map(|r| CurvePoint {
            step: r.step,
            loss_d: r.loss_d,
            loss_g: r.loss_g,
            d_real: r.d_real,
            d_fake: r.d_fake,
            fid: r.fid,
            kid: r.kid,
            prdc: r.prdc,
        })
        .collect()
}

/// Evaluate G into `record` (in inference mode: the evaluator sees the non-autodiff generator).
/// A failed evaluation is recorded and warned about; training goes on.
fn score(
    ev: &mut dyn Evaluate,
    gan: &Gan,
    model: &crate::config::ModelConfig,
    device: &Device,
    record: &mut LogRecord,
    events: &mut dyn Events,
) -> Option<super::Scores> {
    let step = record.step;
    match ev.evaluate(&gan.sampling_generator(), model, device, events) {
        Ok(s) => {
            record.fid = Some(s.fid);
            record.kid = s.kid;
            record.prdc = s.prdc;
            events.info(format!(
                "step {step}: FID {:.2}{}{}",
                s.fid,
                s.kid.map(|k| format!(", KID {k:.4}")).unwrap_or_default(),
                s.prdc
                    .map(|[p, r, d, c]| format!(
                        ", precision {p:.3}, recall {r:.3}, density {d:.3}, coverage {c:.3}"
                    ))
                    .unwrap_or_default()
            ));
            Some(s)
        }
        Err(e) => {
            record.eval_error = Some(e.to_string());
            events.emit(Event::Warning(format!(
                "step {step}: evaluation failed, training goes on: {e}"
            )));
            None
        }
    }
}

/// A warning when recall or coverage fell at each of the last three evaluations (`records`
/// so far, then `current`): the usual sign of mode collapse, G covering less of the data. It
/// does not prove collapse (the scores of 5,000 images move by chance too), and its absence
/// does not rule it out (G can lose modes while these hold).
fn collapse_warning(records: &[LogRecord], current: &LogRecord) -> Option<String> {
    let scored: Vec<[f64; 4]> = records
        .iter()
        .chain(std::iter::once(current))
        .filter_map(|r| r.prdc)
        .collect();
    let last = scored.get(scored.len().checked_sub(4)?..)?;
    let falling = |i: usize| last.windows(2).all(|w| w[1][i] < w[0][i]);
    let what: Vec<&str> = [(1, "recall"), (3, "coverage")]
        .into_iter()
        .filter(|&(i, _)| falling(i))
        .map(|(_, name)| name)
        .collect();
    (!what.is_empty()).then(|| {
        format!(
            "step {}: {} fell at three evaluations in a row ({}): G may be collapsing onto fewer modes; look at the samples",
            current.step,
            what.join(" and "),
            what.iter()
                .map(|name| {
                    let i = if *name == "recall" { 1 } else { 3 };
                    last.iter()
                        .map(|s| format!("{:.3}", s[i]))
                        .collect::<Vec<_>>()
                        .join(" → ")
                })
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// The fixed latents of the run's sample grids.
pub(crate) fn fixed_noise(config: &RunConfig) -> Vec<f32> {
    let m = &config.model;
    rng::latents(
        &mut Stream::FixedNoise.rng(config.train.seed),
        config.train.sample_count,
        m.latent_dim,
        m.latent_distribution,
    )
}

/// A batch as the loader prepared it: the images, their count and their classes.
struct Prepared {
    images: Vec<f32>,
    count: usize,
    labels: Vec<Option<usize>>,
}

/// Where a run trains: its folder, config, data and device, and who hears about it.
struct Setting<'a> {
    run: &'a RunDir,
    cfg: &'a RunConfig,
    dataset: Arc<dyn Dataset>,
    /// The autodiff device the step trains on.
    device: &'a Device,
    evaluator: Option<&'a mut dyn Evaluate>,
    events: &'a mut dyn Events,
    stop: &'a AtomicBool,
}

/// Train `gan` from `state` to the config's last step: epochs of batches in the seed's order,
/// each step logged, grids, checkpoints and evaluations at their intervals (see [`Loop`]).
fn run_loop(setting: Setting, gan: Gan, state: TrainState) -> Result<Summary> {
    Loop::start(setting, &state)?.run(gan, state)
}

/// The TensorBoard folder made (if the run writes one) before anything of the run is written,
/// so a folder that cannot be made leaves no half-started run behind.
fn board_folder(config: &RunConfig) -> Result<()> {
    match &config.train.tensorboard {
        Some(dir) => std::fs::create_dir_all(dir).at(dir),
        None => Ok(()),
    }
}

/// A step's record as TensorBoard scalars: the losses and D's outputs at every step, the
/// evaluation's scores when it has them.
fn board_scalars(r: &LogRecord) -> Vec<(&'static str, f64)> {
    let mut v = vec![
        ("loss/D", r.loss_d as f64),
        ("loss/G", r.loss_g as f64),
        ("D_output/real", r.d_real as f64),
        ("D_output/fake_in_D_step", r.d_fake as f64),
        ("D_output/fake_in_G_step", r.d_fake_after as f64),
        ("speed/images_per_second", r.images_per_second as f64),
    ];
    v.extend(r.fid.map(|f| ("eval/FID", f)));
    v.extend(r.kid.map(|k| ("eval/KID", k)));
    if let Some([p, rc, d, c]) = r.prdc {
        v.extend([
            ("eval/precision", p),
            ("eval/recall", rc),
            ("eval/density", d),
            ("eval/coverage", c),
        ]);
    }
    v
}

/// A run in progress: what stays fixed for it, and the log and summary it writes as it goes.
struct Loop<'a> {
    run: &'a RunDir,
    cfg: &'a RunConfig,
    dataset: Arc<dyn Dataset>,
    device: &'a Device,
    /// The same device without autodiff: sample grids and evaluations.
    inner: Device,
    evaluator: Option<&'a mut dyn Evaluate>,
    events: &'a mut dyn Events,
    stop: &'a AtomicBool,
    started: Instant,
    per_epoch: u64,
    last_step: u64,
    transform: Transform,
    /// The fixed latents of every sample grid.
    noise: Vec<f32>,
    records: Vec<LogRecord>,
    log: std::fs::File,
    /// The TensorBoard event file (`train.tensorboard`).
    board: Option<EventWriter>,
    summary: Summary,
    last_checkpointed: u64,
}

impl<'a> Loop<'a> {
    /// Open the log and announce the run.
    fn start(setting: Setting<'a>, state: &TrainState) -> Result<Self> {
        let Setting {
            run,
            cfg,
            dataset,
            device,
            evaluator,
            events,
            stop,
        } = setting;
        let started = Instant::now();
        let (m, t) = (&cfg.model, &cfg.train);
        let per_epoch = (dataset.len() / t.batch_size) as u64;
        // Steps per epoch: a step takes `d_steps` batches, the last of an epoch what is left.
        let steps_per_epoch = per_epoch.div_ceil(cfg.recipe.d_steps as u64);
        let mut last_step = t.epochs * steps_per_epoch;
        if let Some(ms) = t.max_steps {
            last_step = last_step.min(ms);
        }
        let records = read_log(&run.log());
        let log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(run.log())
            .at(run.log())?;
        let summary = Summary {
            steps: state.step,
            epochs_completed: state.epoch,
            last_checkpoint: checkpoint::list(&run.checkpoints())?.pop().map(|(_, p)| p),
            last_samples: None,
            seconds: 0.0,
            last: records.last().cloned(),
            bad_images: state.bad_images,
            best: state.best.clone(),
        };
        let board = match &t.tensorboard {
            Some(dir) => {
                let w = EventWriter::create(dir)?;
                events.info(format!("TensorBoard events: {}", w.path().display()));
                Some(w)
            }
            None => None,
        };
        events.emit(Event::TrainStart {
            data: dataset.describe(),
            steps_per_epoch,
            first_step: state.step,
            last_step,
        });
        let departures = cfg.departures();
        if !departures.is_empty() {
            events.info(format!(
                "beyond the paper's recipe: {}",
                departures.join(", ")
            ));
        }
        Ok(Self {
            run,
            cfg,
            inner: device.clone().inner(),
            device,
            evaluator,
            events,
            stop,
            started,
            per_epoch,
            last_step,
            transform: Transform {
                size: m.image_size,
                channels: m.channels,
            },
            noise: fixed_noise(cfg),
            records,
            log,
            board,
            summary,
            last_checkpointed: state.step,
            dataset,
        })
    }

    /// Epoch after epoch until the last step, the last epoch, or a stop (Ctrl-C: a checkpoint,
    /// then [`Error::Interrupted`]).
    fn run(mut self, mut gan: Gan, mut state: TrainState) -> Result<Summary> {
        let cfg = self.cfg;
        let t = &cfg.train;
        while state.epoch < t.epochs && state.step < self.last_step {
            self.epoch(&mut gan, &mut state)?;
            if state.batch_in_epoch == self.per_epoch {
                self.end_epoch(&gan, &mut state)?;
            }
            if self.stop.load(Ordering::Relaxed) {
                if self.last_checkpointed != state.step {
                    self.write_checkpoint(&gan, &state)?;
                }
                return Err(Error::Interrupted);
            }
        }
        if self.last_checkpointed != state.step {
            self.write_checkpoint(&gan, &state)?;
        }
        crate::viz::save_loss_plot(&self.run.loss_plot(), &curve(&self.records))?;
        self.summary.bad_images = state.bad_images;
        self.summary.best = state.best.clone();
        self.summary.seconds = self.started.elapsed().as_secs_f64();
        Ok(self.summary)
    }

    /// The batches of the epoch in progress, from `state.batch_in_epoch`, until the epoch's end,
    /// the last step or a stop.
    fn epoch(&mut self, gan: &mut Gan, state: &mut TrainState) -> Result<()> {
        let cfg = self.cfg;
        let t = &cfg.train;
        let order = rng::permutation(t.seed, state.epoch, self.dataset.len());
        let loader = Loader::start(
            self.dataset.clone(),
            order,
            t.batch_size,
            state.batch_in_epoch as usize,
            self.transform,
            cfg.data.workers,
            cfg.data.prefetch,
        )?;
        let mut tick = Instant::now();
        let d_steps = cfg.recipe.d_steps as usize;
        // The batches of the step being gathered: one per D step.
        let mut group: Vec<Prepared> = Vec::with_capacity(d_steps);
        for batch in loader {
            let batch = batch?;
            self.count_bad(&batch.bad, state)?;
            state.batch_in_epoch = batch.index as u64 + 1;
            if batch.count >= 2 {
                group.push(Prepared {
                    images: batch.images,
                    count: batch.count,
                    labels: batch.labels,
                }); // BatchNorm needs two samples
            }
            if group.is_empty() || (group.len() < d_steps && state.batch_in_epoch < self.per_epoch)
            {
                continue;
            }
            let group = std::mem::take(&mut group);
            let mut record = self.train_step(gan, state, group, &mut tick)?;
            let evaluated = cfg.eval.every > 0
                && (state.step.is_multiple_of(cfg.eval.every) || state.step >= self.last_step);
            if evaluated && self.evaluator.is_some() {
                self.evaluate(gan, state, &mut record)?;
                tick = Instant::now();
            }
            self.log_step(record, evaluated)?;
            // An epoch's end writes its own grid and checkpoint (`end_epoch`).
            let epoch_done = state.batch_in_epoch == self.per_epoch;
            let finishing = state.step >= self.last_step || self.stop.load(Ordering::Relaxed);
            if !epoch_done {
                if state.step.is_multiple_of(t.sample_every) || finishing {
                    self.write_samples(gan, format!("step-{:08}.png", state.step))?;
                }
                if state.step.is_multiple_of(t.checkpoint_every) || finishing {
                    self.write_checkpoint(gan, state)?;
                    let path = self.summary.last_checkpoint.as_ref().unwrap();
                    self.events.info(format!("checkpoint {}", path.display()));
                }
            }
            if finishing || epoch_done {
                break;
            }
        }
        Ok(())
    }

    /// Count a batch's unreadable images; past the budget the run stops. The budget is a
    /// fraction of the whole data set, per epoch: a few bad files early in an epoch do not stop
    /// a run, a data set that is mostly bad stops soon.
    fn count_bad(&mut self, bad: &[data::ItemError], state: &mut TrainState) -> Result<()> {
        if bad.is_empty() {
            return Ok(());
        }
        state.bad_images += bad.len() as u64;
        state.bad_in_epoch += bad.len() as u64;
        for e in bad.iter().take(3) {
            self.events
                .emit(Event::Warning(format!("skipped unreadable image {e}")));
        }
        let fraction = self.cfg.data.max_bad_fraction;
        let n = self.dataset.len();
        let allowed = (fraction * n as f64).floor() as u64;
        if state.bad_in_epoch > allowed {
            return Err(Error::Data(format!(
                "{} unreadable images in this epoch, more than the allowed {allowed} ({:.1} % of {n}; first: {}). Fix or remove them, or raise --max-bad-fraction",
                state.bad_in_epoch,
                100.0 * fraction,
                bad[0]
            )));
        }
        Ok(())
    }

    /// One iteration on `batches` of prepared images (each: the images and their count), one
    /// D step per batch with its latents, then the G step on the last one's fake batch; a
    /// non-finite loss stops the run. Returns the step's log record, its images/s measured since
    /// `tick` (which restarts).
    fn train_step(
        &mut self,
        gan: &mut Gan,
        state: &mut TrainState,
        batches: Vec<Prepared>,
        tick: &mut Instant,
    ) -> Result<LogRecord> {
        let (m, t) = (&self.cfg.model, &self.cfg.train);
        let s = m.image_size;
        let last = batches.len() - 1;
        let count: usize = batches.iter().map(|b| b.count).sum();
        let pairs = batches
            .into_iter()
            .enumerate()
            .map(|(j, b)| {
                let (images, n) = (b.images, b.count);
                let labels = (m.class_count() > 0).then(|| {
                    let k = m.class_count();
                    // Every image's class was checked before the run started.
                    let y: Vec<usize> = (b.labels.iter())
                        .map(|y| y.expect("a conditional run's images have classes"))
                        .collect();
                    let one_hot = crate::model::inference::one_hot(&y, k);
                    Tensor::<2>::from_data(TensorData::new(one_hot, [n, k]), self.device)
                });
                let real = Tensor::<4>::from_data(
                    TensorData::new(images, [n, m.channels, s, s]),
                    self.device,
                );
                let stream = if j == last {
                    Stream::TrainLatents { step: state.step }
                } else {
                    Stream::ExtraDLatents {
                        step: state.step,
                        d_step: j as u64,
                    }
                };
                let z = rng::latents(
                    &mut stream.rng(t.seed),
                    n,
                    m.latent_dim,
                    m.latent_distribution,
                );
                let z = Tensor::<2>::from_data(TensorData::new(z, [n, m.latent_dim]), self.device);
                StepInput { real, z, labels }
            })
            .collect();
        let stats = gan.iteration_d_steps(pairs);
        state.d_updates = Some(gan.opt_d.step);
        for (what, v) in [("loss_d", stats.loss_d), ("loss_g", stats.loss_g)] {
            if !v.is_finite() {
                return Err(Error::Diverged {
                    step: state.step + 1,
                    what,
                    value: v,
                    last_checkpoint: self
                        .summary
                        .last_checkpoint
                        .as_ref()
                        .map(|p| format!("the last good checkpoint is {}", p.display()))
                        .unwrap_or_else(|| "no checkpoint had been written yet".into()),
                });
            }
        }
        state.step += 1;
        state.images_seen += count as u64;
        let secs = tick.elapsed().as_secs_f64();
        *tick = Instant::now();
        Ok(LogRecord::new(
            state.step,
            state.epoch,
            &stats,
            (count as f64 / secs) as f32,
        ))
    }

    /// Score G into `record`; with `eval.keep_best`, a better score than any before keeps this
    /// state as `checkpoints/best-<metric>.safetensors`.
    fn evaluate(
        &mut self,
        gan: &Gan,
        state: &mut TrainState,
        record: &mut LogRecord,
    ) -> Result<()> {
        let Some(ev) = self.evaluator.as_deref_mut() else {
            return Ok(());
        };
        let scores = score(ev, gan, &self.cfg.model, &self.inner, record, self.events);
        if let Some(w) = collapse_warning(&self.records, record) {
            self.events.emit(Event::Warning(w.clone()));
            record.eval_warning = Some(w);
        }
        let Some((metric, value)) = scores
            .and_then(|s| self.cfg.eval.keep_best.and_then(|k| Some((k, s.get(k)?))))
            .filter(|&(k, v)| {
                state
                    .best
                    .as_ref()
                    .is_none_or(|b| b.metric != k || v < b.value)
            })
        else {
            return Ok(());
        };
        state.best = Some(Best {
            metric,
            step: state.step,
            value,
        });
        let path = self
            .run
            .checkpoints()
            .join(format!("best-{}.safetensors", metric.name()));
        crate::io::atomic_write(&path, &self.encode(gan, state))?;
        self.events.info(format!(
            "step {}: best {} so far ({value:.4}), kept as {}",
            state.step,
            metric.name().to_uppercase(),
            path.display()
        ));
        Ok(())
    }

    /// Append the step's record to `log.jsonl`, tell the front end, and redraw `loss.png` after
    /// an evaluation.
    fn log_step(&mut self, record: LogRecord, evaluated: bool) -> Result<()> {
        writeln!(
            self.log,
            "{}",
            serde_json::to_string(&record).expect("record serialises")
        )
        .at(self.run.log())?;
        if let Some(board) = &mut self.board {
            board.scalars(record.step, &board_scalars(&record))?;
        }
        self.events.emit(Event::TrainStep(record.clone()));
        self.summary.steps = record.step;
        self.records.push(record.clone());
        self.summary.last = Some(record);
        if evaluated {
            crate::viz::save_loss_plot(&self.run.loss_plot(), &curve(&self.records))?;
        }
        Ok(())
    }

    /// An epoch's end: the counters move to the next epoch, and its grid, checkpoint and plot.
    fn end_epoch(&mut self, gan: &Gan, state: &mut TrainState) -> Result<()> {
        let finished_epoch = state.epoch;
        state.epoch += 1;
        state.batch_in_epoch = 0;
        state.bad_in_epoch = 0;
        self.summary.epochs_completed = state.epoch;
        self.write_samples(gan, format!("epoch-{:03}.png", finished_epoch + 1))?;
        self.write_checkpoint(gan, state)?;
        crate::viz::save_loss_plot(&self.run.loss_plot(), &curve(&self.records))?;
        self.events.info(format!(
            "epoch {} done: samples {}, checkpoint {}",
            finished_epoch + 1,
            self.summary.last_samples.as_ref().unwrap().display(),
            self.summary.last_checkpoint.as_ref().unwrap().display()
        ));
        Ok(())
    }

    /// The grid of the fixed latents, BatchNorm on batch statistics, as `samples/<name>`.
    fn write_samples(&mut self, gan: &Gan, name: String) -> Result<()> {
        let (m, t) = (&self.cfg.model, &self.cfg.train);
        let g = gan.sampling_generator();
        let path = self.run.samples().join(name);
        if m.class_count() == 0 {
            let images = generate(
                &g,
                &self.noise,
                m.latent_dim,
                BnMode::BatchStats,
                &self.inner,
            );
            crate::viz::save_grid(&path, &images, t.sample_count, m.channels, m.image_size, 0)?;
        } else {
            // One row per class; as many columns as the unconditional grid's square has.
            let cols = (t.sample_count as f64).sqrt().ceil() as usize;
            let (z, labels) = class_rows(&self.noise, m.latent_dim, m.class_count(), cols);
            let (mode, n) = (BnMode::BatchStats, labels.len());
            let images = generate_labelled(&g, &z, &labels, mode, n, &self.inner);
            crate::viz::save_grid(&path, &images, n, m.channels, m.image_size, cols)?;
        }
        if let Some(board) = &mut self.board {
            let png = std::fs::read(&path).at(&path)?;
            let (w, h) =
                image::image_dimensions(&path).map_err(|e| Error::format(&path, e.to_string()))?;
            let channels = if m.channels == 1 { 1 } else { 3 };
            board.image(
                self.summary.steps,
                "samples/fixed_noise",
                png,
                (w, h, channels),
            )?;
        }
        self.summary.last_samples = Some(path);
        Ok(())
    }

    fn encode(&self, gan: &Gan, state: &TrainState) -> Vec<u8> {
        checkpoint::encode_with_average(
            self.cfg,
            state,
            &gan.generator,
            gan.ema.as_ref().map(|e| &e.generator),
            Some(&gan.discriminator),
            Some((&gan.opt_g, &gan.opt_d)),
        )
    }

    /// `checkpoints/step-NNNNNNNN.safetensors`, written atomically; older checkpoints beyond
    /// `keep_checkpoints` go only once the new one is safely on disk.
    fn write_checkpoint(&mut self, gan: &Gan, state: &TrainState) -> Result<()> {
        let dir = self.run.checkpoints();
        let path = dir.join(checkpoint::file_name(state.step));
        crate::io::atomic_write(&path, &self.encode(gan, state))?;
        self.summary.last_checkpoint = Some(path);
        self.last_checkpointed = state.step;
        let keep = self.cfg.train.keep_checkpoints;
        let all = checkpoint::list(&dir)?;
        if all.len() > keep {
            for (_, old) in &all[..all.len() - keep] {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluated(step: u64, recall: f64, coverage: f64) -> LogRecord {
        let mut r = LogRecord::new(step, 0, &Default::default(), 0.0);
        r.prdc = Some([0.5, recall, 0.8, coverage]);
        r
    }

    #[test]
    fn collapse_warning_needs_three_falls_in_a_row() {
        let plain = LogRecord::new(5, 0, &Default::default(), 0.0);
        let history = [
            evaluated(10, 0.50, 0.70),
            plain.clone(),
            evaluated(20, 0.45, 0.71),
            evaluated(30, 0.40, 0.69),
        ];
        // Recall fell three times; coverage rose once in between.
        let w = collapse_warning(&history, &evaluated(40, 0.35, 0.68)).unwrap();
        assert_eq!(
            w,
            "step 40: recall fell at three evaluations in a row (0.500 → 0.450 → 0.400 → 0.350): G may be collapsing onto fewer modes; look at the samples"
        );
        // Two falls, or a rise at the end: no warning.
        assert!(collapse_warning(&history[1..], &evaluated(40, 0.35, 0.68)).is_none());
        assert!(collapse_warning(&history, &evaluated(40, 0.41, 0.72)).is_none());
        // Both.
        let both = [
            evaluated(10, 0.5, 0.9),
            evaluated(20, 0.4, 0.8),
            evaluated(30, 0.3, 0.7),
        ];
        let w = collapse_warning(&both, &evaluated(40, 0.2, 0.6)).unwrap();
        assert!(w.contains("recall and coverage fell"), "{w}");
    }
}
