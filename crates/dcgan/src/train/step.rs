//! One training iteration (paper §4, pytorch/examples order): a D step on a real batch and a
//! detached fake batch, then a G step on the same fake batch through the updated D. With
//! `--d-steps N`, N D steps, each on its own real batch and latents, then the G step on the last
//! one's fake batch. The objective is the paper's binary cross-entropy unless `--loss` says
//! otherwise ([`Loss`]).

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid};

use crate::config::Loss;
use crate::model::{BnMode, Discriminator, Generator};
use crate::optim::Adam;
use crate::train::augment::{Augmenter, Pass};
use crate::train::ema::Ema;

/// What one iteration measured (all on the host, as f32). The loss fields hold the run's loss
/// ([`Loss`]); the names below are the paper's. The D outputs are σ(logit) whatever the loss, so
/// they stay in [0, 1] and comparable between runs. With several D steps, the D fields are
/// their means over the D steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepStats {
    /// BCE(D(x), 1) + BCE(D(G(z)), 0).
    pub loss_d: f32,
    /// BCE(D(x), 1).
    pub loss_d_real: f32,
    /// BCE(D(G(z)), 0).
    pub loss_d_fake: f32,
    /// BCE(D(G(z)), 1) after D's update.
    pub loss_g: f32,
    /// Mean D(x).
    pub d_real: f32,
    /// Mean D(G(z)) in the D step.
    pub d_fake: f32,
    /// Mean D(G(z)) in the G step (after D's update).
    pub d_fake_after: f32,
}

/// Mean binary cross-entropy of `sigmoid(logits)` against an all-`target` label, computed from the
/// logits: −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l), with
/// softplus(x) = max(x, 0) + log(1 + e^(−|x|)), which never overflows.
pub fn bce_with_logits(logits: Tensor<1>, target: bool) -> Tensor<1> {
    let x = if target { logits.neg() } else { logits };
    let soft = relu(x.clone()).add(x.abs().neg().exp().log1p());
    soft.mean()
}

fn scalar(t: Tensor<1>) -> f32 {
    t.into_scalar::<f32>()
}

impl Loss {
    /// D's loss on the logits of real images.
    pub fn d_real(self, logits: Tensor<1>) -> Tensor<1> {
        match self {
            Loss::Bce => bce_with_logits(logits, true),
            // max(0, 1 − l)
            Loss::Hinge => relu(logits.neg().add_scalar(1.0)).mean(),
            // ½(l − 1)²
            Loss::Lsgan => logits.sub_scalar(1.0).powi_scalar(2).mean().mul_scalar(0.5),
        }
    }

    /// D's loss on the logits of generated images (G held fixed).
    pub fn d_fake(self, logits: Tensor<1>) -> Tensor<1> {
        match self {
            Loss::Bce => bce_with_logits(logits, false),
            // max(0, 1 + l)
            Loss::Hinge => relu(logits.add_scalar(1.0)).mean(),
            // ½l²
            Loss::Lsgan => logits.powi_scalar(2).mean().mul_scalar(0.5),
        }
    }

    /// G's loss on D's logits of its images (D held fixed).
    pub fn g(self, logits: Tensor<1>) -> Tensor<1> {
        match self {
            // Non-saturating: −log σ(l)
            Loss::Bce => bce_with_logits(logits, true),
            // −l
            Loss::Hinge => logits.mean().neg(),
            // ½(l − 1)²
            Loss::Lsgan => logits.sub_scalar(1.0).powi_scalar(2).mean().mul_scalar(0.5),
        }
    }
}

/// The D half-step's gradients. Objective (paper eq. 1, D's side): maximise
/// log D(x) + log(1 − D(G(z))), i.e. minimise BCE(D(x), 1) + BCE(D(G(z)), 0); with another
/// `loss`, minimise its `d_real` + `d_fake`. Real and fake go through D as two batches, so
/// BatchNorm normalises each with its own statistics, as in the reference code. Fills the D
/// fields of `stats`.
pub fn discriminator_grads(
    loss: Loss,
    d: &Discriminator,
    real: Tensor<4>,
    fake_detached: Tensor<4>,
    labels: Option<Tensor<2>>,
    stats: &mut StepStats,
) -> GradientsParams {
    let logit_real = d.forward_labelled(real, BnMode::Train, labels.clone());
    let logit_fake = d.forward_labelled(fake_detached, BnMode::Train, labels);
    stats.d_real = scalar(sigmoid(logit_real.clone().detach()).mean());
    stats.d_fake = scalar(sigmoid(logit_fake.clone().detach()).mean());
    let loss_real = loss.d_real(logit_real);
    let loss_fake = loss.d_fake(logit_fake);
    let loss = loss_real.clone().add(loss_fake.clone());
    let grads = GradientsParams::from_grads(loss.backward(), d);
    stats.loss_d_real = scalar(loss_real.detach());
    stats.loss_d_fake = scalar(loss_fake.detach());
    stats.loss_d = scalar(loss.detach());
    grads
}

/// The D half-step: its gradients (above), then Adam.
pub fn discriminator_step(
    loss: Loss,
    d: Discriminator,
    opt: &mut Adam,
    real: Tensor<4>,
    fake_detached: Tensor<4>,
    labels: Option<Tensor<2>>,
    stats: &mut StepStats,
) -> Discriminator {
    let mut grads = discriminator_grads(loss, &d, real, fake_detached, labels, stats);
    opt.update(d, &mut grads)
}

/// The G half-step's gradients. Objective (the non-saturating loss the paper's code uses):
/// maximise log D(G(z)), i.e. minimise BCE(D(G(z)), 1), with D held fixed (another `loss`: its
/// `g`). D's weights are
/// marked as not requiring gradients for this pass, so no D weight gradient is computed; D stays
/// in training mode, so its BatchNorm uses (and updates) batch statistics, as in the reference
/// code. `fake` is G(z) with its graph. Fills `stats.d_fake_after` and `stats.loss_g`.
pub fn generator_grads(
    loss: Loss,
    g: &Generator,
    d: &Discriminator,
    fake: Tensor<4>,
    labels: Option<Tensor<2>>,
    stats: &mut StepStats,
) -> GradientsParams {
    let d_fixed = d.clone().no_grad();
    let logit = d_fixed.forward_labelled(fake, BnMode::Train, labels);
    stats.d_fake_after = scalar(sigmoid(logit.clone().detach()).mean());
    let loss = loss.g(logit);
    let grads = GradientsParams::from_grads(loss.backward(), g);
    stats.loss_g = scalar(loss.detach());
    grads
}

/// The G half-step: its gradients (above) through the updated D, then Adam.
pub fn generator_step(
    loss: Loss,
    g: Generator,
    opt: &mut Adam,
    d: &Discriminator,
    fake: Tensor<4>,
    labels: Option<Tensor<2>>,
    stats: &mut StepStats,
) -> Generator {
    let mut grads = generator_grads(loss, &g, d, fake, labels, stats);
    opt.update(g, &mut grads)
}

/// Both half-steps' gradients at the current weights, with no optimizer step between them:
/// D's objective on the real batch and G(z) detached, then G's objective through the same D on
/// the same fake batch. Both networks in training mode; with `labels` (one-hot `[b, K]`, for a
/// conditional pair) the real images and the fakes share them. Returns (D's, G's, the
/// measurements).
pub fn gradients(
    loss: Loss,
    g: &Generator,
    d: &Discriminator,
    real: Tensor<4>,
    z: Tensor<2>,
    labels: Option<Tensor<2>>,
) -> (GradientsParams, GradientsParams, StepStats) {
    let mut stats = StepStats::default();
    let fake = g.forward(generator_input(z, labels.clone()), BnMode::Train);
    let grads_d = discriminator_grads(
        loss,
        d,
        real,
        fake.clone().detach(),
        labels.clone(),
        &mut stats,
    );
    let grads_g = generator_grads(loss, g, d, fake, labels, &mut stats);
    (grads_d, grads_g, stats)
}

/// G's input: z, then the one-hot labels of a conditional G.
pub fn generator_input(z: Tensor<2>, labels: Option<Tensor<2>>) -> Tensor<2> {
    match labels {
        Some(y) => Tensor::cat(vec![z, y], 1),
        None => z,
    }
}

/// What one D step takes: a real batch `[b, nc, s, s]` in [−1, 1], latents `[b, nz]` and, for
/// a conditional pair, the real images' classes one-hot `[b, K]`, which the fakes are drawn
/// for as well (so generated classes follow the data's frequencies). All on the autodiff device.
#[derive(Clone, Debug)]
pub struct StepInput {
    /// The real images.
    pub real: Tensor<4>,
    /// G's latents.
    pub z: Tensor<2>,
    /// The classes, one-hot; None for the unconditional DCGAN.
    pub labels: Option<Tensor<2>>,
}

/// G, D, their optimisers, the objective and, if kept, the averaged G.
#[derive(Clone, Debug)]
pub struct Gan {
    /// The generator.
    pub generator: Generator,
    /// The discriminator.
    pub discriminator: Discriminator,
    /// G's optimiser.
    pub opt_g: Adam,
    /// D's optimiser.
    pub opt_d: Adam,
    /// The objective both half-steps minimise.
    pub loss: Loss,
    /// The exponential moving average of G (`--ema-decay`), updated after every G step.
    pub ema: Option<Ema>,
    /// DiffAugment (`--augment`): applied to every batch D sees, in both half-steps.
    pub augment: Option<Augmenter>,
}

impl Gan {
    /// The paper's recipe: binary cross-entropy, no averaged G.
    pub fn paper(
        generator: Generator,
        discriminator: Discriminator,
        opt_g: Adam,
        opt_d: Adam,
    ) -> Self {
        Self {
            generator,
            discriminator,
            opt_g,
            opt_d,
            loss: Loss::Bce,
            ema: None,
            augment: None,
        }
    }

    /// One iteration on a real batch `[b, nc, s, s]` in [−1, 1] and latents `[b, nz]`, both on
    /// the autodiff device.
    pub fn iteration(&mut self, real: Tensor<4>, z: Tensor<2>) -> StepStats {
        self.iteration_d_steps(vec![StepInput {
            real,
            z,
            labels: None,
        }])
    }

    /// One iteration with a D step per input, in order, then the G step on the last one's fake
    /// batch through the updated D (with one unlabelled input: [`Gan::iteration`]). The D
    /// fields of the result are means over the D steps.
    pub fn iteration_d_steps(&mut self, batches: Vec<StepInput>) -> StepStats {
        assert!(!batches.is_empty(), "an iteration needs a batch");
        let n = batches.len();
        let step = self.opt_g.step; // G updates so far: the training step, from 0
        let augment = |x: Tensor<4>, pass: Pass| match &self.augment {
            Some(a) => a.apply(x, step, pass),
            None => x,
        };
        let mut total = StepStats::default();
        let mut last_fake = None;
        for (j, StepInput { real, z, labels }) in batches.into_iter().enumerate() {
            let mut stats = StepStats::default();
            let input = generator_input(z, labels.clone());
            let fake = self.generator.forward(input, BnMode::Train); // [b, nc, s, s]
            let real = augment(real, Pass::Real(j as u64));
            let fake_seen = augment(fake.clone().detach(), Pass::Fake(j as u64));
            let d = self.discriminator.clone();
            self.discriminator = discriminator_step(
                self.loss,
                d,
                &mut self.opt_d,
                real,
                fake_seen,
                labels.clone(),
                &mut stats,
            );
            if n == 1 {
                total = stats;
            } else {
                for (t, s) in [
                    (&mut total.loss_d, stats.loss_d),
                    (&mut total.loss_d_real, stats.loss_d_real),
                    (&mut total.loss_d_fake, stats.loss_d_fake),
                    (&mut total.d_real, stats.d_real),
                    (&mut total.d_fake, stats.d_fake),
                ] {
                    *t += s / n as f32;
                }
            }
            last_fake = Some((fake, labels));
        }
        let (fake, labels) = last_fake.expect("one batch at least");
        let fake = augment(fake, Pass::Generator);
        let g = self.generator.clone();
        self.generator = generator_step(
            self.loss,
            g,
            &mut self.opt_g,
            &self.discriminator,
            fake,
            labels,
            &mut total,
        );
        if let Some(ema) = &mut self.ema {
            ema.update(&self.generator, self.opt_g.step);
        }
        total
    }

    /// The generator that samples and scores are taken from: the averaged one when kept.
    pub fn sampling_generator(&self) -> Generator {
        match &self.ema {
            Some(e) => e.generator.clone(),
            None => self.generator.valid(),
        }
    }
}
