//! `dcgan export-web`: a static site that runs a checkpoint's generator in the browser.
//!
//! ```text
//! OUT/index.html, OUT/app.js         the page (from the web bundle)
//! OUT/dcgan_web.js, dcgan_web_bg.wasm G in WebAssembly (crates/dcgan-web, built by
//!                                     scripts/build-web.sh)
//! OUT/model.json                      the architecture (crate::web::WebModel)
//! OUT/generator.safetensors           G's tensors, float32 or float16
//! ```

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Events;
use crate::checkpoint::Checkpoint;
use crate::error::IoContext;
use crate::web::{Precision, WebModel, generator_weights};
use crate::{Error, Result};

/// The files of the web bundle that `scripts/build-web.sh` writes and every export copies.
pub const BUNDLE_FILES: [&str; 4] = ["index.html", "app.js", "dcgan_web.js", "dcgan_web_bg.wasm"];

#[derive(Clone, Debug)]
/// `export-web`: a static site that draws G's samples in the browser.
pub struct ExportWebConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// The site's folder: new, or empty, or anything with `force`.
    pub out: PathBuf,
    /// float32 or float16 weights.
    pub precision: Precision,
    /// Write into a folder that already holds files (the site's own files are replaced).
    pub force: bool,
    /// The web bundle's folder (the front end resolves where it is).
    pub bundle: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
/// What `export-web` wrote.
pub struct ExportWebReport {
    /// The site's folder.
    pub out: PathBuf,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// How the weights are stored.
    pub precision: Precision,
    /// Bytes of the weights file and of the WebAssembly module.
    pub weights_bytes: u64,
    /// Bytes of the WebAssembly module.
    pub wasm_bytes: u64,
}

/// Write the site: the page, the WebAssembly bundle, `model.json` and G's weights.
pub fn export_web(c: ExportWebConfig, events: &mut dyn Events) -> Result<ExportWebReport> {
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    for f in BUNDLE_FILES {
        if !c.bundle.join(f).is_file() {
            return Err(Error::format(
                &c.bundle,
                format!(
                    "the web bundle is not built (no {f}): run `bash scripts/build-web.sh` first"
                ),
            ));
        }
    }
    if c.out.exists() {
        if !c.out.is_dir() {
            return Err(Error::format(&c.out, "exists and is not a folder"));
        }
        let occupied = std::fs::read_dir(&c.out).at(&c.out)?.next().is_some();
        if occupied && !c.force {
            return Err(Error::format(
                &c.out,
                "exists and is not empty (choose another --out, or --force to write into it)",
            ));
        }
    }
    std::fs::create_dir_all(&c.out).at(&c.out)?;
    let mut written = Vec::new();
    for f in BUNDLE_FILES {
        let to = c.out.join(f);
        let bytes = std::fs::read(c.bundle.join(f)).at(c.bundle.join(f))?;
        crate::io::atomic_write(&to, &bytes)?;
        written.push(to);
    }
    let model = web_model(&ckpt, c.precision);
    let weights = c.out.join(&model.weights);
    let bytes = checkpoint_weights(&ckpt, c.precision)?;
    crate::io::atomic_write(&weights, &bytes)?;
    written.push(weights);
    let json = c.out.join("model.json");
    crate::io::atomic_write(&json, model.to_json().as_bytes())?;
    written.push(json);
    events.info(format!(
        "exported step {} of {} ({}) to {}",
        ckpt.state.step,
        ckpt.path.display(),
        c.precision.name(),
        c.out.display()
    ));
    Ok(ExportWebReport {
        out: c.out.clone(),
        written,
        precision: c.precision,
        weights_bytes: bytes.len() as u64,
        wasm_bytes: std::fs::metadata(c.out.join("dcgan_web_bg.wasm"))
            .at(c.out.join("dcgan_web_bg.wasm"))?
            .len(),
    })
}

/// `model.json` for `ckpt`.
pub fn web_model(ckpt: &Checkpoint, precision: Precision) -> WebModel {
    WebModel::new(&ckpt.config.model, precision, ckpt.state.step)
}

/// G's tensors of `ckpt` under their own names, as a safetensors file in `precision`.
pub fn checkpoint_weights(ckpt: &Checkpoint, precision: Precision) -> Result<Vec<u8>> {
    let g = ckpt.generator(&burn::tensor::Device::flex())?;
    Ok(generator_weights(&g, precision))
}

/// The bundle's folder when none is given: `DCGAN_WEB_BUNDLE`; else `web/` beside the target
/// folder the binary runs from (`target/release/dcgan` → `target/web`), if it holds a bundle;
/// else `target/web` under the current folder (a binary installed with `cargo install`, run
/// from the repository); else the first of these, for the error message.
pub fn default_bundle(exe: Option<&Path>, env: Option<PathBuf>) -> PathBuf {
    if let Some(p) = env {
        return p;
    }
    let beside = exe.and_then(|e| Some(e.parent()?.parent()?.join("web")));
    let here = PathBuf::from("target/web");
    let built = |p: &Path| BUNDLE_FILES.iter().all(|f| p.join(f).is_file());
    match beside {
        Some(b) if built(&b) || !built(&here) => b,
        _ => here,
    }
}
