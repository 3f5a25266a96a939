//! Scores of G while training (`eval.every`): the loop asks an [`Evaluate`] for them; the task
//! layer supplies one (FID and KID with Inception: `tasks::train`), so training does not depend
//! on the evaluation code and a library user can bring their own score.

use burn::tensor::Device;

use crate::config::{Metric, ModelConfig};
use crate::error::Result;
use crate::model::Generator;
use crate::progress::Events;

/// One evaluation's scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Fréchet Inception Distance.
    pub fid: f64,
    /// `None` when KID was not computed.
    pub kid: Option<f64>,
    /// Precision, recall, density and coverage, when asked for (`eval.prdc_k`).
    pub prdc: Option<[f64; 4]>,
}

impl Scores {
    /// The score of `metric`, if it was computed.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Fid => Some(self.fid),
            Metric::Kid => self.kid,
        }
    }
}

/// Scores a generator. Must not change anything training depends on (no shared random
/// stream, no module state), so that a run with evaluations trains exactly as one without.
pub trait Evaluate {
    /// Work done once before the first step (the real images' statistics): a failure here
    /// stops the run before it trains.
    fn prepare(&mut self, events: &mut dyn Events) -> Result<()>;

    /// The scores of `g` (on `device`, no autodiff; BatchNorm as the evaluator chooses).
    fn evaluate(
        &mut self,
        g: &Generator,
        model: &ModelConfig,
        device: &Device,
        events: &mut dyn Events,
    ) -> Result<Scores>;
}
