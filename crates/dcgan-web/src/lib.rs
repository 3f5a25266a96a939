//! A trained DCGAN generator for the browser: the page `dcgan export-web` writes loads this
//! crate as WebAssembly (`bash scripts/build-web.sh`) and draws with it.
//!
//! Why G is written again here instead of using `dcgan::model::Generator`: the `dcgan` library
//! does not build for `wasm32-unknown-unknown` (its data, FID and interop parts pull in C code:
//! mozjpeg, LMDB, TLS), and its CPU kernels need threads. G in inference mode is four burn
//! operations (transposed convolution, the affine BatchNorm of running statistics, ReLU, tanh),
//! so this crate runs them on burn's Flex backend, without rayon. `tests/parity.rs` checks it
//! against `dcgan::model::inference::generate` on the same checkpoint.
//!
//! The files it reads are `model.json` ([`WebModel`]) and a safetensors file of G's tensors
//! under `dcgan`'s own names (`project_conv.weight`, `blocks.0.norm.gamma`, …), in float32 or
//! float16.

use std::collections::HashMap;

use burn::tensor::ops::ConvTransposeOptions;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// `model.json`: what the page and this crate need to rebuild G.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WebModel {
    /// Always [`FORMAT`].
    pub format: String,
    pub latent_dim: usize,
    pub channels: usize,
    pub image_size: usize,
    /// 4 (pytorch/examples layout) or 5 (the authors' Theano layout).
    pub kernel_size: usize,
    pub generator_width: usize,
    pub batch_norm_eps: f64,
    /// The weights' file beside `model.json`.
    pub weights: String,
    /// `f32` or `f16`: how the weights are stored (G always computes in float32).
    pub precision: String,
    /// The checkpoint's training step, shown on the page.
    pub step: u64,
}

pub const FORMAT: &str = "dcgan-web 1";

impl WebModel {
    /// The sizes G can be built from: what `dcgan`'s own `ModelConfig::validate` accepts, so a
    /// hand-edited `model.json` gets a message instead of an arithmetic overflow.
    pub fn check(&self) -> Result<(), String> {
        let s = self.image_size;
        if !(16..=1024).contains(&s) || !s.is_multiple_of(4) || !(s / 4).is_power_of_two() {
            return Err(format!(
                "model.json: image_size {s} is not 4·2^k between 16 and 1024"
            ));
        }
        if self.kernel_size != 4 && self.kernel_size != 5 {
            return Err(format!(
                "model.json: kernel_size {} is neither 4 nor 5",
                self.kernel_size
            ));
        }
        if self.channels != 1 && self.channels != 3 {
            return Err(format!(
                "model.json: channels {} is neither 1 nor 3",
                self.channels
            ));
        }
        if self.latent_dim == 0 || self.generator_width == 0 {
            return Err("model.json: latent_dim and generator_width must be positive".into());
        }
        Ok(())
    }
}

/// Folded BatchNorm of running statistics: `y = x·scale + shift`, per channel.
struct Affine {
    scale: Tensor<1>,
    shift: Tensor<1>,
}

enum Projection {
    /// z as a 1×1 map through a 4×4 transposed convolution, `[nz, C, 4, 4]`.
    Conv(Tensor<4>),
    /// A dense layer `[nz, C·16]`.
    Dense(Tensor<2>),
}

/// G in inference mode (BatchNorm with running statistics).
pub struct Generator {
    model: WebModel,
    projection: Projection,
    projection_norm: Affine,
    blocks: Vec<(Tensor<4>, Affine)>,
    output: Tensor<4>,
    device: Device,
}

type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Read a safetensors file's float32 or float16 tensors as float32.
fn read_tensors(bytes: &[u8]) -> Result<Tensors, String> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| format!("the weights are not a safetensors file: {e}"))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            safetensors::Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => return Err(format!("{name}: dtype {other:?}, expected F32 or F16")),
        };
        out.insert(name.to_string(), (view.shape().to_vec(), values));
    }
    Ok(out)
}

impl Generator {
    /// G from `model.json`'s contents and the weights file's bytes.
    pub fn new(model_json: &str, weights: &[u8]) -> Result<Self, String> {
        let model: WebModel =
            serde_json::from_str(model_json).map_err(|e| format!("model.json: {e}"))?;
        if model.format != FORMAT {
            return Err(format!(
                "model.json: format {:?}, expected {FORMAT:?}",
                model.format
            ));
        }
        model.check()?;
        let mut t = read_tensors(weights)?;
        let device = Device::flex();
        let mut take = |name: &str, dims: usize| -> Result<(Vec<usize>, Vec<f32>), String> {
            let (shape, v) = t
                .remove(name)
                .ok_or_else(|| format!("the weights lack {name}"))?;
            if shape.len() != dims {
                return Err(format!(
                    "{name}: shape {shape:?}, expected {dims} dimensions"
                ));
            }
            Ok((shape, v))
        };
        let t1 = |(s, v): (Vec<usize>, Vec<f32>)| -> Tensor<1> {
            Tensor::from_data(TensorData::new(v, s), &device)
        };
        let t4 = |(s, v): (Vec<usize>, Vec<f32>)| -> Tensor<4> {
            Tensor::from_data(TensorData::new(v, s), &device)
        };
        let eps = model.batch_norm_eps;
        let mut affine = |prefix: &str| -> Result<Affine, String> {
            let gamma = t1(take(&format!("{prefix}.gamma"), 1)?);
            let beta = t1(take(&format!("{prefix}.beta"), 1)?);
            let mean = t1(take(&format!("{prefix}.running_mean"), 1)?);
            let var = t1(take(&format!("{prefix}.running_var"), 1)?);
            let scale = gamma.div(var.add_scalar(eps).sqrt());
            let shift = beta.sub(mean.mul(scale.clone()));
            Ok(Affine { scale, shift })
        };
        let projection_norm = affine("project_norm")?;
        let blocks_n = (model.image_size / 4).trailing_zeros() as usize - 1;
        let mut blocks = Vec::with_capacity(blocks_n);
        for i in 0..blocks_n {
            let norm = affine(&format!("blocks.{i}.norm"))?;
            blocks.push((format!("blocks.{i}.conv.weight"), norm));
        }
        let projection = if model.kernel_size == 4 {
            Projection::Conv(t4(take("project_conv.weight", 4)?))
        } else {
            let (s, v) = take("project_dense.weight", 2)?;
            Projection::Dense(Tensor::from_data(TensorData::new(v, s), &device))
        };
        let blocks = blocks
            .into_iter()
            .map(|(name, norm)| Ok((t4(take(&name, 4)?), norm)))
            .collect::<Result<Vec<_>, String>>()?;
        let output = t4(take("output.weight", 4)?);
        Ok(Self {
            model,
            projection,
            projection_norm,
            blocks,
            output,
            device,
        })
    }

    pub fn model(&self) -> &WebModel {
        &self.model
    }

    /// G's images of `n` latents (`[n, nz]` row-major), `[n, nc, size, size]` in [−1, 1].
    pub fn generate(&self, z: &[f32], n: usize) -> Result<Vec<f32>, String> {
        let nz = self.model.latent_dim;
        if n == 0 || z.len() != n * nz {
            return Err(format!(
                "{} latent values for {n} images of latent size {nz}",
                z.len()
            ));
        }
        let z = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [n, nz]), &self.device);
        let (kernel_pad, out_pad) = if self.model.kernel_size == 4 {
            (1, 0)
        } else {
            (2, 1)
        };
        let up = |x: Tensor<4>, w: &Tensor<4>, stride: usize, pad: usize, out_pad: usize| {
            burn::tensor::module::conv_transpose2d(
                x,
                w.clone(),
                None,
                ConvTransposeOptions::new([stride; 2], [pad; 2], [out_pad; 2], [1, 1], 1),
            )
        };
        let mut x = match &self.projection {
            Projection::Conv(w) => {
                let x = up(z.reshape([n, nz, 1, 1]), w, 1, 0, 0);
                relu_affine(x, &self.projection_norm)
            }
            Projection::Dense(w) => {
                let h = z.matmul(w.clone());
                let [_, features] = h.dims();
                let h = h
                    .mul(self.projection_norm.scale.clone().reshape([1, features]))
                    .add(self.projection_norm.shift.clone().reshape([1, features]))
                    .clamp_min(0.0);
                h.reshape([n, features / 16, 4, 4])
            }
        };
        for (w, norm) in &self.blocks {
            x = relu_affine(up(x, w, 2, kernel_pad, out_pad), norm);
        }
        let y = up(x, &self.output, 2, kernel_pad, out_pad).tanh();
        y.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| format!("reading G's output: {e:?}"))
    }
}

/// `max(0, x·scale + shift)` per channel of `[n, c, h, w]`.
fn relu_affine(x: Tensor<4>, a: &Affine) -> Tensor<4> {
    let [_, c, _, _] = x.dims();
    x.mul(a.scale.clone().reshape([1, c, 1, 1]))
        .add(a.shift.clone().reshape([1, c, 1, 1]))
        .clamp_min(0.0)
}

/// The generator as JavaScript sees it (`new WebGenerator(modelJson, weightsBytes)`).
#[wasm_bindgen]
pub struct WebGenerator(Generator);

#[wasm_bindgen]
impl WebGenerator {
    #[wasm_bindgen(constructor)]
    pub fn new(model_json: &str, weights: &[u8]) -> Result<WebGenerator, JsError> {
        Generator::new(model_json, weights)
            .map(WebGenerator)
            .map_err(|e| JsError::new(&e))
    }

    /// Latent size.
    pub fn nz(&self) -> usize {
        self.0.model.latent_dim
    }

    /// Image channels (1 grey, 3 RGB).
    pub fn nc(&self) -> usize {
        self.0.model.channels
    }

    /// Image side in pixels.
    pub fn size(&self) -> usize {
        self.0.model.image_size
    }

    /// The checkpoint's training step.
    pub fn step(&self) -> u64 {
        self.0.model.step
    }

    /// `n` images of the latents `z` (`n·nz` values), `n·nc·size·size` values in [−1, 1].
    pub fn generate(&self, z: &[f32], n: usize) -> Result<Vec<f32>, JsError> {
        self.0.generate(z, n).map_err(|e| JsError::new(&e))
    }
}
