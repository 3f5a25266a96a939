//! Checks against PyTorch goldens that hold on every device: `tests/parity.rs` runs them on
//! Flex, `tests/gpu.rs` on wgpu. Two golden sets: a small network kept in this repository
//! (`tests/golden/dcgan32-rgb`, made by `scripts/make_parity_goldens.py`), which every clone
//! runs, and the full-size 64×64 one in `shared/golden/dcgan64-rgb` (made by the scripts beside
//! it), which CI runs. Both hold the same files (the golden README lists them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use dcgan::config::ModelConfig;
use dcgan::io::safetensors_file;
use dcgan::io::torch::{Net, from_torch};
use dcgan::io::{HostTensor, load_named, npy};
use dcgan::model::{BnMode, Discriminator, Generator};

use super::common;

/// One golden set: its folder and the network and batch it was made with (its `meta.json`).
pub struct Golden {
    pub dir: PathBuf,
    pub config: ModelConfig,
    pub batch: usize,
}

impl Golden {
    fn read(dir: PathBuf) -> Self {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
        let n = |k: &str| meta[k].as_u64().unwrap_or_else(|| panic!("meta.json: {k}")) as usize;
        let config = ModelConfig {
            image_size: n("image_size"),
            channels: n("nc"),
            latent_dim: n("nz"),
            generator_width: n("ngf"),
            discriminator_width: n("ndf"),
            ..ModelConfig::default()
        };
        Self {
            batch: n("batch"),
            config,
            dir,
        }
    }

    /// The small set in this repository: always there.
    pub fn in_repo() -> Self {
        Self::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/dcgan32-rgb"))
    }

    /// The full-size set in shared/ (`DCGAN_SHARED`), when present.
    pub fn shared() -> Option<Self> {
        common::shared_dir().map(|s| Self::read(s.join("golden/dcgan64-rgb")))
    }

    /// The in-repository set, then the shared one; its absence is a counted skip (a failure
    /// under CI), reported for `test`.
    pub fn all(test: &str) -> Vec<Self> {
        let mut out = vec![Self::in_repo()];
        match Self::shared() {
            Some(g) => out.push(g),
            None => common::skip(test, "shared/golden (the full-size network)"),
        }
        out
    }

    pub fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    pub fn npy(&self, file: &str) -> HostTensor {
        npy(&self.dir, file)
    }

    /// A PyTorch state dict of this set, under dcgan's names.
    pub fn torch_tensors(&self, file: &str, net: Net) -> dcgan::io::TensorMap {
        let p = self.path(file);
        from_torch(
            net,
            &self.config,
            &safetensors_file::read(&p).unwrap().tensors,
            &p,
        )
        .unwrap()
    }

    /// The real batch and the latents, on `device`.
    pub fn inputs(&self, device: &Device) -> (Tensor<4>, Tensor<2>) {
        let x: Tensor<4> = self.npy("real.npy").to_tensor(device);
        let z: Tensor<2> = self
            .npy("z.npy")
            .to_tensor::<4>(device)
            .reshape([self.batch, self.config.latent_dim]);
        (x, z)
    }
}

pub fn load_pair(
    golden: &Golden,
    g_file: &str,
    d_file: &str,
    device: &Device,
) -> (Generator, Discriminator) {
    let cfg = &golden.config;
    let gt = golden.torch_tensors(g_file, Net::Generator);
    let dt = golden.torch_tensors(d_file, Net::Discriminator);
    let g = load_named(Generator::new(cfg, 0, device), &gt, &golden.path(g_file)).unwrap();
    let d = load_named(
        Discriminator::new(cfg, 0, device),
        &dt,
        &golden.path(d_file),
    )
    .unwrap();
    (g, d)
}

fn npy(dir: &Path, name: &str) -> HostTensor {
    npy::read(&dir.join(name)).unwrap()
}

/// G(z) and D(x) with BatchNorm in both modes against PyTorch's, each within `tol`; returns the
/// four largest differences (G eval, G train, D eval, D train).
pub fn outputs_match(golden: &Golden, device: &Device, tol: f32) -> [f32; 4] {
    let (g, d) = load_pair(golden, "netG.safetensors", "netD.safetensors", device);
    let (x, z) = golden.inputs(device);
    let mut diffs = [0f32; 4];
    let mut i = 0;
    for (mode, file) in [
        (BnMode::Eval, "g_eval.npy"),
        (BnMode::BatchStats, "g_train.npy"),
    ] {
        let out = HostTensor::from_tensor(&g.forward(z.clone(), mode));
        let want = golden.npy(file);
        assert_eq!(out.shape, want.shape);
        diffs[i] = common::max_abs_diff(&out.data, &want.data);
        i += 1;
    }
    for (mode, file) in [
        (BnMode::Eval, "d_eval.npy"),
        (BnMode::BatchStats, "d_train.npy"),
    ] {
        let out = HostTensor::from_tensor(&d.probabilities(x.clone(), mode));
        let want = golden.npy(file);
        assert_eq!(out.shape, want.shape);
        diffs[i] = common::max_abs_diff(&out.data, &want.data);
        i += 1;
    }
    eprintln!(
        "{}: max |Δ| G eval {:.2e}, G train {:.2e}, D eval {:.2e}, D train {:.2e}",
        golden.name(),
        diffs[0],
        diffs[1],
        diffs[2],
        diffs[3]
    );
    for (what, d) in ["G eval", "G train", "D eval", "D train"].iter().zip(diffs) {
        assert!(
            d <= tol,
            "{} {what}: max |Δ| {d:.3e} > {tol:.1e}",
            golden.name()
        );
    }
    diffs
}

/// `dcgan grads` (the task behind it) on the golden network and `device`: the gradients of both
/// half-steps, in PyTorch's state-dict layout, against PyTorch's own (`grads_d`/`grads_g
/// .safetensors`). Every tensor within `tol` of its largest PyTorch entry, the same keys and
/// shapes, and the three losses within 5e-6 (measured: at most 6e-7). Returns the largest
/// relative difference.
pub fn gradients_match(golden: &Golden, device: &str, tol: f32) -> f32 {
    loss_gradients_match(golden, device, tol, dcgan::config::Loss::Bce)
}

/// [`gradients_match`] for `loss`: PyTorch's gradients of it are `grads_<loss>_d/g.safetensors`
/// and `grads_<loss>_losses.json` (`scripts/make_loss_goldens.py`) beside the BCE ones.
pub fn loss_gradients_match(
    golden: &Golden,
    device: &str,
    tol: f32,
    loss: dcgan::config::Loss,
) -> f32 {
    gradients_match_of(golden, device, tol, loss, false)
}

/// The class-conditional pair's gradients (`scripts/make_conditional_goldens.py`: 3 classes,
/// G's input z then the class one-hot, D's projection term), as [`loss_gradients_match`].
pub fn conditional_gradients_match(golden: &Golden, device: &str, tol: f32) -> f32 {
    gradients_match_of(golden, device, tol, dcgan::config::Loss::Bce, true)
}

fn gradients_match_of(
    golden: &Golden,
    device: &str,
    tol: f32,
    loss: dcgan::config::Loss,
    conditional: bool,
) -> f32 {
    let golden_file = |what: &str, ext: &str| match loss {
        _ if conditional => format!("grads_cond_{what}.{ext}"),
        dcgan::config::Loss::Bce => format!("grads_{what}.{ext}"),
        other => format!("grads_{}_{what}.{ext}", other.name()),
    };
    let dir = &golden.dir;
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("golden.safetensors");
    let mut config = golden.config.clone();
    let prefix = if conditional {
        config.classes = ["a", "b", "c"].map(String::from).to_vec();
        "cond_"
    } else {
        ""
    };
    dcgan::interop::import_torch(
        &config,
        &dir.join(format!("{prefix}netG.safetensors")),
        Some(&dir.join(format!("{prefix}netD.safetensors"))),
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
            loss: Some(loss),
            labels: conditional.then(|| dir.join("cond_labels.npy")),
        },
        &mut dcgan::progress::Quiet,
    )
    .unwrap();
    assert_eq!(report.written.len(), 3);
    let mut worst = 0f32;
    for (file, theirs) in [
        ("grads_d.safetensors", golden_file("d", "safetensors")),
        ("grads_g.safetensors", golden_file("g", "safetensors")),
    ] {
        let ours = safetensors_file::read(&out.join(file)).unwrap().tensors;
        let theirs = safetensors_file::read(&dir.join(theirs)).unwrap().tensors;
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
                "{device} {} {file} {key}: max |Δ| / max |g| = {:.2e}",
                loss.name(),
                diff / scale
            );
            assert!(scale > 0.0, "{file} {key}: PyTorch's gradient is zero");
            assert!(
                diff <= tol * scale,
                "{device} {file} {key}: max |Δ| {diff:.3e} > {tol:.1e} × {scale:.3e}"
            );
            worst = worst.max(diff / scale);
        }
    }
    let want: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(golden_file("losses", "json"))).unwrap())
            .unwrap();
    let got: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("losses.json")).unwrap()).unwrap();
    for key in ["err_d_real", "err_d_fake", "err_g"] {
        let (a, b) = (got[key].as_f64().unwrap(), want[key].as_f64().unwrap());
        eprintln!("{device} {key}: |Δ| {:.2e}", (a - b).abs());
        assert!(
            (a - b).abs() <= 5e-6,
            "{device} {key}: ours {a}, PyTorch {b}"
        );
    }
    worst
}
