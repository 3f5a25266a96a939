//! Parity with PyTorch 2.13 on the pytorch/examples DCGAN (shared/golden/dcgan64-rgb, produced
//! by shared/golden/scripts/make_goldens.py). Tolerances are the ones its README gives.

mod common;

use std::path::Path;

use burn::tensor::{Device, Tensor};
use dcgan::config::OptimConfig;
use dcgan::io::safetensors_file;
use dcgan::io::torch::{Net, from_torch};
use dcgan::io::{load_named, named_tensors};
use dcgan::model::BnMode;
use dcgan::optim::Adam;
use dcgan::train::{Gan, StepStats, step};
use golden_checks::{golden, load_pair, npy};

mod golden_checks;

#[test]
fn generator_and_discriminator_outputs_match_pytorch() {
    let Some(dir) = golden() else {
        return common::skip("parity", "shared/golden");
    };
    golden_checks::outputs_match(&dir, &Device::flex());
}

fn step_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("step.json")).unwrap()).unwrap()
}

fn inputs(dir: &Path, device: &Device) -> (Tensor<4>, Tensor<2>) {
    let x: Tensor<4> = npy(dir, "real.npy").to_tensor(device);
    let z: Tensor<2> = npy(dir, "z.npy").to_tensor::<4>(device).reshape([8, 100]);
    (x, z)
}

fn assert_close(name: &str, got: f32, expected: f32, tol: f32) {
    assert!(
        (got - expected).abs() <= tol,
        "{name}: {got} vs PyTorch {expected} (tolerance {tol})"
    );
}

/// Weights after the step: max |diff| ≤ 4.1e-4 and ≥ 99.9 % within 1e-5 (the first Adam step
/// moves each weight by almost exactly ±lr, so a weight whose gradient is near zero may flip);
/// running statistics within 1e-4 relative.
fn assert_weights_match(ours: &dcgan::io::TensorMap, file: &Path, net: Net) {
    let want = from_torch(net, 4, &safetensors_file::read(file).unwrap().tensors, file).unwrap();
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>()
    );
    let (mut total, mut close) = (0usize, 0usize);
    for (name, w) in &want {
        let o = &ours[name];
        assert_eq!(o.shape, w.shape, "{name}");
        if name.contains("running_") {
            for (a, b) in o.data.iter().zip(&w.data) {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1e-2),
                    "{name}: {a} vs PyTorch {b}"
                );
            }
            continue;
        }
        let diff = common::max_abs_diff(&o.data, &w.data);
        assert!(diff <= 4.1e-4, "{name}: max |diff| {diff}");
        total += o.data.len();
        close += o
            .data
            .iter()
            .zip(&w.data)
            .filter(|(a, b)| (*a - *b).abs() <= 1e-5)
            .count();
    }
    let frac = close as f64 / total as f64;
    assert!(
        frac >= 0.999,
        "{}: only {frac:.5} of weights within 1e-5",
        file.display()
    );
}

/// The D half-step from the golden state: losses, D outputs, D's weights and running statistics.
#[test]
fn discriminator_half_step_matches_pytorch() {
    let Some(dir) = golden() else {
        return common::skip("parity", "shared/golden");
    };
    let device = Device::flex().autodiff();
    let (g, d) = load_pair(&dir, "netG.safetensors", "netD.safetensors", &device);
    let (x, z) = inputs(&dir, &device);
    let mut opt = Adam::new(OptimConfig::default());
    let mut stats = StepStats::default();
    let fake = g.forward(z, BnMode::Train).detach();
    let d = step::discriminator_step(d, &mut opt, x, fake, &mut stats);
    let want = step_json(&dir);
    let w = |k: &str| want[k].as_f64().unwrap() as f32;
    assert_close("err_d_real", stats.loss_d_real, w("err_d_real"), 1e-4);
    assert_close("err_d_fake", stats.loss_d_fake, w("err_d_fake"), 1e-4);
    assert_close("err_d", stats.loss_d, w("err_d"), 1e-4);
    assert_close("d_x", stats.d_real, w("d_x"), 1e-4);
    assert_close("d_g_z1", stats.d_fake, w("d_g_z1"), 1e-4);
    // D's running statistics are compared after the G step (PyTorch updates them a third time there).
    let mut ours = named_tensors(&d);
    ours.retain(|k, _| !k.contains("running_"));
    let p = dir.join("netD_step.safetensors");
    let mut want_d = safetensors_file::read(&p).unwrap();
    want_d.tensors.retain(|k, _| !k.contains("running_"));
    let want_d = from_torch(Net::Discriminator, 4, &want_d.tensors, &p).unwrap();
    let (mut total, mut close) = (0usize, 0usize);
    for (name, t) in &want_d {
        let diff = common::max_abs_diff(&ours[name].data, &t.data);
        assert!(diff <= 4.1e-4, "{name}: max |diff| {diff}");
        total += t.data.len();
        close += ours[name]
            .data
            .iter()
            .zip(&t.data)
            .filter(|(a, b)| (*a - *b).abs() <= 1e-5)
            .count();
    }
    assert!(
        close as f64 / total as f64 >= 0.999,
        "D: {close} of {total} within 1e-5"
    );
}

/// The whole iteration with D's updated weights taken from PyTorch before the G step (running
/// statistics stay ours): every loss, both networks' weights and all running statistics.
///
/// Why D's weights are pinned: after the D step, 54 of D's 2.8 M weights (gradients of order
/// 1e-5, where float32 summation order decides the sign) take the opposite ±lr first Adam step in
/// PyTorch than here. Recomputing the D step in float64 with this code gives the same signs as its
/// float32 run, so the difference is PyTorch's rounding, not a different computation. G's gradient
/// flows through D, so those 54 weights change err_g by 2.6e-4 and flip 0.6 % of G's first steps:
/// pinning them tests G's step exactly; `uninterrupted_iteration_is_close` covers the rest.
#[test]
fn full_iteration_matches_pytorch_with_its_updated_d() {
    let Some(dir) = golden() else {
        return common::skip("parity", "shared/golden");
    };
    let device = Device::flex().autodiff();
    let (g, d) = load_pair(&dir, "netG.safetensors", "netD.safetensors", &device);
    let (x, z) = inputs(&dir, &device);
    let mut opt_d = Adam::new(OptimConfig::default());
    let mut opt_g = Adam::new(OptimConfig::default());
    let mut stats = StepStats::default();
    let fake = g.forward(z, BnMode::Train);
    let d = step::discriminator_step(d, &mut opt_d, x, fake.clone().detach(), &mut stats);
    // Replace D's weights (not its running statistics) by PyTorch's.
    let p = dir.join("netD_step.safetensors");
    let mut weights = from_torch(
        Net::Discriminator,
        4,
        &safetensors_file::read(&p).unwrap().tensors,
        &p,
    )
    .unwrap();
    for (k, v) in named_tensors(&d) {
        if k.contains("running_") {
            weights.insert(k, v);
        }
    }
    let d = load_named(d, &weights, &p).unwrap();
    let g = step::generator_step(g, &mut opt_g, &d, fake, &mut stats);
    let want = step_json(&dir);
    let w = |k: &str| want[k].as_f64().unwrap() as f32;
    assert_close("err_g", stats.loss_g, w("err_g"), 1e-4);
    assert_close("d_g_z2", stats.d_fake_after, w("d_g_z2"), 1e-4);
    assert_weights_match(
        &named_tensors(&g),
        &dir.join("netG_step.safetensors"),
        Net::Generator,
    );
    assert_weights_match(
        &named_tensors(&d),
        &dir.join("netD_step.safetensors"),
        Net::Discriminator,
    );
}

/// The training loop's own iteration, uninterrupted. Every number within 1e-4 of PyTorch except
/// err_g, which goes through the 54 D weights described above: within 5e-4 (measured 2.6e-4).
#[test]
fn uninterrupted_iteration_is_close() {
    let Some(dir) = golden() else {
        return common::skip("parity", "shared/golden");
    };
    let device = Device::flex().autodiff();
    let (g, d) = load_pair(&dir, "netG.safetensors", "netD.safetensors", &device);
    let (x, z) = inputs(&dir, &device);
    let mut gan = Gan {
        generator: g,
        discriminator: d,
        opt_g: Adam::new(OptimConfig::default()),
        opt_d: Adam::new(OptimConfig::default()),
    };
    let stats = gan.iteration(x, z);
    let want = step_json(&dir);
    let w = |k: &str| want[k].as_f64().unwrap() as f32;
    assert_close("err_d_real", stats.loss_d_real, w("err_d_real"), 1e-4);
    assert_close("err_d_fake", stats.loss_d_fake, w("err_d_fake"), 1e-4);
    assert_close("err_d", stats.loss_d, w("err_d"), 1e-4);
    assert_close("d_x", stats.d_real, w("d_x"), 1e-4);
    assert_close("d_g_z1", stats.d_fake, w("d_g_z1"), 1e-4);
    assert_close("d_g_z2", stats.d_fake_after, w("d_g_z2"), 1e-4);
    assert_close("err_g", stats.loss_g, w("err_g"), 5e-4);
    assert_eq!((gan.opt_d.step, gan.opt_g.step), (1, 1));
}

/// `dcgan grads` on Flex against PyTorch's gradients (see [`golden_checks::gradients_match`]).
#[test]
fn gradients_of_both_half_steps_match_pytorch() {
    let Some(dir) = golden() else {
        return common::skip("parity", "shared/golden");
    };
    golden_checks::gradients_match(&dir, "flex");
}
