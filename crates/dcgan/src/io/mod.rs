//! Files: named tensors in safetensors, PyTorch state dicts, `.npy` latents, ONNX models,
//! TensorBoard event files, atomic writes.

#[cfg(feature = "host")]
pub mod atomic;
pub mod named;
#[cfg(feature = "host")]
pub mod npy;
#[cfg(feature = "host")]
pub mod onnx;
pub mod safetensors_file;
#[cfg(feature = "host")]
pub mod tensorboard;
#[cfg(feature = "host")]
pub mod torch;
#[cfg(feature = "host")]
pub mod torchscript;

#[cfg(feature = "host")]
pub use atomic::atomic_write;
#[cfg(feature = "host")]
pub use named::named_grads;
pub use named::{HostTensor, TensorMap, load_named, named_tensors};

/// Lower-case hex of `bytes`: digests as they appear in file names, checkpoints and reports.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
