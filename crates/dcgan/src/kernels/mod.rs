//! DCGAN's heavy operations as our own CPU kernels on the Flex backend, with their backward
//! passes: convolution, transposed convolution, training-mode BatchNorm fused with its
//! activation, BatchNorm with fixed statistics fused with its activation, ReLU/LeakyReLU, tanh;
//! and Adam's update as one parallel pass.
//!
//! Why they are written here: burn-flex 0.22.1 implements the forward convolutions itself (im2col
//! per image and per 512-pixel tile, the weight re-packed for every tile), but none of their
//! backward passes. burn's generic fallbacks compute a convolution's weight gradient as another
//! convolution over batch/channel-swapped copies, with the output gradient as a dilated kernel
//! (GEMMs with n = 16); together those were 60 % of a training step. BatchNorm and the
//! activations are burn's generic compositions of single-threaded element-wise ops, each a node of
//! the autodiff graph. burn's extension point (`#[backend_extension]`) lets a crate supply an
//! operation with its own backward; docs/performance.md has the measurements.
//!
//! - [`conv`], [`pointwise`]: the kernels on plain slices (the FID network's channels-last
//!   kernels are `eval::inception::nhwc`, beside the network that uses them);
//! - `flex`: the same on Flex tensors;
//! - `autodiff`: the backward steps;
//! - the functions below: the operations on [`Tensor`]s, which use the kernels when the tensor
//!   lives on Flex and burn's own operations on any other device (CUDA, wgpu).

mod autodiff;
pub mod conv;
mod flex;
pub mod pointwise;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, Flex, backend_extension};
use burn::tensor::Tensor;
use burn_flex::FlexTensor;

/// The operations, routed by the backend extension to Flex or to our autodiff steps over Flex.
#[backend_extension(Flex, Autodiff)]
pub trait DcganKernels: Backend {
    /// `x: [B, Cin, H, W]`, `weight: [Cout, Cin, k, k]`.
    fn dcgan_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;
    /// `x: [B, Cin, H, W]`, `weight: [Cin, Cout, k, k]`.
    fn dcgan_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
        output_padding: usize,
    ) -> FloatTensor<Self>;
    /// `act(BatchNorm(x))` with batch statistics; returns the output, the batch mean and the
    /// biased batch variance.
    fn dcgan_batch_norm_act(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    /// `act(x·scale[c] + shift[c])`.
    fn dcgan_scale_shift_act(
        x: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        slope: f64,
    ) -> FloatTensor<Self>;
    /// `x` where positive, `slope·x` elsewhere.
    fn dcgan_activation(x: FloatTensor<Self>, slope: f64) -> FloatTensor<Self>;
    fn dcgan_tanh(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// One Adam update of a flattened parameter `p` with gradient `g` and moments `m`, `v`
    /// (zeros before the first step): the new `(p, m, v)`. Not differentiable.
    fn dcgan_adam(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: pointwise::AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

impl DcganKernels for Flex {
    fn dcgan_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        flex::conv2d(&x, &weight, stride, padding)
    }

    fn dcgan_conv_transpose2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride: usize,
        padding: usize,
        output_padding: usize,
    ) -> FlexTensor {
        flex::conv_transpose2d(&x, &weight, stride, padding, output_padding)
    }

    fn dcgan_batch_norm_act(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        slope: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        flex::batch_norm_act(&x, &gamma, &beta, epsilon, slope)
    }

    fn dcgan_scale_shift_act(
        x: FlexTensor,
        scale: FlexTensor,
        shift: FlexTensor,
        slope: f64,
    ) -> FlexTensor {
        flex::scale_shift_act(&x, &scale, &shift, slope)
    }

    fn dcgan_activation(x: FlexTensor, slope: f64) -> FlexTensor {
        flex::activation(&x, slope)
    }

    fn dcgan_tanh(x: FlexTensor) -> FlexTensor {
        flex::tanh(&x)
    }

    fn dcgan_adam(
        p: FlexTensor,
        g: FlexTensor,
        m: FlexTensor,
        v: FlexTensor,
        step: pointwise::AdamStep,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        flex::adam(&p, &g, &m, &v, step)
    }
}

/// Whether tensors on `device` run on Flex (with or without autodiff).
pub fn runs_on_flex(device: &burn::tensor::Device) -> bool {
    matches!(
        device.as_dispatch().clone().inner(),
        DispatchDevice::Flex(_)
    )
}

/// A bias-free convolution.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    if runs_on_flex(&x.device()) {
        let (x, w) = (x.into_dispatch(), weight.into_dispatch());
        Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_conv2d(
            x, w, stride, padding,
        ))
    } else {
        let options = burn::tensor::ops::ConvOptions::new([stride; 2], [padding; 2], [1, 1], 1);
        burn::tensor::module::conv2d(x, weight, None, options)
    }
}

/// A bias-free transposed convolution.
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: usize,
    padding: usize,
    output_padding: usize,
) -> Tensor<4> {
    if runs_on_flex(&x.device()) {
        let (x, w) = (x.into_dispatch(), weight.into_dispatch());
        let y = <Dispatch as DcganKernels>::dcgan_conv_transpose2d(
            x,
            w,
            stride,
            padding,
            output_padding,
        );
        Tensor::from_dispatch(y)
    } else {
        let options = burn::tensor::ops::ConvTransposeOptions::new(
            [stride; 2],
            [padding; 2],
            [output_padding; 2],
            [1, 1],
            1,
        );
        burn::tensor::module::conv_transpose2d(x, weight, None, options)
    }
}

/// `act(BatchNorm(x))` with batch statistics, `x: [batch, channels, ...]`: the output, the batch
/// mean and the biased batch variance. Flex only: callers check [`runs_on_flex`] and compose
/// burn's operations elsewhere.
pub fn batch_norm_act<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
    slope: f64,
) -> (Tensor<D>, Tensor<1>, Tensor<1>) {
    assert!(runs_on_flex(&x.device()), "batch_norm_act: a Flex kernel");
    let (x, g, b) = (
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
    );
    let (y, mean, var) = <Dispatch as DcganKernels>::dcgan_batch_norm_act(x, g, b, epsilon, slope);
    (
        Tensor::from_dispatch(y),
        Tensor::from_dispatch(mean),
        Tensor::from_dispatch(var),
    )
}

/// `act(x·scale[c] + shift[c])`, `x: [batch, channels, ...]`. Flex only, as [`batch_norm_act`].
pub fn scale_shift_act<const D: usize>(
    x: Tensor<D>,
    scale: Tensor<1>,
    shift: Tensor<1>,
    slope: f64,
) -> Tensor<D> {
    assert!(runs_on_flex(&x.device()), "scale_shift_act: a Flex kernel");
    let (x, a, b) = (
        x.into_dispatch(),
        scale.into_dispatch(),
        shift.into_dispatch(),
    );
    Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_scale_shift_act(
        x, a, b, slope,
    ))
}

/// `x` where positive, `slope·x` elsewhere (ReLU for slope 0).
pub fn activation<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    if runs_on_flex(&x.device()) {
        Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_activation(
            x.into_dispatch(),
            slope,
        ))
    } else if slope == 0.0 {
        burn::tensor::activation::relu(x)
    } else {
        // relu has a fused backward on autodiff devices, leaky_relu does not.
        let relu = burn::tensor::activation::relu(x.clone());
        relu.mul_scalar(1.0 - slope).add(x.mul_scalar(slope))
    }
}

pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if runs_on_flex(&x.device()) {
        Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_tanh(x.into_dispatch()))
    } else {
        burn::tensor::activation::tanh(x)
    }
}

/// One Adam update of `p` (any shape) with the flattened gradient `g` and moments `m`, `v`
/// (`None` before the first step), as one parallel pass: the new `(p, m, v)`. Flex only, as
/// [`batch_norm_act`].
pub fn adam_update<const D: usize>(
    p: Tensor<D>,
    g: Tensor<1>,
    moments: Option<(Tensor<1>, Tensor<1>)>,
    step: pointwise::AdamStep,
) -> (Tensor<D>, Tensor<1>, Tensor<1>) {
    assert!(runs_on_flex(&p.device()), "adam_update: a Flex kernel");
    let (m, v) = moments.unwrap_or_else(|| {
        let zeros = Tensor::<1>::zeros(g.dims(), &g.device());
        (zeros.clone(), zeros)
    });
    let (p, m, v) = <Dispatch as DcganKernels>::dcgan_adam(
        p.into_dispatch(),
        g.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        step,
    );
    (
        Tensor::from_dispatch(p),
        Tensor::from_dispatch(m),
        Tensor::from_dispatch(v),
    )
}
