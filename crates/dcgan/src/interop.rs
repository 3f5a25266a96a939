//! PyTorch interop: pytorch/examples DCGAN state dicts (saved as safetensors) in and out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};

use crate::checkpoint::Checkpoint;
use crate::checkpoint::{self, TrainState};
use crate::config::{Loss, ModelConfig, RunConfig};
use crate::error::{Error, IoContext, Result};
use crate::io::torch::{Net, from_torch, to_torch};
use crate::io::{
    HostTensor, atomic_write, load_named, named_grads, named_tensors, safetensors_file,
};
use crate::model::{Discriminator, Generator};
use crate::optim::Adam;
use crate::train::StepStats;
use crate::train::step::{Gan, gradients};

fn read_torch(net: Net, model: &ModelConfig, path: &Path) -> Result<crate::io::TensorMap> {
    let content = safetensors_file::read(path)?;
    from_torch(net, model, &content.tensors, path)
}

/// Read pytorch/examples state dicts into a checkpoint (no optimizer state) at `out`.
pub fn import_torch(
    model: &ModelConfig,
    generator: &Path,
    discriminator: Option<&Path>,
    out: &Path,
) -> Result<()> {
    model.validate()?;
    if model.kernel_size != 4 {
        return Err(Error::config(
            "kernel size",
            model.kernel_size,
            "PyTorch import reads the pytorch/examples layout (kernel 4)",
        ));
    }
    let device = Device::flex();
    let g = load_named(
        Generator::new(model, 0, &device),
        &read_torch(Net::Generator, model, generator)?,
        generator,
    )?;
    let d = match discriminator {
        Some(p) => Some(load_named(
            Discriminator::new(model, 0, &device),
            &read_torch(Net::Discriminator, model, p)?,
            p,
        )?),
        None => None,
    };
    let config = RunConfig::with_model(model.clone());
    let bytes = checkpoint::encode(&config, &TrainState::default(), &g, d.as_ref(), None);
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    atomic_write(out, &bytes)
}

/// Write the checkpoint's G (and D, if it has one) as pytorch/examples state dicts:
/// `out_dir/netG.safetensors`, `out_dir/netD.safetensors`. Returns the files written.
pub(crate) fn export_torch(ckpt: &Checkpoint, out_dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let m = ckpt.model();
    require_torch_layout(ckpt, "PyTorch export")?;
    let device = Device::flex();
    let step = ckpt.state.step as i64;
    let g = ckpt.generator(&device)?;
    let d = match ckpt.has_discriminator() {
        true => Some(ckpt.discriminator(&device)?),
        false => None,
    };
    let source = format!("dcgan checkpoint {}", ckpt.path.display());
    write_torch_nets(&g, d.as_ref(), m, step, &source, out_dir)
}

/// G (and D) as pytorch/examples state dicts in `out_dir`: `netG.safetensors`,
/// `netD.safetensors`, after `step` training iterations. PyTorch counts BatchNorm updates: G's
/// once per step, D's three times (real, fake, G step).
fn write_torch_nets(
    g: &Generator,
    d: Option<&Discriminator>,
    model: &ModelConfig,
    step: i64,
    source: &str,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).at(out_dir)?;
    let meta = || HashMap::from([("source".to_string(), source.to_string())]);
    let mut written = Vec::new();
    let (tg, ig) = to_torch(Net::Generator, model, &named_tensors(g), step);
    let p = out_dir.join("netG.safetensors");
    atomic_write(&p, &safetensors_file::serialize(&tg, &ig, meta()))?;
    written.push(p);
    if let Some(d) = d {
        let (td, id) = to_torch(Net::Discriminator, model, &named_tensors(d), 3 * step);
        let p = out_dir.join("netD.safetensors");
        atomic_write(&p, &safetensors_file::serialize(&td, &id, meta()))?;
        written.push(p);
    }
    Ok(written)
}

fn require_torch_layout(ckpt: &Checkpoint, what: &str) -> Result<()> {
    let k = ckpt.model().kernel_size;
    if k != 4 {
        return Err(Error::mismatch(
            &ckpt.path,
            format!(
                "{what} writes the pytorch/examples layout (kernel 4); this model uses kernel {k}"
            ),
        ));
    }
    Ok(())
}

/// What [`torch_gradients`] measured and wrote.
pub(crate) struct GradientFiles {
    pub written: Vec<PathBuf>,
    pub stats: StepStats,
}

/// The gradients of both half-steps at the checkpoint's weights (`train::step::gradients`: both
/// networks in training mode, no optimizer step), on the real batch `real` `[n, nc, s, s]` in
/// [−1, 1], the latents `z` (`n_z` rows) and, for a conditional pair, their classes, written
/// in pytorch/examples' state-dict layout:
/// `out_dir/grads_d.safetensors` = ∂/∂θ_D [BCE(D(x), 1) + BCE(D(G(z)), 0)],
/// `out_dir/grads_g.safetensors` = ∂/∂θ_G BCE(D(G(z)), 1), keys `main.N.weight` / `main.N.bias`
/// (and `embed.weight`, a conditional D's class embedding);
/// and `out_dir/losses.json` with the three losses (`err_d_real`, `err_d_fake`, `err_g`).
pub(crate) fn torch_gradients(
    loss: Loss,
    ckpt: &Checkpoint,
    real: &HostTensor,
    (z, n_z): (&[f32], usize),
    labels: Option<&[usize]>,
    device: &Device,
    out_dir: &Path,
) -> Result<GradientFiles> {
    require_torch_layout(ckpt, "dcgan grads")?;
    let m = ckpt.model();
    let device = device.clone().autodiff();
    let g = ckpt.raw_generator(&device)?;
    let d = ckpt.discriminator(&device)?;
    let x: Tensor<4> = real.to_tensor(&device);
    let z: Tensor<2> = Tensor::from_data(TensorData::new(z.to_vec(), [n_z, m.latent_dim]), &device);
    let labels = labels.map(|y| {
        let k = m.class_count();
        let one_hot = crate::model::inference::one_hot(y, k);
        Tensor::<2>::from_data(TensorData::new(one_hot, [y.len(), k]), &device)
    });
    let (grads_d, grads_g, stats) = gradients(loss, &g, &d, x, z, labels);
    let (td, _) = to_torch(Net::Discriminator, m, &named_grads(&d, &grads_d), 0);
    let (tg, _) = to_torch(Net::Generator, m, &named_grads(&g, &grads_g), 0);
    std::fs::create_dir_all(out_dir).at(out_dir)?;
    let meta = |objective: &str| {
        HashMap::from([
            (
                "source".to_string(),
                format!("dcgan grads {}", ckpt.path.display()),
            ),
            ("objective".to_string(), objective.to_string()),
        ])
    };
    let mut written = Vec::new();
    let (objective_d, objective_g) = match loss {
        Loss::Bce => (
            "d/d theta_D [BCE(D(x), 1) + BCE(D(G(z)), 0)]",
            "d/d theta_G BCE(D(G(z)), 1)",
        ),
        Loss::Hinge => (
            "d/d theta_D [mean relu(1 - D(x)) + mean relu(1 + D(G(z)))], D(.) the logit",
            "d/d theta_G [-mean D(G(z))], D(.) the logit",
        ),
        Loss::Lsgan => (
            "d/d theta_D [mean 0.5 (D(x) - 1)^2 + mean 0.5 D(G(z))^2], D(.) the logit",
            "d/d theta_G mean 0.5 (D(G(z)) - 1)^2, D(.) the logit",
        ),
    };
    for (name, tensors, objective) in [
        ("grads_d.safetensors", &td, objective_d),
        ("grads_g.safetensors", &tg, objective_g),
    ] {
        let p = out_dir.join(name);
        atomic_write(
            &p,
            &safetensors_file::serialize(tensors, &HashMap::new(), meta(objective)),
        )?;
        written.push(p);
    }
    let losses = serde_json::json!({
        "err_d_real": stats.loss_d_real,
        "err_d_fake": stats.loss_d_fake,
        "err_g": stats.loss_g,
    });
    let p = out_dir.join("losses.json");
    atomic_write(
        &p,
        serde_json::to_string_pretty(&losses).unwrap().as_bytes(),
    )?;
    written.push(p);
    Ok(GradientFiles { written, stats })
}

/// One line of `steps.jsonl` (f32 fields written as f32, shortest form).
#[derive(serde::Serialize)]
struct ReplayLine {
    step: u64,
    #[serde(flatten)]
    stats: StepStats,
}

/// What [`torch_replay`] measured and wrote.
pub(crate) struct ReplayFiles {
    pub written: Vec<PathBuf>,
    /// One entry per iteration, in order.
    pub steps: Vec<StepStats>,
}

/// Train from the checkpoint's weights on given batches: iteration i takes real images
/// `real[i·b .. (i+1)·b]` (`[n, nc, s, s]` in [−1, 1]) and latents `z[i·b .. (i+1)·b]`, with the
/// training loop's own iteration (`train::step::Gan::iteration`) and Adam (the checkpoint's
/// optimiser state if it has one, fresh otherwise, with its config's settings). Nothing is
/// random, so the same inputs given to another implementation must give the same trajectory up
/// to rounding. Writes `out_dir/steps.jsonl` (one `StepStats` a line, with `step` from 1) and
/// the final weights as pytorch/examples state dicts (`netG.safetensors`, `netD.safetensors`).
pub(crate) fn torch_replay(
    ckpt: &Checkpoint,
    real: &HostTensor,
    z: &[f32],
    batch: usize,
    device: &Device,
    out_dir: &Path,
    mut on_step: impl FnMut(u64, &StepStats),
) -> Result<ReplayFiles> {
    require_torch_layout(ckpt, "dcgan replay")?;
    // Refused before any weight is loaded: the replay feeds given batches to the plain
    // iteration, which has no augmentation draws to match.
    let augment = &ckpt.config.recipe.augment;
    if !augment.is_empty() {
        let names: Vec<_> = augment.iter().map(|a| a.name()).collect();
        return Err(Error::config(
            "augmentation",
            names.join(","),
            "dcgan replay runs the plain iteration on given batches; this run uses DiffAugment",
        ));
    }
    let m = ckpt.model();
    if m.class_count() > 0 {
        return Err(Error::format(
            &ckpt.path,
            "is a class-conditional model; dcgan replay runs the unconditional iteration (dcgan grads --labels takes classes)",
        ));
    }
    let n = real.shape[0];
    let iterations = n / batch;
    let device = device.clone().autodiff();
    let (opt_g, opt_d) = if ckpt.has_optimizers() {
        ckpt.optimizers(&device, &ckpt.config.optim)?
    } else {
        (
            Adam::new(ckpt.config.optim.generator()),
            Adam::new(ckpt.config.optim.discriminator()),
        )
    };
    let mut gan = Gan::paper(
        ckpt.raw_generator(&device)?,
        ckpt.discriminator(&device)?,
        opt_g,
        opt_d,
    );
    gan.loss = ckpt.config.recipe.loss;
    let image = real.shape[1..].iter().product::<usize>();
    let mut steps = Vec::with_capacity(iterations);
    let mut log = String::new();
    for i in 0..iterations {
        let mut shape = real.shape.clone();
        shape[0] = batch;
        let x = HostTensor::new(
            shape,
            real.data[i * batch * image..(i + 1) * batch * image].to_vec(),
        );
        let zs = &z[i * batch * m.latent_dim..(i + 1) * batch * m.latent_dim];
        let zt: Tensor<2> =
            Tensor::from_data(TensorData::new(zs.to_vec(), [batch, m.latent_dim]), &device);
        let stats = gan.iteration(x.to_tensor(&device), zt);
        let step = i as u64 + 1;
        let line = serde_json::to_string(&ReplayLine { step, stats }).expect("stats serialise");
        log.push_str(&line);
        log.push('\n');
        on_step(step, &stats);
        steps.push(stats);
    }
    std::fs::create_dir_all(out_dir).at(out_dir)?;
    let p = out_dir.join("steps.jsonl");
    atomic_write(&p, log.as_bytes())?;
    let step = ckpt.state.step as i64 + iterations as i64;
    let source = format!(
        "dcgan replay of {} for {iterations} steps",
        ckpt.path.display()
    );
    let mut written = vec![p];
    written.extend(write_torch_nets(
        &gan.generator,
        Some(&gan.discriminator),
        m,
        step,
        &source,
        out_dir,
    )?);
    Ok(ReplayFiles { written, steps })
}
