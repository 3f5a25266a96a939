//! The four layer kinds DCGAN needs, written on burn's functional ops so that parameter names,
//! initialisation and BatchNorm semantics are exactly PyTorch's:
//! - burn's `BatchNorm` updates the running variance with the biased batch variance, PyTorch with
//!   the unbiased one; the paper's reference code and its checkpoints follow PyTorch.
//! - burn's `BatchNorm` γ initialiser is not configurable (the paper: γ ~ N(1, 0.02)).
//! - weights are drawn on the host from the run's seed (see [`crate::rng`]), so a seed gives the
//!   same network on every backend.

use burn::module::{Module, Param, RunningState};
use burn::tensor::module::{batch_norm, batch_norm_train};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;

use crate::config::{Layer, LayerKind};
use crate::kernels;
use crate::rng;

/// Which statistics BatchNorm normalises with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BnMode {
    /// Batch statistics, and the running statistics are updated (PyTorch `train()`).
    Train,
    /// Batch statistics, running statistics left alone.
    BatchStats,
    /// Running statistics (PyTorch `eval()`).
    Eval,
}

/// N(mean, std) parameter of the given shape, drawn on the host.
fn normal_param<const D: usize>(
    shape: [usize; D],
    mean: f32,
    std: f32,
    rng: &mut impl Rng,
    device: &Device,
) -> Param<Tensor<D>> {
    let n = shape.iter().product();
    let values = rng::normal(rng, n, mean, std);
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

/// Conv weights ~ N(0, 0.02) (paper §4).
pub(crate) const WEIGHT_STD: f32 = 0.02;

/// A bias-free 2-D convolution. Weight `[out, in, k, k]` (PyTorch's layout).
#[derive(Module, Debug)]
pub struct Conv {
    /// The kernel (PyTorch layout).
    pub weight: Param<Tensor<4>>,
    /// Stride.
    pub stride: usize,
    /// Padding on each side.
    pub padding: usize,
}

impl Conv {
    /// A fresh convolution of the plan's `layer` (a [`LayerKind::Conv`]).
    pub fn new(layer: &Layer, rng: &mut impl Rng, device: &Device) -> Self {
        debug_assert_eq!(layer.kind, LayerKind::Conv, "{}", layer.name);
        let (cin, cout, k) = (layer.in_channels, layer.out_channels, layer.kernel);
        Self {
            weight: normal_param([cout, cin, k, k], 0.0, WEIGHT_STD, rng, device),
            stride: layer.stride,
            padding: layer.padding,
        }
    }

    /// `x`: `[batch, in, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        kernels::conv2d(x, self.weight.val(), self.stride, self.padding)
    }
}

/// A bias-free transposed convolution. Weight `[in, out, k, k]` (PyTorch's layout).
#[derive(Module, Debug)]
pub struct ConvT {
    /// The kernel (PyTorch layout).
    pub weight: Param<Tensor<4>>,
    /// Stride.
    pub stride: usize,
    /// Padding on each side.
    pub padding: usize,
    /// Extra output rows and columns.
    pub output_padding: usize,
}

impl ConvT {
    /// A fresh transposed convolution of the plan's `layer` (a [`LayerKind::ConvTranspose`]).
    pub fn new(layer: &Layer, rng: &mut impl Rng, device: &Device) -> Self {
        debug_assert_eq!(layer.kind, LayerKind::ConvTranspose, "{}", layer.name);
        let (cin, cout, k) = (layer.in_channels, layer.out_channels, layer.kernel);
        Self {
            weight: normal_param([cin, cout, k, k], 0.0, WEIGHT_STD, rng, device),
            stride: layer.stride,
            padding: layer.padding,
            output_padding: layer.output_padding,
        }
    }

    /// `x`: `[batch, in, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        kernels::conv_transpose2d(
            x,
            self.weight.val(),
            self.stride,
            self.padding,
            self.output_padding,
        )
    }
}

/// A bias-free dense layer, weight `[in, out]` (the authors' Theano layout; PyTorch's `Linear`
/// stores the transpose).
#[derive(Module, Debug)]
pub struct Dense {
    /// The weight, `[in, out]`.
    pub weight: Param<Tensor<2>>,
}

impl Dense {
    /// A fresh dense layer of the plan's `layer` (a [`LayerKind::Dense`]).
    pub fn new(layer: &Layer, rng: &mut impl Rng, device: &Device) -> Self {
        debug_assert_eq!(layer.kind, LayerKind::Dense, "{}", layer.name);
        Self {
            weight: normal_param(
                [layer.in_channels, layer.out_channels],
                0.0,
                WEIGHT_STD,
                rng,
                device,
            ),
        }
    }

    /// `x`: `[batch, in]` → `[batch, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val())
    }
}

/// Batch normalisation with PyTorch's semantics: normalise with the biased batch variance,
/// update `running_var` with the unbiased one, `running = (1 − momentum)·running + momentum·batch`.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Scale γ.
    pub gamma: Param<Tensor<1>>,
    /// Shift β.
    pub beta: Param<Tensor<1>>,
    /// Running mean (inference mode normalises with it).
    pub running_mean: RunningState<Tensor<1>>,
    /// Running variance, updated with the unbiased batch variance.
    pub running_var: RunningState<Tensor<1>>,
    /// ε added to the variance.
    pub eps: f64,
    /// Weight of a new batch in the running statistics.
    pub momentum: f64,
}

impl BatchNorm {
    /// γ ~ N(1, 0.02), β = 0 (paper §4 via the reference code), running mean 0, variance 1.
    pub fn new(
        features: usize,
        eps: f64,
        momentum: f64,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Self {
        Self {
            gamma: normal_param([features], 1.0, WEIGHT_STD, rng, device),
            beta: Param::from_tensor(Tensor::zeros([features], device)),
            running_mean: RunningState::new(Tensor::zeros([features], device)),
            running_var: RunningState::new(Tensor::ones([features], device)),
            eps,
            momentum,
        }
    }

    /// `x`: `[batch, features, ...]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>, mode: BnMode) -> Tensor<D> {
        if mode == BnMode::Eval {
            let device = x.device();
            return batch_norm(
                x,
                self.gamma.val(),
                self.beta.val(),
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
                self.eps,
            );
        }
        let per_feature = per_feature(&x);
        let out = batch_norm_train(x, self.gamma.val(), self.beta.val(), self.eps);
        if mode == BnMode::Train {
            self.update_running(out.mean, out.variance, per_feature);
        }
        out.output
    }

    /// `act(self.forward(x))` with `act(z) = z` for z > 0 and `slope·z` otherwise (ReLU: slope
    /// 0), fused into one kernel on Flex.
    pub(crate) fn forward_act<const D: usize>(
        &self,
        x: Tensor<D>,
        mode: BnMode,
        slope: f64,
    ) -> Tensor<D> {
        #[cfg(feature = "host")]
        if kernels::runs_on_flex(&x.device()) {
            return self.forward_act_fused(x, mode, slope);
        }
        kernels::activation(self.forward(x, mode), slope)
    }

    /// [`BatchNorm::forward_act`] as one of our kernels (Flex only).
    #[cfg(feature = "host")]
    fn forward_act_fused<const D: usize>(
        &self,
        x: Tensor<D>,
        mode: BnMode,
        slope: f64,
    ) -> Tensor<D> {
        if mode == BnMode::Eval {
            let device = x.device();
            let var = self.running_var.value().to_device(&device);
            let mean = self.running_mean.value().to_device(&device);
            let scale = self.gamma.val().div(var.add_scalar(self.eps).sqrt());
            let shift = self.beta.val().sub(mean.mul(scale.clone()));
            return kernels::scale_shift_act(x, scale, shift, slope);
        }
        let per_feature = per_feature(&x);
        let (y, mean, var) =
            kernels::batch_norm_act(x, self.gamma.val(), self.beta.val(), self.eps, slope);
        if mode == BnMode::Train {
            self.update_running(mean, var, per_feature);
        }
        y
    }

    /// running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance.
    fn update_running(&self, mean: Tensor<1>, variance: Tensor<1>, per_feature: usize) {
        let m = self.momentum;
        let unbiased = per_feature as f64 / (per_feature.max(2) - 1) as f64;
        let mean = self
            .running_mean
            .value_sync()
            .mul_scalar(1.0 - m)
            .add(mean.detach().mul_scalar(m));
        let var = self
            .running_var
            .value_sync()
            .mul_scalar(1.0 - m)
            .add(variance.detach().mul_scalar(m * unbiased));
        self.running_mean.update(mean.detach());
        self.running_var.update(var.detach());
        // Fold the per-thread update in now, so visitors (saving) see it.
        self.running_mean.value_sync();
        self.running_var.value_sync();
    }
}

/// Values per feature of `[batch, features, ...]`.
fn per_feature<const D: usize>(x: &Tensor<D>) -> usize {
    let dims = x.dims();
    dims.iter().product::<usize>() / dims[1]
}
