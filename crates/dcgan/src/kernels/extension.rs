//! The operations on Flex tensors through burn's backend extension: [`DcganKernels`] routes
//! them to the Flex kernels (`flex`) or, on autodiff tensors, to their backward steps
//! (`autodiff`). Only the `host` feature builds this; elsewhere [`super`]'s functions use
//! burn's own operations.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;
use burn_flex::FlexTensor;

use super::{flex, pointwise, runs_on_flex};

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
    /// tanh of `x`.
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

/// A bias-free convolution of Flex tensors.
pub(super) fn conv2d(x: Tensor<4>, weight: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    let (x, w) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_conv2d(
        x, w, stride, padding,
    ))
}

/// A bias-free transposed convolution of Flex tensors.
pub(super) fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: usize,
    padding: usize,
    output_padding: usize,
) -> Tensor<4> {
    let (x, w) = (x.into_dispatch(), weight.into_dispatch());
    let y =
        <Dispatch as DcganKernels>::dcgan_conv_transpose2d(x, w, stride, padding, output_padding);
    Tensor::from_dispatch(y)
}

pub(super) fn activation<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_activation(
        x.into_dispatch(),
        slope,
    ))
}

pub(super) fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as DcganKernels>::dcgan_tanh(x.into_dispatch()))
}

/// `act(BatchNorm(x))` with batch statistics, `x: [batch, channels, ...]`: the output, the batch
/// mean and the biased batch variance. Flex only: callers check [`super::runs_on_flex`] and compose
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
