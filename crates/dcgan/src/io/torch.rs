//! Key mapping between this project's parameter names and pytorch/examples' DCGAN state dicts
//! (`main.N.*`, `nn.Sequential` indices), for the kernel-4 layout. Weight layouts are the same
//! in both (`[out, in, k, k]` for Conv, `[in, out, k, k]` for ConvTranspose), so only names change.

use std::collections::HashMap;
use std::path::Path;

use super::named::TensorMap;
use crate::error::{Error, Result};

/// Which network a state dict belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    Generator,
    Discriminator,
}

/// (our module prefix, torch module prefix, is BatchNorm) for a network with `upsamplings`
/// stride-2 layers (image size 4·2^k).
fn layout(net: Net, upsamplings: usize) -> Vec<(String, String, bool)> {
    let k = upsamplings;
    let mut v = Vec::new();
    match net {
        Net::Generator => {
            v.push(("project_conv".into(), "main.0".into(), false));
            v.push(("project_norm".into(), "main.1".into(), true));
            for i in 0..k - 1 {
                let base = 3 * (i + 1);
                v.push((format!("blocks.{i}.conv"), format!("main.{base}"), false));
                v.push((
                    format!("blocks.{i}.norm"),
                    format!("main.{}", base + 1),
                    true,
                ));
            }
            v.push(("output".into(), format!("main.{}", 3 * k), false));
        }
        Net::Discriminator => {
            v.push(("blocks.0.conv".into(), "main.0".into(), false));
            for i in 1..k {
                v.push((
                    format!("blocks.{i}.conv"),
                    format!("main.{}", 3 * i - 1),
                    false,
                ));
                v.push((format!("blocks.{i}.norm"), format!("main.{}", 3 * i), true));
            }
            v.push(("output_conv".into(), format!("main.{}", 3 * k - 1), false));
        }
    }
    v
}

const NORM_FIELDS: [(&str, &str); 4] = [
    ("gamma", "weight"),
    ("beta", "bias"),
    ("running_mean", "running_mean"),
    ("running_var", "running_var"),
];

/// Our names → PyTorch names. `num_batches_tracked` is written for every BatchNorm with the given
/// count (PyTorch only reads it when momentum is None, which DCGAN does not use).
pub fn to_torch(
    net: Net,
    upsamplings: usize,
    ours: &TensorMap,
    num_batches_tracked: i64,
) -> (TensorMap, HashMap<String, Vec<i64>>) {
    let mut out = TensorMap::new();
    let mut ints = HashMap::new();
    for (our, torch, is_norm) in layout(net, upsamplings) {
        if is_norm {
            for (a, b) in NORM_FIELDS {
                if let Some(t) = ours.get(&format!("{our}.{a}")) {
                    out.insert(format!("{torch}.{b}"), t.clone());
                }
            }
            ints.insert(
                format!("{torch}.num_batches_tracked"),
                vec![num_batches_tracked],
            );
        } else if let Some(t) = ours.get(&format!("{our}.weight")) {
            out.insert(format!("{torch}.weight"), t.clone());
        }
    }
    (out, ints)
}

/// PyTorch names → our names. A key the layout does not know is an error naming `path`, since
/// it means the file is another architecture (conv biases, another depth, ...). A `module.`
/// prefix (DataParallel) is accepted.
pub fn from_torch(
    net: Net,
    upsamplings: usize,
    torch: &TensorMap,
    path: &Path,
) -> Result<TensorMap> {
    let mut names = HashMap::new();
    for (our, t, is_norm) in layout(net, upsamplings) {
        if is_norm {
            for (a, b) in NORM_FIELDS {
                names.insert(format!("{t}.{b}"), format!("{our}.{a}"));
            }
        } else {
            names.insert(format!("{t}.weight"), format!("{our}.weight"));
        }
    }
    let mut out = TensorMap::new();
    let mut unknown = Vec::new();
    for (key, tensor) in torch {
        let key_plain = key.strip_prefix("module.").unwrap_or(key);
        match names.get(key_plain) {
            Some(our) => {
                out.insert(our.clone(), tensor.clone());
            }
            None => unknown.push(key.clone()),
        }
    }
    if !unknown.is_empty() {
        let which = match net {
            Net::Generator => "generator",
            Net::Discriminator => "discriminator",
        };
        return Err(Error::mismatch(
            path,
            format!(
                "keys {} are not part of a pytorch/examples DCGAN {which} with {} stride-2 layers (image size {})",
                unknown.join(", "),
                upsamplings,
                4 << upsamplings
            ),
        ));
    }
    Ok(out)
}
