//! Key mapping between this project's parameter names and pytorch/examples' DCGAN state dicts
//! (`main.N.*`, `nn.Sequential` indices), for the kernel-4 layout, derived from the model's layer
//! plan ([`ModelConfig::generator_plan`]). Weight layouts are the same
//! in both (`[out, in, k, k]` for Conv, `[in, out, k, k]` for ConvTranspose), so only names change.

use std::collections::HashMap;
use std::path::Path;

use super::named::TensorMap;
use crate::config::ModelConfig;
use crate::error::{Error, Result};

/// Which network a state dict belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// G (`netG`).
    Generator,
    /// D (`netD`).
    Discriminator,
}

/// (our module prefix, torch module prefix, is BatchNorm) of every module with tensors, read off
/// the model's layer plan: pytorch/examples' `nn.Sequential` numbers each layer, its BatchNorm
/// and its activation in turn (`main.0` the first convolution, `main.1` its BatchNorm, `main.2`
/// its ReLU, `main.3` the next convolution, ...).
fn layout(net: Net, model: &ModelConfig) -> Vec<(String, String, bool)> {
    let plan = match net {
        Net::Generator => model.generator_plan(),
        Net::Discriminator => model.discriminator_plan(),
    };
    let mut index = 0;
    let mut v = Vec::new();
    for layer in plan {
        v.push((layer.name, format!("main.{index}"), false));
        index += 1;
        if let Some((norm, _)) = layer.norm {
            v.push((norm, format!("main.{index}"), true));
            index += 1;
        }
        // The activation (ReLU, LeakyReLU, Tanh, or Sigmoid after D's logit) holds no tensor.
        index += 1;
    }
    v
}

/// A conditional D's class embedding: our name, and the name of an `nn.Embedding` called
/// `embed` beside `main` in a PyTorch module (as `scripts/make_conditional_goldens.py` builds it).
const EMBEDDING: (&str, &str) = ("embedding", "embed.weight");

const NORM_FIELDS: [(&str, &str); 4] = [
    ("gamma", "weight"),
    ("beta", "bias"),
    ("running_mean", "running_mean"),
    ("running_var", "running_var"),
];

/// Our names → PyTorch names. `num_batches_tracked` is written for every BatchNorm with the given
/// count (PyTorch only reads it when momentum is None, which DCGAN does not use).
pub(crate) fn to_torch(
    net: Net,
    model: &ModelConfig,
    ours: &TensorMap,
    num_batches_tracked: i64,
) -> (TensorMap, HashMap<String, Vec<i64>>) {
    let mut out = TensorMap::new();
    let mut ints = HashMap::new();
    for (our, torch, is_norm) in layout(net, model) {
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
    if let Some(t) = ours.get(EMBEDDING.0).filter(|_| net == Net::Discriminator) {
        out.insert(EMBEDDING.1.to_string(), t.clone());
    }
    (out, ints)
}

/// PyTorch names → our names. A key the layout does not know is an error naming `path`, since
/// it means the file is another architecture (conv biases, another depth, ...). A `module.`
/// prefix (DataParallel) is accepted.
pub fn from_torch(
    net: Net,
    model: &ModelConfig,
    torch: &TensorMap,
    path: &Path,
) -> Result<TensorMap> {
    let mut names = HashMap::new();
    for (our, t, is_norm) in layout(net, model) {
        if is_norm {
            for (a, b) in NORM_FIELDS {
                names.insert(format!("{t}.{b}"), format!("{our}.{a}"));
            }
        } else {
            names.insert(format!("{t}.weight"), format!("{our}.weight"));
        }
    }
    if net == Net::Discriminator && model.class_count() > 0 {
        names.insert(EMBEDDING.1.to_string(), EMBEDDING.0.to_string());
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
                model.upsamplings(),
                model.image_size
            ),
        ));
    }
    Ok(out)
}
