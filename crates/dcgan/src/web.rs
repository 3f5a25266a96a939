//! The generator as the browser gets it: `model.json` ([`WebModel`]) beside a safetensors file
//! of G's tensors under their own names (`project_conv.weight`, `blocks.0.norm.gamma`, …), in
//! float32 or float16. `dcgan export-web` writes both with this module, and the browser crate
//! (`crates/dcgan-web`, built for wasm32 without the `host` feature) reads them with it and
//! draws with [`crate::model::Generator`] itself.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::io::{load_named, named_tensors, safetensors_file};
use crate::model::Generator;
use crate::{Error, Result};

/// `model.json`'s `format`.
pub const FORMAT: &str = "dcgan-web 1";

/// The name `model.json` gives the weights file.
pub(crate) const WEIGHTS_FILE: &str = "generator.safetensors";

/// How the weights are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Exactly the checkpoint's numbers.
    #[default]
    F32,
    /// Half the download; G still computes in float32 from the rounded weights.
    F16,
}

impl Precision {
    /// `f32` or `f16`, as in `model.json` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }
}

/// `model.json`: what the page needs to rebuild G and show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// Latent dimension (nz).
    pub latent_dim: usize,
    /// Image channels.
    pub channels: usize,
    /// Image side, in pixels.
    pub image_size: usize,
    /// 4 (pytorch/examples layout) or 5 (the authors' Theano layout).
    pub kernel_size: usize,
    /// Width of G's last hidden layer (ngf).
    pub generator_width: usize,
    /// BatchNorm's ε.
    pub batch_norm_eps: f64,
    /// The weights' file beside `model.json`.
    pub weights: String,
    /// How the weights are stored (G always computes in float32).
    pub precision: Precision,
    /// The checkpoint's training step, shown on the page.
    pub step: u64,
    /// A class-conditional G's class names (the page shows a class picker); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl WebModel {
    /// `model.json` for a G of `model` at training step `step`, its weights in `precision`.
    pub fn new(model: &ModelConfig, precision: Precision, step: u64) -> Self {
        Self {
            format: FORMAT.to_string(),
            latent_dim: model.latent_dim,
            channels: model.channels,
            image_size: model.image_size,
            kernel_size: model.kernel_size,
            generator_width: model.generator_width,
            batch_norm_eps: model.batch_norm_eps,
            weights: WEIGHTS_FILE.to_string(),
            precision,
            step,
            classes: model.classes.clone(),
        }
    }

    /// `model.json`'s text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("WebModel serialises")
    }

    /// `model.json` read back: its format and every size checked, so a hand-edited file gets a
    /// message naming the value instead of a network that cannot be built.
    pub fn parse(json: &str) -> Result<Self> {
        let path = Path::new("model.json");
        let model: WebModel =
            serde_json::from_str(json).map_err(|e| Error::format(path, e.to_string()))?;
        if model.format != FORMAT {
            return Err(Error::format(
                path,
                format!("format {:?}, expected {FORMAT:?}", model.format),
            ));
        }
        if !(model.batch_norm_eps > 0.0 && model.batch_norm_eps.is_finite()) {
            return Err(Error::format(
                path,
                format!("batch_norm_eps {} is not positive", model.batch_norm_eps),
            ));
        }
        model
            .model_config()
            .validate()
            .map_err(|e| Error::format(path, e.to_string()))?;
        Ok(model)
    }

    /// The model configuration G is built from (D's settings at their defaults: the page has
    /// no D).
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            image_size: self.image_size,
            channels: self.channels,
            latent_dim: self.latent_dim,
            generator_width: self.generator_width,
            kernel_size: self.kernel_size,
            batch_norm_eps: self.batch_norm_eps,
            classes: self.classes.clone(),
            ..ModelConfig::default()
        }
    }

    /// G of this model with the weights file's tensors (`bytes`), on `device`.
    pub fn generator(&self, weights: &[u8], device: &Device) -> Result<Generator> {
        let path = Path::new(&self.weights);
        let content = safetensors_file::parse(weights, path)?;
        let g = Generator::new(&self.model_config(), 0, device);
        load_named(g, &content.tensors, path)
    }
}

/// G's tensors under their own names, as a safetensors file in `precision`.
pub fn generator_weights(g: &Generator, precision: Precision) -> Vec<u8> {
    let encoded: Vec<(String, Vec<usize>, Vec<u8>)> = named_tensors(g)
        .into_iter()
        .map(|(name, t)| {
            let bytes = match precision {
                Precision::F32 => t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Precision::F16 => t
                    .data
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect(),
            };
            (name, t.shape, bytes)
        })
        .collect();
    let dtype = match precision {
        Precision::F32 => Dtype::F32,
        Precision::F16 => Dtype::F16,
    };
    let views = encoded.iter().map(|(name, shape, bytes)| {
        (
            name.as_str(),
            TensorView::new(dtype, shape.clone(), bytes).expect("sized to its shape"),
        )
    });
    safetensors::serialize(views, Some(HashMap::new())).expect("float tensors serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> WebModel {
        let cfg = ModelConfig {
            image_size: 16,
            channels: 1,
            latent_dim: 8,
            generator_width: 4,
            ..ModelConfig::default()
        };
        WebModel::new(&cfg, Precision::F16, 42)
    }

    #[test]
    fn model_json_reads_back_as_written() {
        let m = model();
        let json = m.to_json();
        assert!(json.contains("\"precision\": \"f16\""), "{json}");
        assert!(json.contains("\"format\": \"dcgan-web 1\""), "{json}");
        assert_eq!(WebModel::parse(&json).unwrap(), m);
    }

    #[test]
    fn bad_model_json_names_the_value() {
        let edit = |from: &str, to: &str| {
            let json = model().to_json().replace(from, to);
            WebModel::parse(&json).unwrap_err().to_string()
        };
        assert_eq!(
            edit("\"image_size\": 16", "\"image_size\": 7"),
            "model.json: invalid image size 7: must be 4·2^k with k ≥ 2 (16, 32, 64, 128, ...)"
        );
        assert_eq!(
            edit("dcgan-web 1", "dcgan-web 9"),
            "model.json: format \"dcgan-web 9\", expected \"dcgan-web 1\""
        );
        assert!(
            edit("\"kernel_size\": 4", "\"kernel_size\": 3")
                .starts_with("model.json: invalid kernel size 3"),
        );
        assert!(
            edit("\"step\": 42", "\"step\": -1")
                .starts_with("model.json: invalid value: integer `-1`")
        );
    }

    #[test]
    fn weights_load_into_the_same_generator() {
        let m = model();
        let device = Device::flex();
        let g = Generator::new(&m.model_config(), 7, &device);
        let f32_bytes = generator_weights(&g, Precision::F32);
        let back = m.generator(&f32_bytes, &device).unwrap();
        assert_eq!(named_tensors(&back), named_tensors(&g));
        // float16: every value rounded to the nearest half, within half a unit in the last place.
        let half = m
            .generator(&generator_weights(&g, Precision::F16), &device)
            .unwrap();
        for ((name, a), (_, b)) in named_tensors(&g).iter().zip(named_tensors(&half).iter()) {
            for (x, y) in a.data.iter().zip(&b.data) {
                assert!(
                    (x - y).abs() <= x.abs() * 2f32.powi(-11) + 6e-8,
                    "{name}: {x} vs {y}"
                );
            }
        }
        let err = m
            .generator(b"not safetensors", &device)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("generator.safetensors: not a readable safetensors file"),
            "{err}"
        );
    }
}
