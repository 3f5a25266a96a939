//! The kernels on an autodiff device: each forward runs the Flex kernel and records a backward
//! step written here (burn's `Backward` trait), which calls the Flex kernels for the gradients.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Flex, TensorMetadata};
use burn_flex::FlexTensor;

use super::{DcganKernels, flex};

/// The output padding that brings a transposed convolution of `small` rows back to `big`.
fn output_padding(big: usize, small: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    big + 2 * padding - ((small - 1) * stride + kernel)
}

/// The backward step of both convolutions. A convolution's input gradient is the transposed
/// convolution of the output gradient with the same weight, and the other way round; both weight
/// gradients are [`flex::weight_grad`] of the big map and the small one.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    /// Input, weight, stride, padding, whether transposed.
    type State = (NodeId, NodeId, usize, usize, bool);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w] = ops.parents;
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (x, weight, stride, padding, transposed) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x);
        let weight: FlexTensor = checkpointer.retrieve_node_output(weight);
        let kernel = weight.shape()[2];
        if let Some(node) = node_x {
            let dx = if transposed {
                flex::conv2d(&grad, &weight, stride, padding)
            } else {
                let pad = output_padding(x.shape()[2], grad.shape()[2], kernel, stride, padding);
                flex::conv_transpose2d(&grad, &weight, stride, padding, pad)
            };
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_w {
            let (big, small) = if transposed { (&grad, &x) } else { (&x, &grad) };
            let dw = flex::weight_grad(big, small, kernel, stride, padding);
            grads.register::<Flex>(node.id, dw);
        }
    }
}

/// Records `y = forward(x, weight)` with [`ConvBackward`].
fn tracked_conv<C: CheckpointStrategy>(
    x: Tensor<C>,
    weight: Tensor<C>,
    (stride, padding, transposed): (usize, usize, bool),
    forward: impl FnOnce(&FlexTensor, &FlexTensor) -> FlexTensor,
) -> Tensor<C> {
    let y = forward(x.primitive(), weight.primitive());
    match ConvBackward
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let (xs, ws) = (prep.checkpoint(&x), prep.checkpoint(&weight));
            prep.finish((xs, ws, stride, padding, transposed), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

#[derive(Debug)]
struct BatchNormActBackward;

impl Backward<Flex, 3> for BatchNormActBackward {
    /// Input, γ, output, batch mean, batch variance, ε, slope.
    type State = (NodeId, NodeId, FlexTensor, FlexTensor, FlexTensor, f64, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (x, gamma, y, mean, var, epsilon, slope) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x);
        let gamma: FlexTensor = checkpointer.retrieve_node_output(gamma);
        let (dx, dgamma, dbeta) =
            flex::batch_norm_act_backward([&x, &y, &grad], &gamma, (&mean, &var), (epsilon, slope));
        for (node, g) in [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

#[derive(Debug)]
struct ScaleShiftActBackward;

impl Backward<Flex, 3> for ScaleShiftActBackward {
    /// Input, scale, output, slope.
    type State = (NodeId, NodeId, FlexTensor, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_scale, node_shift] = ops.parents;
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (x, scale, y, slope) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x);
        let scale: FlexTensor = checkpointer.retrieve_node_output(scale);
        let (dx, dscale, dshift) = flex::scale_shift_act_backward(&x, &y, &grad, &scale, slope);
        for (node, g) in [(node_x, dx), (node_scale, dscale), (node_shift, dshift)] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

#[derive(Debug)]
struct ActivationBackward;

impl Backward<Flex, 1> for ActivationBackward {
    /// Output, slope.
    type State = (FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (y, slope) = ops.state;
        if let Some(node) = node {
            grads.register::<Flex>(node.id, flex::activation_backward(&y, &grad, slope));
        }
    }
}

#[derive(Debug)]
struct TanhBackward;

impl Backward<Flex, 1> for TanhBackward {
    /// Output.
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        if let Some(node) = node {
            grads.register::<Flex>(node.id, flex::tanh_backward(&ops.state, &grad));
        }
    }
}

type Tensor<C> = FloatTensor<Autodiff<Flex, C>>;

impl<C: CheckpointStrategy> DcganKernels for Autodiff<Flex, C> {
    fn dcgan_conv2d(x: Tensor<C>, weight: Tensor<C>, stride: usize, padding: usize) -> Tensor<C> {
        tracked_conv::<C>(x, weight, (stride, padding, false), |x, w| {
            flex::conv2d(x, w, stride, padding)
        })
    }

    fn dcgan_conv_transpose2d(
        x: Tensor<C>,
        weight: Tensor<C>,
        stride: usize,
        padding: usize,
        output_padding: usize,
    ) -> Tensor<C> {
        tracked_conv::<C>(x, weight, (stride, padding, true), |x, w| {
            flex::conv_transpose2d(x, w, stride, padding, output_padding)
        })
    }

    fn dcgan_batch_norm_act(
        x: Tensor<C>,
        gamma: Tensor<C>,
        beta: Tensor<C>,
        epsilon: f64,
        slope: f64,
    ) -> (Tensor<C>, Tensor<C>, Tensor<C>) {
        let (y, mean, var) = flex::batch_norm_act(
            x.primitive(),
            gamma.primitive(),
            beta.primitive(),
            epsilon,
            slope,
        );
        let stats = (
            Tensor::<C>::new(mean.clone()),
            Tensor::<C>::new(var.clone()),
        );
        let y = match BatchNormActBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (
                    prep.checkpoint(&x),
                    prep.checkpoint(&gamma),
                    y.clone(),
                    mean,
                    var,
                    epsilon,
                    slope,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        };
        (y, stats.0, stats.1)
    }

    fn dcgan_scale_shift_act(
        x: Tensor<C>,
        scale: Tensor<C>,
        shift: Tensor<C>,
        slope: f64,
    ) -> Tensor<C> {
        let y = flex::scale_shift_act(x.primitive(), scale.primitive(), shift.primitive(), slope);
        match ScaleShiftActBackward
            .prepare::<C>([x.node(), scale.node(), shift.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (
                    prep.checkpoint(&x),
                    prep.checkpoint(&scale),
                    y.clone(),
                    slope,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn dcgan_activation(x: Tensor<C>, slope: f64) -> Tensor<C> {
        let y = flex::activation(x.primitive(), slope);
        match ActivationBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((y.clone(), slope), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn dcgan_tanh(x: Tensor<C>) -> Tensor<C> {
        let y = flex::tanh(x.primitive());
        match TanhBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(y.clone(), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    // Parameters are updated outside the graph: untracked in, untracked out.
    fn dcgan_adam(
        p: Tensor<C>,
        g: Tensor<C>,
        m: Tensor<C>,
        v: Tensor<C>,
        step: super::pointwise::AdamStep,
    ) -> (Tensor<C>, Tensor<C>, Tensor<C>) {
        let (p, m, v) = flex::adam(
            p.primitive(),
            g.primitive(),
            m.primitive(),
            v.primitive(),
            step,
        );
        (
            Tensor::<C>::new(p),
            Tensor::<C>::new(m),
            Tensor::<C>::new(v),
        )
    }
}
