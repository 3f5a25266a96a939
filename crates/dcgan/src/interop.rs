//! PyTorch interop: pytorch/examples DCGAN state dicts (saved as safetensors) in and out.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;

use crate::checkpoint::Checkpoint;
use crate::checkpoint::{self, TrainState};
use crate::config::{DataConfig, ModelConfig, OptimConfig, RunConfig, TrainConfig};
use crate::error::{Error, IoContext, Result};
use crate::io::torch::{Net, from_torch, to_torch};
use crate::io::{atomic_write, load_named, named_tensors, safetensors_file};
use crate::model::{Discriminator, Generator};

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
    let config = RunConfig {
        model: model.clone(),
        optim: OptimConfig::default(),
        data: DataConfig::default(),
        train: TrainConfig::default(),
        device: "flex".into(),
    };
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
    if m.kernel_size != 4 {
        return Err(Error::mismatch(
            &ckpt.path,
            "PyTorch export writes the pytorch/examples layout (kernel 4); this model uses kernel 5",
        ));
    }
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
