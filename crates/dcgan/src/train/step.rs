//! One training iteration (paper §4, pytorch/examples order): a D step on a real batch and a
//! detached fake batch, then a G step on the same fake batch through the updated D.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid};

use crate::model::{BnMode, Discriminator, Generator};
use crate::optim::Adam;

/// What one iteration measured (all on the host, as f32).
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

/// The D half-step's gradients. Objective (paper eq. 1, D's side): maximise
/// log D(x) + log(1 − D(G(z))), i.e. minimise BCE(D(x), 1) + BCE(D(G(z)), 0). Real and fake go
/// through D as two batches, so BatchNorm normalises each with its own statistics, as in the
/// reference code. Fills the D fields of `stats`.
pub fn discriminator_grads(
    d: &Discriminator,
    real: Tensor<4>,
    fake_detached: Tensor<4>,
    stats: &mut StepStats,
) -> GradientsParams {
    let logit_real = d.forward(real, BnMode::Train);
    let logit_fake = d.forward(fake_detached, BnMode::Train);
    stats.d_real = scalar(sigmoid(logit_real.clone().detach()).mean());
    stats.d_fake = scalar(sigmoid(logit_fake.clone().detach()).mean());
    let loss_real = bce_with_logits(logit_real, true);
    let loss_fake = bce_with_logits(logit_fake, false);
    let loss = loss_real.clone().add(loss_fake.clone());
    let grads = GradientsParams::from_grads(loss.backward(), d);
    stats.loss_d_real = scalar(loss_real.detach());
    stats.loss_d_fake = scalar(loss_fake.detach());
    stats.loss_d = scalar(loss.detach());
    grads
}

/// The D half-step: its gradients (above), then Adam.
pub fn discriminator_step(
    d: Discriminator,
    opt: &mut Adam,
    real: Tensor<4>,
    fake_detached: Tensor<4>,
    stats: &mut StepStats,
) -> Discriminator {
    let mut grads = discriminator_grads(&d, real, fake_detached, stats);
    opt.update(d, &mut grads)
}

/// The G half-step's gradients. Objective (the non-saturating loss the paper's code uses):
/// maximise log D(G(z)), i.e. minimise BCE(D(G(z)), 1), with D held fixed. D's weights are
/// marked as not requiring gradients for this pass, so no D weight gradient is computed; D stays
/// in training mode, so its BatchNorm uses (and updates) batch statistics, as in the reference
/// code. `fake` is G(z) with its graph. Fills `stats.d_fake_after` and `stats.loss_g`.
pub fn generator_grads(
    g: &Generator,
    d: &Discriminator,
    fake: Tensor<4>,
    stats: &mut StepStats,
) -> GradientsParams {
    let d_fixed = d.clone().no_grad();
    let logit = d_fixed.forward(fake, BnMode::Train);
    stats.d_fake_after = scalar(sigmoid(logit.clone().detach()).mean());
    let loss = bce_with_logits(logit, true);
    let grads = GradientsParams::from_grads(loss.backward(), g);
    stats.loss_g = scalar(loss.detach());
    grads
}

/// The G half-step: its gradients (above) through the updated D, then Adam.
pub fn generator_step(
    g: Generator,
    opt: &mut Adam,
    d: &Discriminator,
    fake: Tensor<4>,
    stats: &mut StepStats,
) -> Generator {
    let mut grads = generator_grads(&g, d, fake, stats);
    opt.update(g, &mut grads)
}

/// Both half-steps' gradients at the current weights, with no optimizer step between them:
/// D's objective on the real batch and G(z) detached, then G's objective through the same D on
/// the same fake batch. Both networks in training mode. Returns (D's, G's, the measurements).
pub fn gradients(
    g: &Generator,
    d: &Discriminator,
    real: Tensor<4>,
    z: Tensor<2>,
) -> (GradientsParams, GradientsParams, StepStats) {
    let mut stats = StepStats::default();
    let fake = g.forward(z, BnMode::Train);
    let grads_d = discriminator_grads(d, real, fake.clone().detach(), &mut stats);
    let grads_g = generator_grads(g, d, fake, &mut stats);
    (grads_d, grads_g, stats)
}

/// G, D and their optimisers.
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
}

impl Gan {
    /// One iteration on a real batch `[b, nc, s, s]` in [−1, 1] and latents `[b, nz]`, both on
    /// the autodiff device.
    pub fn iteration(&mut self, real: Tensor<4>, z: Tensor<2>) -> StepStats {
        let mut stats = StepStats::default();
        let fake = self.generator.forward(z, BnMode::Train); // [b, nc, s, s]
        let d = self.discriminator.clone();
        self.discriminator =
            discriminator_step(d, &mut self.opt_d, real, fake.clone().detach(), &mut stats);
        let g = self.generator.clone();
        self.generator = generator_step(g, &mut self.opt_g, &self.discriminator, fake, &mut stats);
        stats
    }
}
