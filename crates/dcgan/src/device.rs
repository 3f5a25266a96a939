//! The compute device. burn 0.22 has no backend generic: tensors live on a [`Device`] chosen at
//! run time. Flex (pure Rust, CPU) is always compiled in; `cuda` and `wgpu` are cargo features.

pub use burn::tensor::Device;

use crate::{Error, Result};

/// The device named `name` (`flex`, `cpu`, `cuda`, `cuda:N`, `wgpu`), checked to work: a GPU
/// device runs one small operation first, so a missing driver or adapter is an error here.
pub fn by_name(name: &str) -> Result<Device> {
    let device = named(name)?;
    if !matches!(name, "flex" | "cpu") {
        probe(name, &device)?;
    }
    Ok(device)
}

fn named(name: &str) -> Result<Device> {
    match name {
        "flex" | "cpu" => Ok(Device::flex()),
        #[cfg(feature = "cuda")]
        n if n == "cuda" || n.starts_with("cuda:") => {
            let index = n
                .strip_prefix("cuda:")
                .map(|i| i.parse::<usize>())
                .transpose()
                .map_err(|_| Error::config("device", n, "expected cuda or cuda:N"))?
                .unwrap_or(0);
            Ok(Device::cuda(index))
        }
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        other => Err(Error::config("device", other, not_built(other))),
    }
}

/// Why `name` is not a device of this build: a GPU device whose cargo feature was left out
/// (and the build command that adds it), or a name that is no device at all.
fn not_built(name: &str) -> String {
    let built = available().join(", ");
    let feature = match name {
        "wgpu" => Some("wgpu"),
        n if n == "cuda" || n.starts_with("cuda:") => Some("cuda"),
        _ => None,
    };
    match feature {
        Some(f) => format!(
            "this build has no {f} support (devices built in: {built}); \
             build with `cargo build --release -p dcgan-cli --features {f}`"
        ),
        None => format!("unknown device (expected flex, cuda, cuda:N or wgpu; built in: {built})"),
    }
}

/// Run one small operation on `device`. burn's GPU runtimes panic on their first use when the
/// driver or adapter is missing (cubecl-wgpu finds no adapter, cudarc cannot load libcuda),
/// sometimes on a runtime thread of their own, leaving this thread with a closed channel. The
/// panics are caught here, their messages kept out of the terminal, and the first one becomes
/// part of an error naming the device. Every later operation reuses the runtime started here.
fn probe(name: &str, device: &Device) -> Result<()> {
    use std::panic::{AssertUnwindSafe, catch_unwind, set_hook, take_hook};
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let previous = take_hook();
    let record = first.clone();
    set_hook(Box::new(move |info| {
        let mut first = record.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(info.payload_as_str().unwrap_or("a panic").to_string());
        }
    }));
    let result = catch_unwind(AssertUnwindSafe(|| {
        burn::tensor::Tensor::<1>::ones([4], device)
            .sum()
            .into_scalar::<f32>()
    }));
    set_hook(previous);
    let why = match result {
        Ok(4.0) => return Ok(()),
        Ok(v) => format!("it summed four ones to {v}"),
        Err(_) => {
            let first = first.lock().unwrap_or_else(|e| e.into_inner()).take();
            let first = first.unwrap_or_else(|| "its runtime failed to start".into());
            first.lines().next().unwrap_or("").trim().to_string()
        }
    };
    let hint = if name == "wgpu" {
        "wgpu needs a Vulkan, Metal or DX12 driver (Linux without a GPU: Mesa's lavapipe, \
         Debian package mesa-vulkan-drivers); CUBECL_WGPU_DEFAULT_DEVICE picks the adapter"
    } else {
        "CUDA needs an NVIDIA GPU and its driver (libcuda)"
    };
    Err(Error::config(
        "device",
        name,
        format!(
            "no usable {name} device here ({why}); devices built in: {}; {hint}",
            available().join(", ")
        ),
    ))
}

/// Names of the devices compiled into this build.
pub fn available() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut v = vec!["flex"];
    #[cfg(feature = "cuda")]
    v.push("cuda");
    #[cfg(feature = "wgpu")]
    v.push("wgpu");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_not_built_in_names_the_build_that_has_it() {
        assert!(by_name("flex").is_ok());
        assert!(by_name("cpu").is_ok());
        let msg = |name: &str| by_name(name).unwrap_err().to_string();
        #[cfg(not(feature = "cuda"))]
        assert_eq!(
            msg("cuda:1"),
            format!(
                "invalid device cuda:1: this build has no cuda support (devices built in: {}); \
                 build with `cargo build --release -p dcgan-cli --features cuda`",
                available().join(", ")
            )
        );
        #[cfg(not(feature = "wgpu"))]
        assert!(msg("wgpu").contains("--features wgpu"), "{}", msg("wgpu"));
        assert_eq!(
            msg("tpu"),
            format!(
                "invalid device tpu: unknown device (expected flex, cuda, cuda:N or wgpu; built in: {})",
                available().join(", ")
            )
        );
    }
}
