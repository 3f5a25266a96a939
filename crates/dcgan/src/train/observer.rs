//! Progress reporting. The library reports through this trait; the command-line tool renders it
//! (a progress bar on a terminal, nothing otherwise).

use serde::{Deserialize, Serialize};

use super::step::StepStats;

/// One line of `log.jsonl`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LogRecord {
    pub step: u64,
    pub epoch: u64,
    pub loss_d: f32,
    pub loss_g: f32,
    /// Mean D(x).
    pub d_real: f32,
    /// Mean D(G(z)) in the D step.
    pub d_fake: f32,
    /// Mean D(G(z)) in the G step.
    pub d_fake_after: f32,
    pub images_per_second: f32,
}

impl LogRecord {
    pub fn new(step: u64, epoch: u64, s: &StepStats, images_per_second: f32) -> Self {
        Self {
            step,
            epoch,
            loss_d: s.loss_d,
            loss_g: s.loss_g,
            d_real: s.d_real,
            d_fake: s.d_fake,
            d_fake_after: s.d_fake_after,
            images_per_second,
        }
    }
}

/// What a run is about to do.
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub data: String,
    pub steps_per_epoch: u64,
    /// The step the run starts from (0 for a new run).
    pub first_step: u64,
    /// The step it will stop at.
    pub last_step: u64,
}

pub trait Observer {
    fn start(&mut self, _info: &RunInfo) {}
    fn step(&mut self, _record: &LogRecord) {}
    /// Notable events: checkpoints, sample grids, skipped images.
    fn message(&mut self, _text: &str) {}
    fn finish(&mut self) {}
}

/// Reports nothing.
pub struct Silent;
impl Observer for Silent {}
