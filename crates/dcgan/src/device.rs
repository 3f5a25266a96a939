//! The compute device. burn 0.22 has no backend generic: tensors live on a [`Device`] chosen at
//! run time. Flex (pure Rust, CPU) is always compiled in; `cuda` and `wgpu` are cargo features.

pub use burn::tensor::Device;

use crate::{Error, Result};

/// The device named `name` (`flex`, `cpu`, `cuda`, `cuda:N`, `wgpu`).
pub fn by_name(name: &str) -> Result<Device> {
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
        other => Err(Error::config(
            "device",
            other,
            format!(
                "not available in this build (available: {})",
                available().join(", ")
            ),
        )),
    }
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
