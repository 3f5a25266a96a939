//! The project's own Flex kernels (model/kernels.rs) against burn's operations on the same
//! device: forward values and the gradients of every input, for the geometries DCGAN uses
//! (k4 s2 p1, k4 s1 p0 on 1×1 and 4×4 maps, k5 s2 p2 with output padding 1) and a few it does
//! not (odd sizes, batches that do not split evenly, batch 1); and the fused BatchNorm +
//! activation and the tanh, forward and backward.

use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor, TensorData};
use dcgan::kernels;
use dcgan::rng::{self, Purpose};

fn device() -> Device {
    Device::flex().autodiff()
}

/// A test's random inputs: the same numbers in every run (burn's own random tensors draw from
/// one generator that tests on parallel threads share), each draw from a stream of its own.
struct Draws(u64);

impl Draws {
    fn normal<const D: usize>(
        &mut self,
        shape: [usize; D],
        mean: f32,
        std: f32,
        device: &Device,
    ) -> Tensor<D> {
        self.0 += 1;
        let values = rng::normal(
            &mut rng::stream(1, Purpose::Tools, self.0),
            shape.iter().product(),
            mean,
            std,
        );
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn random(&mut self, shape: [usize; 4], device: &Device) -> Tensor<4> {
        self.normal(shape, 0.0, 1.0, device)
    }
}

/// Largest |a − b| relative to the largest |b|.
fn rel_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let scale = b.clone().abs().max().into_scalar::<f32>().max(1e-6);
    (a - b).abs().max().into_scalar::<f32>() / scale
}

struct Case {
    batch: usize,
    cin: usize,
    size: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    output_padding: usize,
}

const CASES: [Case; 8] = [
    // D's strided layers and G's upsampling layers (kernel 4).
    Case {
        batch: 5,
        cin: 6,
        size: 8,
        cout: 7,
        kernel: 4,
        stride: 2,
        padding: 1,
        output_padding: 0,
    },
    // D's output layer: a 4×4 map to 1×1; G's projection: 1×1 to 4×4.
    Case {
        batch: 3,
        cin: 9,
        size: 4,
        cout: 1,
        kernel: 4,
        stride: 1,
        padding: 0,
        output_padding: 0,
    },
    Case {
        batch: 4,
        cin: 10,
        size: 1,
        cout: 8,
        kernel: 4,
        stride: 1,
        padding: 0,
        output_padding: 0,
    },
    // Kernel 5 (the authors' layout).
    Case {
        batch: 3,
        cin: 4,
        size: 8,
        cout: 5,
        kernel: 5,
        stride: 2,
        padding: 2,
        output_padding: 1,
    },
    // Odd size, batch 1.
    Case {
        batch: 1,
        cin: 3,
        size: 7,
        cout: 4,
        kernel: 3,
        stride: 2,
        padding: 1,
        output_padding: 0,
    },
    // Stride 1 with padding; an RGB input.
    Case {
        batch: 2,
        cin: 3,
        size: 6,
        cout: 5,
        kernel: 3,
        stride: 1,
        padding: 1,
        output_padding: 0,
    },
    // Stride 3 (three stride phases in each direction).
    Case {
        batch: 2,
        cin: 3,
        size: 9,
        cout: 4,
        kernel: 3,
        stride: 3,
        padding: 0,
        output_padding: 0,
    },
    // A batch of 67: chunks of unequal size.
    Case {
        batch: 67,
        cin: 4,
        size: 16,
        cout: 6,
        kernel: 4,
        stride: 2,
        padding: 1,
        output_padding: 0,
    },
];

/// Our output `got` against burn's `want` for the same `x` and `w`, then the gradients of both
/// with respect to `x` and `w` under a random weighting of the outputs (so that every output's
/// gradient differs).
fn assert_matches(
    draws: &mut Draws,
    case: &str,
    (x, w): (&Tensor<4>, &Tensor<4>),
    got: Tensor<4>,
    want: Tensor<4>,
) {
    // Bounds within 10× of the largest measured over the cases (forward 2.9e-7, gradients
    // 4.6e-7).
    let d = rel_diff(got.clone(), want.clone());
    assert!(d < 2e-6, "{case}: forward differs by {d}");
    let r = draws.random(want.dims(), &x.device());
    let g_want = (want * r.clone()).sum().backward();
    let g_got = (got * r).sum().backward();
    for (name, t) in [("input", x), ("weight", w)] {
        let a = t.grad(&g_got).expect("our gradient");
        let b = t.grad(&g_want).expect("burn gradient");
        let d = rel_diff(a, b);
        assert!(d < 4e-6, "{case}: {name} gradient differs by {d}");
    }
}

#[test]
fn convolution_forward_and_gradients_match_burn() {
    let (device, mut draws) = (device(), Draws(0));
    for (i, c) in CASES.iter().enumerate() {
        if c.size + 2 * c.padding < c.kernel {
            continue; // the kernel does not fit (the 1×1 case is for the transposed convolution)
        }
        let x = draws
            .random([c.batch, c.cin, c.size, c.size], &device)
            .require_grad();
        let w = draws
            .random([c.cout, c.cin, c.kernel, c.kernel], &device)
            .require_grad();
        let options = ConvOptions::new([c.stride; 2], [c.padding; 2], [1, 1], 1);
        let want = conv2d(x.clone(), w.clone(), None, options);
        let got = kernels::conv2d(x.clone(), w.clone(), c.stride, c.padding);
        assert_matches(
            &mut draws,
            &format!("convolution case {i}"),
            (&x, &w),
            got,
            want,
        );
    }
}

#[test]
fn transposed_convolution_forward_and_gradients_match_burn() {
    let (device, mut draws) = (device(), Draws(0));
    for (i, c) in CASES.iter().enumerate() {
        let x = draws
            .random([c.batch, c.cin, c.size, c.size], &device)
            .require_grad();
        let w = draws
            .random([c.cin, c.cout, c.kernel, c.kernel], &device)
            .require_grad();
        let (s, p, op) = (c.stride, c.padding, c.output_padding);
        let options = ConvTransposeOptions::new([s; 2], [p; 2], [op; 2], [1, 1], 1);
        let want = conv_transpose2d(x.clone(), w.clone(), None, options);
        let got = kernels::conv_transpose2d(x.clone(), w.clone(), s, p, op);
        assert_matches(
            &mut draws,
            &format!("transposed case {i}"),
            (&x, &w),
            got,
            want,
        );
    }
}

#[test]
fn untracked_inputs_get_no_gradient_and_plain_devices_work() {
    // The G step runs D with its weights detached: only the input's gradient is computed.
    let (device, mut draws) = (device(), Draws(0));
    let x = draws.random([2, 3, 8, 8], &device).require_grad();
    let w = draws.random([4, 3, 4, 4], &device);
    let grads = kernels::conv2d(x.clone(), w.clone(), 2, 1).sum().backward();
    assert!(x.grad(&grads).is_some());
    assert!(w.grad(&grads).is_none());

    // Without autodiff (sampling).
    let plain = Device::flex();
    let x = draws.random([2, 3, 8, 8], &plain);
    let w = draws.random([4, 3, 4, 4], &plain);
    let options = ConvOptions::new([2; 2], [1; 2], [1, 1], 1);
    let want = conv2d(x.clone(), w.clone(), None, options);
    assert!(rel_diff(kernels::conv2d(x, w, 2, 1), want) < 1.4e-6); // measured 1.4e-7
}

/// `act(BatchNorm(x))` from burn's own operations: batch mean and biased variance per channel
/// (dims 0, 2, 3), then the affine map and the (leaky) ReLU.
fn burn_batch_norm_act(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    eps: f64,
    slope: f64,
) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
    let c = x.dims()[1];
    let mean = x.clone().mean_dim(0).mean_dim(2).mean_dim(3); // [1, c, 1, 1]
    let centred = x - mean.clone();
    let var = centred
        .clone()
        .powi_scalar(2)
        .mean_dim(0)
        .mean_dim(2)
        .mean_dim(3);
    let norm = centred / var.clone().add_scalar(eps).sqrt();
    let y = norm * gamma.reshape([1, c, 1, 1]) + beta.reshape([1, c, 1, 1]);
    let y = burn::tensor::activation::leaky_relu(y, slope);
    (y, mean.reshape([c]), var.reshape([c]))
}

/// The fused BatchNorm + activation kernel (forward and backward) against burn's operations:
/// the output, batch mean and variance, and the gradients of x, γ and β under a random
/// weighting of the outputs. G's ReLU and D's LeakyReLU(0.2), on D-like maps, 1×1 maps of a
/// small batch, and a batch that does not split evenly over threads.
#[test]
fn batch_norm_activation_forward_and_gradients_match_burn() {
    let (device, mut draws) = (device(), Draws(0));
    for (shape, slope) in [
        ([5, 6, 8, 8], 0.0),
        ([5, 6, 8, 8], 0.2),
        ([3, 7, 1, 1], 0.2),
        ([67, 4, 4, 4], 0.0),
    ] {
        let case = format!("{shape:?} slope {slope}");
        let c = shape[1];
        // Shifted and scaled so that mean and variance are not 0 and 1 already.
        let x = draws
            .random(shape, &device)
            .mul_scalar(3.0)
            .add_scalar(1.5)
            .require_grad();
        let gamma = draws.normal([c], 1.0, 0.3, &device).require_grad();
        let beta = draws.normal([c], 0.0, 0.3, &device).require_grad();
        let (got, mean, var) =
            kernels::batch_norm_act(x.clone(), gamma.clone(), beta.clone(), 1e-5, slope);
        let (want, want_mean, want_var) =
            burn_batch_norm_act(x.clone(), gamma.clone(), beta.clone(), 1e-5, slope);
        let as4 = |t: Tensor<1>| t.reshape([1, c, 1, 1]);
        // Bounds within 10× of the largest measured over the cases: mean 7.5e-8, variance
        // 1.0e-7, forward 1.5e-7, input gradient 2.9e-7, γ and β gradients 2.3e-7.
        assert!(rel_diff(as4(mean), as4(want_mean)) < 7e-7, "{case}: mean");
        assert!(rel_diff(as4(var), as4(want_var)) < 1e-6, "{case}: variance");
        let d = rel_diff(got.clone(), want.clone());
        assert!(d < 1.5e-6, "{case}: forward differs by {d}");
        let r = draws.random(shape, &device);
        let g_got = (got * r.clone()).sum().backward();
        let g_want = (want * r).sum().backward();
        let d = rel_diff(x.grad(&g_got).unwrap(), x.grad(&g_want).unwrap());
        assert!(d < 2e-6, "{case}: input gradient differs by {d}");
        for (name, p) in [("gamma", &gamma), ("beta", &beta)] {
            let d = rel_diff(as4(p.grad(&g_got).unwrap()), as4(p.grad(&g_want).unwrap()));
            assert!(d < 2e-6, "{case}: {name} gradient differs by {d}");
        }
    }
}

/// G's output tanh (a fast rational approximation, forward and backward) against burn's tanh,
/// over the range G's last layer produces and into saturation.
#[test]
fn tanh_forward_and_gradient_match_burn() {
    let (device, mut draws) = (device(), Draws(0));
    let x = draws
        .random([4, 3, 16, 16], &device)
        .mul_scalar(4.0)
        .require_grad();
    let got = kernels::tanh(x.clone());
    let want = burn::tensor::activation::tanh(x.clone());
    let d = (got.clone() - want.clone())
        .abs()
        .max()
        .into_scalar::<f32>();
    // Measured: forward 1.8e-7, gradient 1.8e-7.
    assert!(d < 1e-6, "forward differs by {d}");
    let r = draws.random([4, 3, 16, 16], &device);
    let g_got = (got * r.clone()).sum().backward();
    let g_want = (want * r).sum().backward();
    let d = rel_diff(x.grad(&g_got).unwrap(), x.grad(&g_want).unwrap());
    assert!(d < 1e-6, "gradient differs by {d}");
}
