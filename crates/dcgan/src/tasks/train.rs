//! `dcgan train`: a new run, or the continuation of one.
//!
//! The defaults of a new run are those of [`RunConfig`]'s parts (the paper's recipe, each with
//! its reason in [`crate::config`]); a front end only overrides what the user gave.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::Events;
use crate::Result;
use crate::config::RunConfig;
use crate::train::LogRecord;
use crate::train::run::ResumeOptions;

/// What to train.
#[derive(Clone, Debug)]
pub enum TrainConfig {
    /// A new run in `out` (a front end that lets the data choose the channels calls
    /// [`resolve_channels`] first).
    New {
        config: Box<RunConfig>,
        out: PathBuf,
    },
    /// Continue the run in `run` from its newest checkpoint.
    Resume {
        run: PathBuf,
        options: ResumeOptions,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub run: PathBuf,
    pub steps: u64,
    pub epochs_completed: u64,
    pub seconds: f64,
    pub last: Option<LogRecord>,
    pub last_samples: Option<PathBuf>,
    pub last_checkpoint: Option<PathBuf>,
    pub bad_images: u64,
}

/// The channels of the data a config names (grey data → 1, otherwise 3).
pub fn resolve_channels(config: &mut RunConfig) -> Result<()> {
    let ds = crate::data::open(&config.data.source)?;
    config.model.channels = crate::data::natural_channels(&*ds);
    Ok(())
}

/// Train until the config's epochs or step limit, or until `stop` is set (then a checkpoint is
/// written and [`crate::Error::Interrupted`] returned).
pub fn run(c: TrainConfig, events: &mut dyn Events, stop: &AtomicBool) -> Result<TrainReport> {
    let (run, summary) = match c {
        TrainConfig::New { config, out } => {
            let s = crate::train::train(*config, &out, events, stop)?;
            (out, s)
        }
        TrainConfig::Resume { run, options } => {
            let s = crate::train::resume(&run, options, events, stop)?;
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
    })
}
