//! A trained DCGAN generator for the browser: the page `dcgan export-web` writes loads this
//! crate as WebAssembly (`bash scripts/build-web.sh`) and draws with it.
//!
//! G is the library's own [`dcgan::model::Generator`], read from `model.json` and the weights
//! file by [`dcgan::web`], the module that wrote them. The library is built without its `host`
//! feature here: no C code, no threads, and burn's own operations on the Flex backend instead
//! of the library's CPU kernels. `web/test/check-page.mjs` checks the page's images against
//! `dcgan generate` on the same latents.

#![warn(missing_docs)]

use burn::tensor::Device;
use dcgan::model::{BnMode, Generator, inference};
use dcgan::web::WebModel;
use wasm_bindgen::prelude::*;

/// G in inference mode (BatchNorm with running statistics), with the `model.json` it came from.
#[wasm_bindgen]
pub struct WebGenerator {
    model: WebModel,
    g: Generator,
    device: Device,
    /// The class a conditional G draws (0 until [`WebGenerator::set_class`]).
    class: std::cell::Cell<usize>,
}

impl WebGenerator {
    /// G from `model.json`'s text and the weights file's bytes. Errors name the file and value.
    pub fn load(model_json: &str, weights: &[u8]) -> dcgan::Result<Self> {
        let model = WebModel::parse(model_json)?;
        let device = Device::flex();
        let g = model.generator(weights, &device)?;
        Ok(Self {
            model,
            g,
            device,
            class: std::cell::Cell::new(0),
        })
    }

    /// The `model.json` G was read from.
    pub fn model(&self) -> &WebModel {
        &self.model
    }

    /// Draw a conditional G's images of class `class` from now on.
    pub fn choose_class(&self, class: usize) -> Result<(), String> {
        let k = self.model.classes.len();
        if class >= k {
            return Err(match k {
                0 => "this generator is not class-conditional".to_string(),
                _ => format!("class {class} is not below {k}"),
            });
        }
        self.class.set(class);
        Ok(())
    }

    /// G's images of `n` latents (`[n, nz]` row-major), `[n, nc, size, size]` in [−1, 1]; a
    /// conditional G's of the chosen class.
    pub fn images(&self, z: &[f32], n: usize) -> Result<Vec<f32>, String> {
        let nz = self.model.latent_dim;
        if n == 0 || z.len() != n * nz {
            return Err(format!(
                "{} latent values for {n} images of latent size {nz}",
                z.len()
            ));
        }
        let labels = vec![self.class.get(); n];
        Ok(inference::generate_labelled(
            &self.g,
            z,
            &labels,
            BnMode::Eval,
            n,
            &self.device,
        ))
    }
}

/// The generator as JavaScript sees it (`new WebGenerator(modelJson, weightsBytes)`).
#[wasm_bindgen]
impl WebGenerator {
    /// Load G from `model.json`'s text and the weights file's bytes; the error says what is
    /// wrong with either.
    #[wasm_bindgen(constructor)]
    pub fn new(model_json: &str, weights: &[u8]) -> Result<WebGenerator, JsError> {
        Self::load(model_json, weights).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Latent size.
    pub fn nz(&self) -> usize {
        self.model.latent_dim
    }

    /// Image channels (1 grey, 3 RGB).
    pub fn nc(&self) -> usize {
        self.model.channels
    }

    /// Image side in pixels.
    pub fn size(&self) -> usize {
        self.model.image_size
    }

    /// The checkpoint's training step.
    pub fn step(&self) -> u64 {
        self.model.step
    }

    /// A class-conditional G's class names (empty for the paper's unconditional G).
    pub fn classes(&self) -> Vec<String> {
        self.model.classes.clone()
    }

    /// Draw images of class `class` (0 to K−1) from now on.
    #[wasm_bindgen(js_name = setClass)]
    pub fn set_class(&self, class: usize) -> Result<(), JsError> {
        self.choose_class(class).map_err(|e| JsError::new(&e))
    }

    /// `n` images of the latents `z` (`n·nz` values), `n·nc·size·size` values in [−1, 1].
    pub fn generate(&self, z: &[f32], n: usize) -> Result<Vec<f32>, JsError> {
        self.images(z, n).map_err(|e| JsError::new(&e))
    }
}
