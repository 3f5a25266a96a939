//! `dcgan grads`: both half-steps' gradients at a checkpoint's weights, in pytorch/examples'
//! state-dict layout, to compare with PyTorch's.

use std::path::PathBuf;

use serde::Serialize;

use super::{load_with_discriminator, read_real};
use crate::Result;
use crate::tasks::Events;

#[derive(Clone, Debug)]
/// `interop grads`: both half-steps' gradients on a given batch, for comparison with PyTorch.
pub struct GradsConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file, with a discriminator.
    pub checkpoint: PathBuf,
    /// The real batch, `.npy` of shape (N, channels, size, size) in [−1, 1].
    pub real: PathBuf,
    /// The latents, `.npy` of shape (N, nz) or (N, nz, 1, 1).
    pub latent: PathBuf,
    /// Folder for `grads_d.safetensors`, `grads_g.safetensors` and `losses.json`.
    pub out: PathBuf,
    /// `flex` (CPU) unless told otherwise.
    pub device: String,
    /// The objective whose gradients are taken (`--loss`); `None`: the checkpoint's run's.
    pub loss: Option<crate::config::Loss>,
    /// A conditional model's classes for the batch, `.npy` of N integers: the real images'
    /// classes, and the classes the fakes are drawn for (required for a conditional model,
    /// refused otherwise).
    pub labels: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
/// What `interop grads` wrote and measured.
pub struct GradsReport {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// D's loss on the real batch (BCE(D(x), 1) for the paper's loss).
    pub err_d_real: f32,
    /// D's loss on the fake batch (BCE(D(G(z)), 0)).
    pub err_d_fake: f32,
    /// G's loss through the same D (BCE(D(G(z)), 1)).
    pub err_g: f32,
    /// Mean D(x) and D(G(z)).
    pub d_real: f32,
    /// Mean D(G(z)).
    pub d_fake: f32,
}

/// Both half-steps' gradients at a checkpoint's weights (`interop::torch_gradients`).
pub fn grads(c: GradsConfig, _events: &mut dyn Events) -> Result<GradsReport> {
    let ckpt = load_with_discriminator(&c.checkpoint, "gradients")?;
    let m = ckpt.model();
    let real = read_real(&c.real, m)?;
    let (n_z, z) = crate::io::npy::read_latents(&c.latent, m.latent_dim)?;
    let labels = crate::sample::read_labels_for(&ckpt, c.labels.as_deref(), n_z)?;
    let device = crate::device::by_name(&c.device)?;
    let files = crate::interop::torch_gradients(
        c.loss.unwrap_or(ckpt.config.recipe.loss),
        &ckpt,
        &real,
        (&z, n_z),
        labels.as_deref(),
        &device,
        &c.out,
    )?;
    let s = files.stats;
    Ok(GradsReport {
        written: files.written,
        err_d_real: s.loss_d_real,
        err_d_fake: s.loss_d_fake,
        err_g: s.loss_g,
        d_real: s.d_real,
        d_fake: s.d_fake,
    })
}
