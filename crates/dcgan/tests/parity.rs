//! Parity with PyTorch on the pytorch/examples DCGAN, for every golden set
//! ([`golden_checks::Golden::all`]: the small network in this repository, and the full-size one in
//! shared/golden/dcgan64-rgb). The tolerances are within 10× of the largest error measured on
//! either set (printed by each test); the README of each set explains the few that are not.

mod common;

use burn::tensor::Device;
use dcgan::config::{Loss, OptimConfig};
use dcgan::io::torch::Net;
use dcgan::io::{load_named, named_tensors};
use dcgan::model::BnMode;
use dcgan::optim::Adam;
use dcgan::train::{Gan, StepStats, step};
use golden_checks::{Golden, load_pair};

mod golden_checks;

#[test]
fn generator_and_discriminator_outputs_match_pytorch() {
    for golden in Golden::all("parity") {
        // Measured: at most 1.1e-6.
        golden_checks::outputs_match(&golden, &Device::flex(), 1e-5);
    }
}

fn step_json(golden: &Golden) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(golden.path("step.json")).unwrap()).unwrap()
}

fn assert_close(name: &str, got: f32, expected: f32, tol: f32) {
    eprintln!("  {name}: |Δ| {:.2e}", (got - expected).abs());
    assert!(
        (got - expected).abs() <= tol,
        "{name}: {got} vs PyTorch {expected} (tolerance {tol})"
    );
}

/// Weights after the step against PyTorch's (every key of `want`, running statistics left out):
/// none more than 2·lr apart, at most `SENSITIVE_SHARE` more than `WEIGHT_TOL` apart (see
/// below). Prints what it measured, as `what`.
fn assert_first_steps_match(ours: &dcgan::io::TensorMap, want: &dcgan::io::TensorMap, what: &str) {
    let (mut total, mut sensitive, mut worst) = (0usize, 0usize, 0f32);
    for (name, w) in want.iter().filter(|(k, _)| !k.contains("running_")) {
        let o = &ours[name];
        assert_eq!(o.shape, w.shape, "{name}");
        total += o.data.len();
        for (a, b) in o.data.iter().zip(&w.data) {
            let d = (a - b).abs();
            assert!(d <= FLIP + FLIP_TOL, "{what} {name}: {a} vs PyTorch {b}");
            if d > WEIGHT_TOL {
                sensitive += 1;
            } else {
                worst = worst.max(d);
            }
        }
    }
    eprintln!(
        "  {what}: {sensitive} of {total} first steps decided by rounding, the others within {worst:.2e}"
    );
    assert!(
        sensitive as f64 <= SENSITIVE_SHARE * total as f64,
        "{what}: {sensitive} of {total} first Adam steps differ by more than {WEIGHT_TOL:e}"
    );
}

/// Weights and running statistics after the step: the weights as [`assert_first_steps_match`],
/// running statistics within `WEIGHT_STAT_REL`.
fn assert_weights_match(ours: &dcgan::io::TensorMap, golden: &Golden, file: &str, net: Net) {
    let want = golden.torch_tensors(file, net);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>()
    );
    let mut worst_stat = 0f32;
    for (name, w) in want.iter().filter(|(k, _)| k.contains("running_")) {
        for (a, b) in ours[name].data.iter().zip(&w.data) {
            let rel = (a - b).abs() / b.abs().max(1e-2);
            worst_stat = worst_stat.max(rel);
            assert!(rel <= WEIGHT_STAT_REL, "{name}: {a} vs PyTorch {b}");
        }
    }
    eprintln!("  {file}: running statistics within {worst_stat:.2e} relative");
    assert_first_steps_match(ours, &want, &format!("{}/{file}", golden.name()));
}

/// A weight whose gradient is near zero, where float32 summation order decides its sign and size,
/// takes a different first Adam step here and in PyTorch (up to ±lr each, so up to 2·lr apart).
/// Such weights, the ones more than `WEIGHT_TOL` apart, are counted: at most `SENSITIVE_SHARE`
/// of them (measured: 4.7e-5 of D's and 1.7e-5 of G's weights in the full-size golden, none in
/// the small one), and none more than 2·lr apart.
const FLIP: f32 = 4e-4;
const FLIP_TOL: f32 = 1e-6;
const WEIGHT_TOL: f32 = 1e-7;
const SENSITIVE_SHARE: f64 = 2e-4;
/// Losses and mean D outputs (measured: at most 1.9e-6).
const LOSS_TOL: f32 = 5e-6;
const WEIGHT_STAT_REL: f32 = 1e-5;

/// The D half-step from the golden state: losses, D outputs, D's weights and running statistics.
#[test]
fn discriminator_half_step_matches_pytorch() {
    for golden in Golden::all("parity") {
        discriminator_half_step(&golden);
    }
}

fn discriminator_half_step(golden: &Golden) {
    eprintln!("{}: the D half-step", golden.name());
    let device = Device::flex().autodiff();
    let (g, d) = load_pair(golden, "netG.safetensors", "netD.safetensors", &device);
    let (x, z) = golden.inputs(&device);
    let mut opt = Adam::new(OptimConfig::default());
    let mut stats = StepStats::default();
    let fake = g.forward(z, BnMode::Train).detach();
    let d = step::discriminator_step(Loss::Bce, d, &mut opt, x, fake, None, &mut stats);
    let want = step_json(golden);
    let w = |k: &str| want[k].as_f64().unwrap() as f32;
    assert_close("err_d_real", stats.loss_d_real, w("err_d_real"), LOSS_TOL);
    assert_close("err_d_fake", stats.loss_d_fake, w("err_d_fake"), LOSS_TOL);
    assert_close("err_d", stats.loss_d, w("err_d"), LOSS_TOL);
    assert_close("d_x", stats.d_real, w("d_x"), LOSS_TOL);
    assert_close("d_g_z1", stats.d_fake, w("d_g_z1"), LOSS_TOL);
    // D's running statistics are compared after the G step (PyTorch updates them a third time there).
    let want_d = golden.torch_tensors("netD_step.safetensors", Net::Discriminator);
    assert_first_steps_match(&named_tensors(&d), &want_d, "D weights");
}

/// The whole iteration with D's updated weights taken from PyTorch before the G step (running
/// statistics stay ours): every loss, both networks' weights and all running statistics.
///
/// Why D's weights are pinned: after the D step, some of D's weights in the full-size golden
/// (gradients near zero, where float32 summation order decides the first Adam step's sign and
/// size; 129 of 2.8 M more than 1e-7 apart) step differently in PyTorch than here. Recomputing
/// the D step in float64 with this code gives the same signs as its float32 run, so the
/// difference is PyTorch's rounding, not a different computation. G's gradient flows through D,
/// so those weights change err_g by 2.6e-4 and many of G's first steps: pinning them tests G's
/// step exactly; `uninterrupted_iteration_is_close` covers the rest.
#[test]
fn full_iteration_matches_pytorch_with_its_updated_d() {
    for golden in Golden::all("parity") {
        full_iteration_with_its_updated_d(&golden);
    }
}

fn full_iteration_with_its_updated_d(golden: &Golden) {
    eprintln!("{}: the iteration with PyTorch's updated D", golden.name());
    let device = Device::flex().autodiff();
    let (g, d) = load_pair(golden, "netG.safetensors", "netD.safetensors", &device);
    let (x, z) = golden.inputs(&device);
    let mut opt_d = Adam::new(OptimConfig::default());
    let mut opt_g = Adam::new(OptimConfig::default());
    let mut stats = StepStats::default();
    let fake = g.forward(z, BnMode::Train);
    let d = step::discriminator_step(
        Loss::Bce,
        d,
        &mut opt_d,
        x,
        fake.clone().detach(),
        None,
        &mut stats,
    );
    // Replace D's weights (not its running statistics) by PyTorch's.
    let mut weights = golden.torch_tensors("netD_step.safetensors", Net::Discriminator);
    for (k, v) in named_tensors(&d) {
        if k.contains("running_") {
            weights.insert(k, v);
        }
    }
    let d = load_named(d, &weights, &golden.path("netD_step.safetensors")).unwrap();
    let g = step::generator_step(Loss::Bce, g, &mut opt_g, &d, fake, None, &mut stats);
    let want = step_json(golden);
    let w = |k: &str| want[k].as_f64().unwrap() as f32;
    assert_close("err_g", stats.loss_g, w("err_g"), LOSS_TOL);
    assert_close("d_g_z2", stats.d_fake_after, w("d_g_z2"), LOSS_TOL);
    assert_weights_match(
        &named_tensors(&g),
        golden,
        "netG_step.safetensors",
        Net::Generator,
    );
    assert_weights_match(
        &named_tensors(&d),
        golden,
        "netD_step.safetensors",
        Net::Discriminator,
    );
}

/// The training loop's own iteration, uninterrupted. Every number within `LOSS_TOL` of PyTorch
/// except err_g, which goes through the D weights described above: within 5e-4 (measured
/// 2.6e-4).
#[test]
fn uninterrupted_iteration_is_close() {
    for golden in Golden::all("parity") {
        uninterrupted_iteration(&golden);
    }
}

fn uninterrupted_iteration(golden: &Golden) {
    eprintln!("{}: the training loop's iteration", golden.name());
    let device = Device::flex().autodiff();
    let (g, d) = load_pair(golden, "netG.safetensors", "netD.safetensors", &device);
    let (x, z) = golden.inputs(&device);
    let mut gan = Gan::paper(
        g,
        d,
        Adam::new(OptimConfig::default()),
        Adam::new(OptimConfig::default()),
    );
    let stats = gan.iteration(x, z);
    let want = step_json(golden);
    let w = |k: &str| want[k].as_f64().unwrap() as f32;
    assert_close("err_d_real", stats.loss_d_real, w("err_d_real"), LOSS_TOL);
    assert_close("err_d_fake", stats.loss_d_fake, w("err_d_fake"), LOSS_TOL);
    assert_close("err_d", stats.loss_d, w("err_d"), LOSS_TOL);
    assert_close("d_x", stats.d_real, w("d_x"), LOSS_TOL);
    assert_close("d_g_z1", stats.d_fake, w("d_g_z1"), LOSS_TOL);
    assert_close("d_g_z2", stats.d_fake_after, w("d_g_z2"), LOSS_TOL);
    // Through the D weights whose first step rounding decides (above): 2.6e-4 on the full-size
    // golden.
    assert_close("err_g", stats.loss_g, w("err_g"), 5e-4);
    assert_eq!((gan.opt_d.step, gan.opt_g.step), (1, 1));
}

/// `dcgan grads` on Flex against PyTorch's gradients (see [`golden_checks::gradients_match`]).
#[test]
fn gradients_of_both_half_steps_match_pytorch() {
    for golden in Golden::all("parity") {
        // Measured: at most 2.1e-6 of a tensor's largest entry.
        golden_checks::gradients_match(&golden, "flex", 1e-5);
    }
}

/// `--conditional`: the class-conditional pair's gradients (G's one-hot input, D's projection
/// term and its embedding's gradient) on Flex against PyTorch's
/// (`scripts/make_conditional_goldens.py`), every tensor within 1e-5 of its largest entry.
#[test]
fn gradients_of_the_conditional_pair_match_pytorch() {
    let worst = golden_checks::conditional_gradients_match(&Golden::in_repo(), "flex", 1e-5);
    eprintln!("conditional: worst {worst:.2e}");
}

/// `--loss hinge` and `--loss lsgan`: `dcgan grads` of each objective on Flex against PyTorch's
/// gradients of the same objective (`scripts/make_loss_goldens.py`, on D's logit), every tensor
/// within 1e-5 of its largest entry (the issue asks 1e-4), the losses within 5e-6.
#[test]
fn gradients_of_hinge_and_least_squares_match_pytorch() {
    let golden = Golden::in_repo();
    for loss in [Loss::Hinge, Loss::Lsgan] {
        let worst = golden_checks::loss_gradients_match(&golden, "flex", 1e-5, loss);
        eprintln!("{}: worst {worst:.2e}", loss.name());
    }
}
