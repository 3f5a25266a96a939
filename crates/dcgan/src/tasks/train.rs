//! `dcgan train`: a new run, or the continuation of one.
//!
//! The defaults of a new run are those of [`RunConfig`]'s parts (the paper's recipe, each with
//! its reason in [`crate::config`]); a front end only overrides what the user gave.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::Events;
use crate::Result;
use crate::checkpoint::Best;
use crate::config::{RunConfig, RunDir};
use crate::eval::training::TrainingEvaluator;
use crate::train::Evaluate;
use crate::train::LogRecord;
use crate::train::run::ResumeOptions;

/// What to train.
#[derive(Clone, Debug)]
pub enum TrainTask {
    /// A new run in `out` (a front end that lets the data choose the channels calls
    /// [`resolve_channels`] first).
    New {
        /// The run's configuration.
        config: Box<RunConfig>,
        /// The run directory to create.
        out: PathBuf,
        /// Files the evaluations need.
        files: EvalFiles,
    },
    /// Continue the run in `run` from its newest checkpoint.
    Resume {
        /// The run directory.
        run: PathBuf,
        /// What may change.
        options: ResumeOptions,
        /// Files the evaluations need.
        files: EvalFiles,
    },
}

/// Where the evaluations of `eval.every` find their files (not part of a run's config: they
/// belong to the machine). Unused when the run does not evaluate.
#[derive(Clone, Debug, Default)]
pub struct EvalFiles {
    /// The Inception weights (as for `dcgan fid`).
    pub weights: PathBuf,
    /// The real images' statistics cache (as for `dcgan fid`); `None`: nothing kept.
    pub stats_cache: Option<PathBuf>,
}

/// The FID/KID evaluator a config asks for, if any.
fn evaluator(config: &RunConfig, files: &EvalFiles) -> Option<TrainingEvaluator> {
    (config.eval.every > 0).then(|| {
        TrainingEvaluator::new(
            &config.eval,
            &config.data,
            &config.model,
            &config.device,
            files.weights.clone(),
            files.stats_cache.clone(),
        )
    })
}

/// What `train` did.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    /// The run directory.
    pub run: PathBuf,
    /// Steps taken by this call.
    pub steps: u64,
    /// Epochs completed in all.
    pub epochs_completed: u64,
    /// Wall time of this call.
    pub seconds: f64,
    /// The last step's record.
    pub last: Option<LogRecord>,
    /// The newest sample grid.
    pub last_samples: Option<PathBuf>,
    /// The newest checkpoint.
    pub last_checkpoint: Option<PathBuf>,
    /// Unreadable images skipped so far.
    pub bad_images: u64,
    /// The best evaluation of `--keep-best` and its step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<Best>,
}

/// The channels of the data a config names (grey data → 1, otherwise 3).
pub fn resolve_channels(config: &mut RunConfig) -> Result<()> {
    let ds = crate::data::open(&config.data.source, config.data.background)?;
    config.model.channels = crate::data::natural_channels(&*ds);
    Ok(())
}

/// Train until the config's epochs or step limit, or until `stop` is set (then a checkpoint is
/// written and [`crate::Error::Interrupted`] returned).
pub fn run(c: TrainTask, events: &mut dyn Events, stop: &AtomicBool) -> Result<TrainReport> {
    let (run, summary) = match c {
        TrainTask::New { config, out, files } => {
            let mut ev = evaluator(&config, &files);
            let ev = ev.as_mut().map(|e| e as &mut dyn Evaluate);
            let s = crate::train::train(*config, &out, ev, events, stop)?;
            (out, s)
        }
        TrainTask::Resume {
            run,
            options,
            files,
        } => {
            // The run's config with the resume's changes, to build its evaluator (a config
            // that does not load is reported by the resume itself).
            let mut ev =
                RunConfig::load(&RunDir::new(&run).config())
                    .ok()
                    .and_then(|mut config| {
                        options.apply(&mut config);
                        evaluator(&config, &files)
                    });
            let ev = ev.as_mut().map(|e| e as &mut dyn Evaluate);
            let s = crate::train::resume(&run, options, ev, events, stop)?;
            (run, s)
        }
    };
    Ok(TrainReport {
        run,
        steps: summary.steps,
        epochs_completed: summary.epochs_completed,
        seconds: summary.seconds,
        last: summary.last,
        last_samples: summary.last_samples,
        last_checkpoint: summary.last_checkpoint,
        bad_images: summary.bad_images,
        best: summary.best,
    })
}
