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
//! - `extension`: burn's backend extension that routes Flex tensors to them;
//! - the functions below: the operations on [`Tensor`]s, which use the kernels when the tensor
//!   lives on Flex and burn's own operations on any other device (CUDA, wgpu).

#[cfg(feature = "host")]
mod autodiff;
#[cfg(feature = "host")]
pub mod conv;
#[cfg(feature = "host")]
mod extension;
#[cfg(feature = "host")]
mod flex;
#[cfg(feature = "host")]
pub mod pointwise;

use burn::tensor::Tensor;

#[cfg(feature = "host")]
pub use extension::{DcganKernels, adam_update, batch_norm_act, scale_shift_act};

/// Whether our kernels serve tensors on `device`: Flex (with or without autodiff) when the
/// crate is built with the `host` feature; never without it (the browser build), where every
/// operation below is burn's own.
pub fn runs_on_flex(device: &burn::tensor::Device) -> bool {
    #[cfg(feature = "host")]
    {
        use burn::backend::DispatchDevice;
        matches!(
            device.as_dispatch().clone().inner(),
            DispatchDevice::Flex(_)
        )
    }
    #[cfg(not(feature = "host"))]
    {
        let _ = device;
        false
    }
}

/// A bias-free convolution.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    #[cfg(feature = "host")]
    if runs_on_flex(&x.device()) {
        return extension::conv2d(x, weight, stride, padding);
    }
    let options = burn::tensor::ops::ConvOptions::new([stride; 2], [padding; 2], [1, 1], 1);
    burn::tensor::module::conv2d(x, weight, None, options)
}

/// A bias-free transposed convolution.
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: usize,
    padding: usize,
    output_padding: usize,
) -> Tensor<4> {
    #[cfg(feature = "host")]
    if runs_on_flex(&x.device()) {
        return extension::conv_transpose2d(x, weight, stride, padding, output_padding);
    }
    let options = burn::tensor::ops::ConvTransposeOptions::new(
        [stride; 2],
        [padding; 2],
        [output_padding; 2],
        [1, 1],
        1,
    );
    burn::tensor::module::conv_transpose2d(x, weight, None, options)
}

/// `x` where positive, `slope·x` elsewhere (ReLU for slope 0).
pub fn activation<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    #[cfg(feature = "host")]
    if runs_on_flex(&x.device()) {
        return extension::activation(x, slope);
    }
    if slope == 0.0 {
        burn::tensor::activation::relu(x)
    } else {
        // relu has a fused backward on autodiff devices, leaky_relu does not.
        let relu = burn::tensor::activation::relu(x.clone());
        relu.mul_scalar(1.0 - slope).add(x.mul_scalar(slope))
    }
}

/// tanh, with this project's kernel on the CPU backend.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "host")]
    if runs_on_flex(&x.device()) {
        return extension::tanh(x);
    }
    burn::tensor::activation::tanh(x)
}
