//! The browser crate's generator, natively, against the checkpoint it was exported from: the
//! files `dcgan export-web` writes (model.json and the weights in f32 and f16), read back by
//! `dcgan_web::WebGenerator`, the same latents, BatchNorm in inference mode. (The WebAssembly
//! build itself is checked in Chromium against `dcgan generate`: `web/test/check-page.mjs`.)

use std::path::PathBuf;

use dcgan::checkpoint::Checkpoint;
use dcgan::config::ModelConfig;
use dcgan::model::BnMode;
use dcgan::tasks::web::{checkpoint_weights, web_model};
use dcgan::web::Precision;
use dcgan_web::WebGenerator;

/// The library's test helpers: the shared folder and the counted skips.
#[path = "../../dcgan/tests/common.rs"]
mod common;

/// The PyTorch golden generators with trained running statistics: the small one in this
/// repository always, the full-size one of shared/golden when present (`DCGAN_SHARED`; under CI
/// its absence fails).
fn goldens() -> Vec<(PathBuf, ModelConfig)> {
    let small = ModelConfig {
        image_size: 32,
        latent_dim: 16,
        generator_width: 8,
        discriminator_width: 8,
        ..ModelConfig::default()
    };
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![(here.join("../dcgan/tests/golden/dcgan32-rgb"), small)];
    match common::shared_dir() {
        Some(shared) => out.push((shared.join("golden/dcgan64-rgb"), ModelConfig::default())),
        None => common::skip("web parity", "the full-size golden G (shared/golden)"),
    }
    out
}

fn latents(n: usize, nz: usize) -> Vec<f32> {
    (0..n * nz)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 1.5)
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Checkpoints with trained running statistics (the PyTorch golden Gs, kernel 4), and a fresh
/// kernel-5 G (its running statistics are 0 and 1).
fn checkpoints(dir: &std::path::Path) -> Vec<Checkpoint> {
    let mut out = Vec::new();
    for (i, (golden, config)) in goldens().into_iter().enumerate() {
        let path = dir.join(format!("golden-{i}.safetensors"));
        dcgan::interop::import_torch(&config, &golden.join("netG.safetensors"), None, &path)
            .unwrap();
        out.push(Checkpoint::load(&path).unwrap());
    }
    let cfg = ModelConfig {
        image_size: 32,
        kernel_size: 5,
        latent_dim: 20,
        generator_width: 16,
        discriminator_width: 16,
        channels: 1,
        ..ModelConfig::default()
    };
    let path = dir.join("k5.safetensors");
    let config = dcgan::config::RunConfig::with_model(cfg.clone());
    let g = dcgan::model::Generator::new(&cfg, 3, &burn::tensor::Device::flex());
    let bytes = dcgan::checkpoint::encode(&config, &Default::default(), &g, None, None);
    std::fs::write(&path, bytes).unwrap();
    out.push(Checkpoint::load(&path).unwrap());
    out
}

#[test]
fn the_web_generator_draws_what_dcgan_draws() {
    let tmp = tempfile::tempdir().unwrap();
    for ckpt in checkpoints(tmp.path()) {
        let m = &ckpt.config.model;
        let n = 5;
        let z = latents(n, m.latent_dim);
        let device = burn::tensor::Device::flex();
        let want = dcgan::model::inference::generate(
            &ckpt.generator(&device).unwrap(),
            &z,
            m.latent_dim,
            BnMode::Eval,
            &device,
        );
        let f32_weights = checkpoint_weights(&ckpt, Precision::F32).unwrap();
        let json = web_model(&ckpt, Precision::F32).to_json();
        let web = WebGenerator::load(&json, &f32_weights).unwrap();
        let got = web.images(&z, n).unwrap();
        assert_eq!(got.len(), n * m.channels * m.image_size * m.image_size);
        let diff = max_abs_diff(&got, &want);
        eprintln!(
            "{}×{} kernel {}: web vs dcgan max |Δ| {diff:.2e}",
            m.image_size, m.image_size, m.kernel_size
        );
        // The same G from the same numbers: exactly the same images.
        assert_eq!(diff, 0.0, "web G differs from dcgan's by {diff}");

        let f16_weights = checkpoint_weights(&ckpt, Precision::F16).unwrap();
        let json16 = web_model(&ckpt, Precision::F16).to_json();
        let half = WebGenerator::load(&json16, &f16_weights).unwrap();
        let diff16 = max_abs_diff(&half.images(&z, n).unwrap(), &want);
        eprintln!(
            "  f16 weights: {} bytes against {} (f32), max |Δ| {diff16:.2e}",
            f16_weights.len(),
            f32_weights.len()
        );
        assert!(f16_weights.len() * 2 <= f32_weights.len() + 4096);
        // Rounding the weights to f16 moves the pixels (measured: at most 2.2e-5, the full-size
        // golden), but not by more.
        assert!(
            diff16 > 0.0 && diff16 < 1e-4,
            "f16 weights: max |Δ| {diff16}"
        );
    }
}

/// A class-conditional G (the PyTorch golden pair of `scripts/make_conditional_goldens.py`):
/// the page's generator draws each chosen class exactly as `dcgan generate --labels` does, and
/// refuses a class the model does not have.
#[test]
fn the_web_generator_draws_the_chosen_class() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dcgan/tests/golden/dcgan32-rgb");
    let config = ModelConfig {
        image_size: 32,
        latent_dim: 16,
        generator_width: 8,
        discriminator_width: 8,
        classes: ["a", "b", "c"].map(String::from).to_vec(),
        ..ModelConfig::default()
    };
    let path = tmp.path().join("cond.safetensors");
    dcgan::interop::import_torch(&config, &dir.join("cond_netG.safetensors"), None, &path).unwrap();
    let ckpt = Checkpoint::load(&path).unwrap();
    let device = burn::tensor::Device::flex();
    let g = ckpt.generator(&device).unwrap();
    let json = web_model(&ckpt, Precision::F32).to_json();
    assert!(json.contains("\"classes\""), "{json}");
    let web =
        WebGenerator::load(&json, &checkpoint_weights(&ckpt, Precision::F32).unwrap()).unwrap();
    assert_eq!(web.classes(), config.classes);
    let n = 4;
    let z = latents(n, 16);
    let mut images = Vec::new();
    for class in 0..3 {
        web.choose_class(class).unwrap();
        let want = dcgan::model::inference::generate_labelled(
            &g,
            &z,
            &[class; 4],
            BnMode::Eval,
            n,
            &device,
        );
        let got = web.images(&z, n).unwrap();
        assert_eq!(max_abs_diff(&got, &want), 0.0, "class {class}");
        images.push(got);
    }
    // The class changes the images (its one-hot rows of G's first weight are N(0, 0.02) draws
    // here, so by little).
    let moved = max_abs_diff(&images[0], &images[1]);
    eprintln!("class 0 against class 1: max |Δ| {moved:.2e}");
    assert!(moved > 1e-5, "{moved}");
    assert_eq!(web.choose_class(3).unwrap_err(), "class 3 is not below 3");
}

#[test]
fn bad_inputs_are_errors_naming_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = checkpoints(tmp.path()).pop().unwrap();
    let json = web_model(&ckpt, Precision::F32).to_json();
    let w = checkpoint_weights(&ckpt, Precision::F32).unwrap();
    let err = |r: dcgan::Result<WebGenerator>| r.err().expect("an error").to_string();
    assert!(
        err(WebGenerator::load(&json, b"not tensors"))
            .starts_with("generator.safetensors: not a readable safetensors file")
    );
    assert!(err(WebGenerator::load("{}", &w)).starts_with("model.json: missing field"));
    let other = json.replace("dcgan-web 1", "dcgan-web 9");
    assert_eq!(
        err(WebGenerator::load(&other, &w)),
        "model.json: format \"dcgan-web 9\", expected \"dcgan-web 1\""
    );
    // Sizes G cannot be built at (image sides below 16 once underflowed the layer count): the
    // library's own configuration checks.
    let image_size = "must be 4·2^k with k ≥ 2 (16, 32, 64, 128, ...)";
    for (field, value, message) in [
        (
            "image_size",
            4,
            format!("invalid image size 4: {image_size}"),
        ),
        (
            "image_size",
            8,
            format!("invalid image size 8: {image_size}"),
        ),
        (
            "image_size",
            0,
            format!("invalid image size 0: {image_size}"),
        ),
        (
            "image_size",
            48,
            format!("invalid image size 48: {image_size}"),
        ),
        (
            "kernel_size",
            3,
            "invalid kernel size 3: must be 4 (pytorch/examples layout) or 5 (the authors' layout)"
                .into(),
        ),
        (
            "channels",
            2,
            "invalid channels 2: must be 1 (grey) or 3 (RGB)".into(),
        ),
        (
            "latent_dim",
            0,
            "invalid latent size 0: must be positive".into(),
        ),
    ] {
        let mut m: serde_json::Value = serde_json::from_str(&json).unwrap();
        m[field] = value.into();
        assert_eq!(
            err(WebGenerator::load(&m.to_string(), &w)),
            format!("model.json: {message}"),
            "{field} {value}"
        );
    }
    // A model.json that fits no tensor of the weights file: named by the weights file.
    let mut m: serde_json::Value = serde_json::from_str(&json).unwrap();
    m["generator_width"] = 8.into();
    let e = err(WebGenerator::load(&m.to_string(), &w));
    assert!(
        e.starts_with("generator.safetensors: does not match the model: tensor "),
        "{e}"
    );
    let g = WebGenerator::load(&json, &w).unwrap();
    assert_eq!(
        g.images(&[0.0; 7], 1).unwrap_err(),
        "7 latent values for 1 images of latent size 20"
    );
}
