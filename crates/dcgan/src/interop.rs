//! PyTorch interop: pytorch/examples DCGAN state dicts (saved as safetensors) in and out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};

use crate::checkpoint::Checkpoint;
use crate::checkpoint::{self, TrainState};
use crate::config::{ModelConfig, RunConfig};
use crate::error::{Error, IoContext, Result};
use crate::io::torch::{Net, from_torch, to_torch};
use crate::io::{
    HostTensor, atomic_write, load_named, named_grads, named_tensors, safetensors_file,
};
use crate::model::{Discriminator, Generator};
use crate::train::StepStats;
use crate::train::step::gradients;

fn read_torch(net: Net, model: &ModelConfig, path: &Path) -> Result<crate::io::TensorMap> {
    let content = safetensors_file::read(path)?;
    from_torch(net, model.upsamplings(), &content.tensors, path)
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
pub fn export_torch(ckpt: &Checkpoint, out_dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let m = ckpt.model();
    require_torch_layout(ckpt, "PyTorch export")?;
    std::fs::create_dir_all(out_dir).at(out_dir)?;
    let device = Device::flex();
    let k = m.upsamplings();
    let step = ckpt.state.step as i64;
    let mut written = Vec::new();
    let meta = || {
        let mut h = HashMap::new();
        h.insert(
            "source".to_string(),
            format!("dcgan checkpoint {}", ckpt.path.display()),
        );
        h
    };
    // PyTorch counts BatchNorm updates: G's once per step, D's three times (real, fake, G step).
    let (tg, ig) = to_torch(
        Net::Generator,
        k,
        &named_tensors(&ckpt.generator(&device)?),
        step,
    );
    let p = out_dir.join("netG.safetensors");
    atomic_write(&p, &safetensors_file::serialize(&tg, &ig, meta()))?;
    written.push(p);
    if ckpt.has_discriminator() {
        let (td, id) = to_torch(
            Net::Discriminator,
            k,
            &named_tensors(&ckpt.discriminator(&device)?),
            3 * step,
        );
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
pub struct GradientFiles {
    pub written: Vec<PathBuf>,
    pub stats: StepStats,
}

/// The gradients of both half-steps at the checkpoint's weights (`train::step::gradients`: both
/// networks in training mode, no optimizer step), on the real batch `real` `[n, nc, s, s]` in
/// [−1, 1] and the latents `z` (`n_z` rows), written in pytorch/examples' state-dict layout:
/// `out_dir/grads_d.safetensors` = ∂/∂θ_D [BCE(D(x), 1) + BCE(D(G(z)), 0)],
/// `out_dir/grads_g.safetensors` = ∂/∂θ_G BCE(D(G(z)), 1), keys `main.N.weight` / `main.N.bias`;
/// and `out_dir/losses.json` with the three losses (`err_d_real`, `err_d_fake`, `err_g`).
pub fn torch_gradients(
    ckpt: &Checkpoint,
    real: &HostTensor,
    z: &[f32],
    n_z: usize,
    device: &Device,
    out_dir: &Path,
) -> Result<GradientFiles> {
    require_torch_layout(ckpt, "dcgan grads")?;
    let m = ckpt.model();
    let device = device.clone().autodiff();
    let g = ckpt.generator(&device)?;
    let d = ckpt.discriminator(&device)?;
    let x: Tensor<4> = real.to_tensor(&device);
    let z: Tensor<2> = Tensor::from_data(TensorData::new(z.to_vec(), [n_z, m.latent_dim]), &device);
    let (grads_d, grads_g, stats) = gradients(&g, &d, x, z);
    let k = m.upsamplings();
    let (td, _) = to_torch(Net::Discriminator, k, &named_grads(&d, &grads_d), 0);
    let (tg, _) = to_torch(Net::Generator, k, &named_grads(&g, &grads_g), 0);
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
    for (name, tensors, objective) in [
        (
            "grads_d.safetensors",
            &td,
            "d/d theta_D [BCE(D(x), 1) + BCE(D(G(z)), 0)]",
        ),
        ("grads_g.safetensors", &tg, "d/d theta_G BCE(D(G(z)), 1)"),
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
