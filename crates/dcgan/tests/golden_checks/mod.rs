//! Checks against the PyTorch goldens (shared/golden/dcgan64-rgb) that hold on every device:
//! `tests/parity.rs` runs them on Flex, `tests/gpu.rs` on wgpu. Tolerances are the golden
//! README's.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use dcgan::config::ModelConfig;
use dcgan::io::safetensors_file;
use dcgan::io::torch::{Net, from_torch};
use dcgan::io::{HostTensor, load_named, npy};
use dcgan::model::{BnMode, Discriminator, Generator};

use super::common;

pub fn golden() -> Option<PathBuf> {
    common::shared_dir().map(|s| s.join("golden/dcgan64-rgb"))
}

/// 64×64 RGB, nz 100, ngf = ndf = 64, kernel 4: the golden network.
pub fn config() -> ModelConfig {
    ModelConfig::default()
}

pub fn load_pair(
    dir: &Path,
    g_file: &str,
    d_file: &str,
    device: &Device,
) -> (Generator, Discriminator) {
    let cfg = config();
    let k = cfg.upsamplings();
    let gp = dir.join(g_file);
    let dp = dir.join(d_file);
    let gt = from_torch(
        Net::Generator,
        k,
        &safetensors_file::read(&gp).unwrap().tensors,
        &gp,
    )
    .unwrap();
    let dt = from_torch(
        Net::Discriminator,
        k,
        &safetensors_file::read(&dp).unwrap().tensors,
        &dp,
    )
    .unwrap();
    let g = load_named(Generator::new(&cfg, 0, device), &gt, &gp).unwrap();
    let d = load_named(Discriminator::new(&cfg, 0, device), &dt, &dp).unwrap();
    (g, d)
}

pub fn npy(dir: &Path, name: &str) -> HostTensor {
    npy::read(&dir.join(name)).unwrap()
}

/// G(z) and D(x) with BatchNorm in both modes against PyTorch's, each within 1e-4; returns the
/// four largest differences (G eval, G train, D eval, D train).
pub fn outputs_match(dir: &Path, device: &Device) -> [f32; 4] {
    let (g, d) = load_pair(dir, "netG.safetensors", "netD.safetensors", device);
    let z: Tensor<2> = npy(dir, "z.npy").to_tensor::<4>(device).reshape([8, 100]);
    let x: Tensor<4> = npy(dir, "real.npy").to_tensor(device);
    let mut diffs = [0f32; 4];
    let mut i = 0;
    for (mode, file) in [
        (BnMode::Eval, "g_eval.npy"),
        (BnMode::BatchStats, "g_train.npy"),
    ] {
        let out = HostTensor::from_tensor(&g.forward(z.clone(), mode));
        let want = npy(dir, file);
        assert_eq!(out.shape, want.shape);
        diffs[i] = common::max_abs_diff(&out.data, &want.data);
        assert!(diffs[i] <= 1e-4, "G {mode:?}: max |diff| {}", diffs[i]);
        i += 1;
    }
    for (mode, file) in [
        (BnMode::Eval, "d_eval.npy"),
        (BnMode::BatchStats, "d_train.npy"),
    ] {
        let out = HostTensor::from_tensor(&d.probabilities(x.clone(), mode));
        let want = npy(dir, file);
        assert_eq!(out.shape, want.shape);
        diffs[i] = common::max_abs_diff(&out.data, &want.data);
        assert!(diffs[i] <= 1e-4, "D {mode:?}: max |diff| {}", diffs[i]);
        i += 1;
    }
    diffs
}

/// `dcgan grads` (the task behind it) on the golden network and `device`: the gradients of both
/// half-steps, in PyTorch's state-dict layout, against PyTorch's own (`grads_d`/`grads_g
/// .safetensors`, made by shared/golden/scripts/make_grad_goldens.py). Every tensor within 1e-4
/// of its largest PyTorch entry (the README's tolerance; PyTorch agrees with itself to 3e-6
/// across threads), the same keys and shapes, and the three losses within 1e-4. Returns the
/// largest relative difference.
pub fn gradients_match(dir: &Path, device: &str) -> f32 {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("golden.safetensors");
    dcgan::interop::import_torch(
        &config(),
        &dir.join("netG.safetensors"),
        Some(&dir.join("netD.safetensors")),
        &ckpt,
    )
    .unwrap();
    let out = tmp.path().join("grads");
    let report = dcgan::tasks::interop::grads(
        dcgan::tasks::interop::GradsConfig {
            checkpoint: ckpt,
            real: dir.join("real.npy"),
            latent: dir.join("z.npy"),
            out: out.clone(),
            device: device.into(),
        },
        &mut dcgan::progress::Quiet,
    )
    .unwrap();
    assert_eq!(report.written.len(), 3);
    let mut worst = 0f32;
    for file in ["grads_d.safetensors", "grads_g.safetensors"] {
        let ours = safetensors_file::read(&out.join(file)).unwrap().tensors;
        let theirs = safetensors_file::read(&dir.join(file)).unwrap().tensors;
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{file}: keys"
        );
        for (key, want) in &theirs {
            let got = &ours[key];
            assert_eq!(got.shape, want.shape, "{file} {key}: shape");
            let scale = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = common::max_abs_diff(&got.data, &want.data);
            eprintln!(
                "{device} {file} {key}: max |Δ| / max |g| = {:.2e}",
                diff / scale
            );
            assert!(scale > 0.0, "{file} {key}: PyTorch's gradient is zero");
            assert!(
                diff <= 1e-4 * scale,
                "{device} {file} {key}: max |Δ| {diff:.3e} > 1e-4 × {scale:.3e}"
            );
            worst = worst.max(diff / scale);
        }
    }
    let want: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("grads_losses.json")).unwrap()).unwrap();
    let got: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("losses.json")).unwrap()).unwrap();
    for key in ["err_d_real", "err_d_fake", "err_g"] {
        let (a, b) = (got[key].as_f64().unwrap(), want[key].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-4,
            "{device} {key}: ours {a}, PyTorch {b}"
        );
    }
    worst
}
