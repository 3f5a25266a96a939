//! The log record of a training step, made from the step's statistics.

pub use crate::progress::LogRecord;

use super::step::StepStats;

impl LogRecord {
    /// The log record of step `step` in epoch `epoch`.
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
            fid: None,
            kid: None,
            prdc: None,
            eval_error: None,
            eval_warning: None,
        }
    }
}
