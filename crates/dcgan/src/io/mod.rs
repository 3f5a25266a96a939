//! Files: named tensors in safetensors, PyTorch state dicts, `.npy` latents, atomic writes.

pub mod atomic;
pub mod named;
pub mod npy;
pub mod safetensors_file;
pub mod torch;
pub mod torchscript;

pub use atomic::atomic_write;
pub use named::{HostTensor, TensorMap, load_named, named_grads, named_tensors};

/// Lower-case hex of `bytes`: digests as they appear in file names, checkpoints and reports.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
