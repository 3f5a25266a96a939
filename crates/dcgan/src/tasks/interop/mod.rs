//! PyTorch interop, one file a command: [`import`] (`dcgan import-torch`) and [`export`]
//! (`dcgan export-torch`) move pytorch/examples' DCGAN state dicts (safetensors) in and out;
//! [`export_onnx`] (`dcgan export-onnx`) writes G as an ONNX model; [`export_generator`]
//! (`dcgan export-generator`) writes a checkpoint without D and the optimisers;
//! [`grads`] and [`replay`] compute in the same layout what PyTorch computes, to compare. This
//! module holds what they share.

mod export_generator;
mod export_onnx;
mod export_torch;
mod grads;
mod import_torch;
mod replay;

pub use export_generator::*;
pub use export_onnx::*;
pub use export_torch::*;
pub use grads::*;
pub use import_torch::*;
pub use replay::*;

use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::config::ModelConfig;

/// A checkpoint that holds D as well as G: gradients and replays need both networks.
fn load_with_discriminator(path: &std::path::Path, what: &str) -> Result<Checkpoint> {
    let ckpt = Checkpoint::load(path)?;
    if !ckpt.has_discriminator() {
        return Err(crate::Error::Data(format!(
            "{}: holds no discriminator; {what} need both networks",
            ckpt.path.display()
        )));
    }
    Ok(ckpt)
}

/// Real images from `.npy`: shape (N, channels, size, size) for the checkpoint's model, N ≥ 1,
/// every value finite.
fn read_real(path: &std::path::Path, m: &ModelConfig) -> Result<crate::io::HostTensor> {
    let real = crate::io::npy::read(path)?;
    let want = [m.channels, m.image_size, m.image_size];
    if real.shape.len() != 4 || real.shape[0] == 0 || real.shape[1..] != want {
        return Err(crate::Error::format(
            path,
            format!(
                "has shape {:?}; the checkpoint's model needs (N, {}, {}, {}) with N ≥ 1",
                real.shape, want[0], want[1], want[2]
            ),
        ));
    }
    if let Some(i) = real.data.iter().position(|v| !v.is_finite()) {
        return Err(crate::Error::format(
            path,
            format!("value {} at index {i} is not finite", real.data[i]),
        ));
    }
    Ok(real)
}

/// Write an exported file atomically, creating its folder first.
fn write(out: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use crate::error::IoContext;
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    crate::io::atomic_write(out, bytes)
}
