//! FID and KID of a generator while it trains (`dcgan train --eval-every`), through the same
//! measurement as `dcgan fid` ([`super::measure`]).

use std::path::PathBuf;

use super::fid::{Extractor, Stats, generator_features};
use super::inception::{FEATURES, Inception};
use super::measure::{Protocol, Side, images_side, scores, stats_side};
use crate::device::Device;
use crate::progress::Events;
use crate::{Error, Result};

/// FID and KID of a generator while it trains (`dcgan train --eval-every`): the real set's
/// statistics are measured (or read from the cache) once, before training; each evaluation
/// then costs only the generated side. An evaluation equals `dcgan fid --checkpoint C --data D
/// --n N` on the same generator: the same real subset and cache entry, the same latents
/// (seed 0), the same KID subsets.
pub(crate) struct TrainingEvaluator {
    protocol: Protocol,
    device: String,
    data: String,
    image_size: usize,
    prepared: Option<(Device, Inception, Side)>,
}

impl TrainingEvaluator {
    /// The real images: the training data unless `eval.data` names others, composited over the
    /// training data's background; `weights` and `stats_cache` as for `dcgan fid` ([`Protocol`]).
    pub fn new(
        eval: &crate::config::EvalConfig,
        train_data: &crate::config::DataConfig,
        model: &crate::config::ModelConfig,
        device: &str,
        weights: PathBuf,
        stats_cache: Option<PathBuf>,
    ) -> Self {
        let data = eval
            .data
            .clone()
            .unwrap_or_else(|| train_data.source.clone());
        Self {
            // `dcgan fid`'s settings, so a logged score equals that command's on the same
            // checkpoint.
            protocol: Protocol {
                n: eval.samples,
                weights,
                stats_cache,
                background: train_data.background,
                mode: eval.fid_mode,
                prdc_k: eval.prdc_k,
                ..Protocol::default()
            },
            device: device.to_string(),
            data,
            image_size: model.image_size,
            prepared: None,
        }
    }
}

impl crate::train::Evaluate for TrainingEvaluator {
    fn prepare(&mut self, events: &mut dyn Events) -> Result<()> {
        let c = &self.protocol;
        if c.n < 2 {
            return Err(Error::config(
                "eval samples",
                c.n,
                "FID needs at least 2 images per set",
            ));
        }
        let device = crate::device::by_name(&self.device)?;
        let given = stats_side(&self.data, c.mode)?;
        let net = Inception::load(&c.weights, &device)?;
        let real = match given {
            Some(side) => side,
            None => images_side(&net, &self.data, Some(self.image_size), c, &device, events)?,
        };
        events.info(format!(
            "evaluating G against {} ({} images)",
            real.report.what, real.report.n
        ));
        self.prepared = Some((device, net, real));
        Ok(())
    }

    fn evaluate(
        &mut self,
        g: &crate::model::Generator,
        model: &crate::config::ModelConfig,
        _device: &burn::tensor::Device,
        events: &mut dyn Events,
    ) -> Result<crate::train::Scores> {
        let c = &self.protocol;
        let (device, net, real) = self
            .prepared
            .as_ref()
            .expect("the training loop prepares its evaluator first");
        let feats = generator_features(
            &Extractor {
                net,
                batch: c.batch_size,
                device,
                mode: c.mode,
            },
            g,
            model,
            c.n,
            c.seed,
            None,
            events,
        )?;
        let stats = Stats::from_features(&feats, FEATURES)?;
        let s = scores(
            c,
            (&real.stats, real.features.as_deref()),
            (&stats, Some(&feats)),
        )?;
        Ok(crate::train::Scores {
            fid: s.fid,
            kid: s.kid.map(|k| k.mean),
            prdc: s
                .prdc
                .map(|p| [p.precision, p.recall, p.density, p.coverage]),
        })
    }
}
