//! The kernels on Flex tensors: shapes in, contiguous f32 slices to [`conv`] and [`pointwise`],
//! new tensors out.

use std::borrow::Cow;

use burn::backend::TensorMetadata;
use burn::tensor::{DType, TensorData};
use burn_flex::FlexTensor;

use super::{conv, pointwise};

fn dims(t: &FlexTensor) -> Vec<usize> {
    let shape = t.shape();
    (0..shape.num_dims()).map(|i| shape[i]).collect()
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    let shape = t.shape();
    assert_eq!(
        shape.num_dims(),
        4,
        "convolution: expected a 4-d tensor, got {shape:?}"
    );
    [shape[0], shape[1], shape[2], shape[3]]
}

/// `[B, C, P]` of a tensor of rank ≥ 2 (P = 1 for rank 2).
fn channel_layout(t: &FlexTensor) -> (usize, usize) {
    let dims = dims(t);
    assert!(
        dims.len() >= 2,
        "BatchNorm: expected [batch, channels, ...], got {dims:?}"
    );
    (dims[1], dims[2..].iter().product())
}

/// The tensor's values, contiguous, as f32.
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    assert_eq!(t.dtype(), DType::F32, "the DCGAN kernels run in f32");
    match t.as_slice::<f32>() {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn like(values: Vec<f32>, t: &FlexTensor) -> FlexTensor {
    tensor(values, dims(t))
}

fn vector(values: Vec<f32>) -> FlexTensor {
    let n = values.len();
    tensor(values, vec![n])
}

/// `x: [B, Cin, H, W]`, `weight: [Cout, Cin, k, k]`.
pub fn conv2d(x: &FlexTensor, weight: &FlexTensor, stride: usize, padding: usize) -> FlexTensor {
    let [cout, _, k, _] = dims4(weight);
    let plan = conv::Plan::conv(dims4(x), cout, k, stride, padding);
    let [cs, hs, ws] = plan.small;
    let y = conv::lower(&plan, &values(x), &values(weight));
    tensor(y, vec![plan.batch, cs, hs, ws])
}

/// `x: [B, Cin, H, W]`, `weight: [Cin, Cout, k, k]`.
pub fn conv_transpose2d(
    x: &FlexTensor,
    weight: &FlexTensor,
    stride: usize,
    padding: usize,
    output_padding: usize,
) -> FlexTensor {
    let [_, cout, k, _] = dims4(weight);
    let plan = conv::Plan::conv_transpose(dims4(x), cout, k, stride, padding, output_padding);
    let [cb, hb, wb] = plan.big;
    let y = conv::raise(&plan, &values(x), &values(weight));
    tensor(y, vec![plan.batch, cb, hb, wb])
}

/// The weight gradient `[Cs, Cb, k, k]` from the big map `[B, Cb, Hb, Wb]` and the small one
/// `[B, Cs, Hs, Ws]` (see [`conv`]): for a convolution its input and its output gradient, giving
/// `[Cout, Cin, k, k]`; for a transposed convolution its output gradient and its input, giving
/// `[Cin, Cout, k, k]`.
pub fn weight_grad(
    big: &FlexTensor,
    small: &FlexTensor,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> FlexTensor {
    let [_, cb, _, _] = dims4(big);
    let [_, cs, hs, ws] = dims4(small);
    let plan = conv::Plan::conv(dims4(big), cs, kernel, stride, padding);
    assert_eq!([hs, ws], plan.small[1..], "convolution gradient: map sizes");
    let w = conv::weight_grad(&plan, &values(big), &values(small));
    tensor(w, vec![cs, cb, kernel, kernel])
}

/// Training-mode BatchNorm and the activation: `(y, batch mean, biased batch variance)`.
pub fn batch_norm_act(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
    slope: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (channels, pixels) = channel_layout(x);
    let xv = values(x);
    let (mean, var) = pointwise::channel_stats(&xv, channels, pixels);
    let (scale, shift) =
        pointwise::batch_norm_affine(&values(gamma), &values(beta), &mean, &var, epsilon);
    let y = pointwise::scale_shift_act(&xv, pixels, &scale, &shift, slope as f32);
    (like(y, x), vector(mean), vector(var))
}

/// `(dx, dgamma, dbeta)` of [`batch_norm_act`], from its input `x`, output `y`, the output's
/// gradient and what the forward pass kept: γ, the batch `stats` (mean, biased variance), and
/// `(epsilon, slope)`.
pub(crate) fn batch_norm_act_backward(
    [x, y, grad]: [&FlexTensor; 3],
    gamma: &FlexTensor,
    (mean, var): (&FlexTensor, &FlexTensor),
    (epsilon, slope): (f64, f64),
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (_, pixels) = channel_layout(x);
    let (gamma, mean, var) = (values(gamma), values(mean), values(var));
    let saved = pointwise::BnSaved {
        gamma: &gamma,
        mean: &mean,
        var: &var,
        epsilon,
        slope: slope as f32,
    };
    let (dx, dgamma, dbeta) =
        pointwise::batch_norm_act_backward(&values(x), &values(y), &values(grad), pixels, &saved);
    (like(dx, x), vector(dgamma), vector(dbeta))
}

/// `act(x·scale[c] + shift[c])`.
pub fn scale_shift_act(
    x: &FlexTensor,
    scale: &FlexTensor,
    shift: &FlexTensor,
    slope: f64,
) -> FlexTensor {
    let (channels, pixels) = channel_layout(x);
    let (scale, shift) = (values(scale), values(shift));
    assert_eq!(scale.len(), channels, "BatchNorm: one scale per channel");
    let y = pointwise::scale_shift_act(&values(x), pixels, &scale, &shift, slope as f32);
    like(y, x)
}

/// `(dx, dscale, dshift)` of [`scale_shift_act`].
pub(crate) fn scale_shift_act_backward(
    x: &FlexTensor,
    y: &FlexTensor,
    grad: &FlexTensor,
    scale: &FlexTensor,
    slope: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (_, pixels) = channel_layout(x);
    let (dx, dscale, dshift) = pointwise::scale_shift_act_backward(
        &values(x),
        &values(y),
        &values(grad),
        pixels,
        &values(scale),
        slope as f32,
    );
    (like(dx, x), vector(dscale), vector(dshift))
}

pub fn activation(x: &FlexTensor, slope: f64) -> FlexTensor {
    like(pointwise::activation(&values(x), slope as f32), x)
}

pub(crate) fn activation_backward(y: &FlexTensor, grad: &FlexTensor, slope: f64) -> FlexTensor {
    like(
        pointwise::activation_backward(&values(y), &values(grad), slope as f32),
        y,
    )
}

pub fn tanh(x: &FlexTensor) -> FlexTensor {
    like(pointwise::tanh(&values(x)), x)
}

pub(crate) fn tanh_backward(y: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    like(pointwise::tanh_backward(&values(y), &values(grad)), y)
}

/// One Adam update of a parameter: `(p, m, v)` after it (see [`pointwise::adam`]).
pub(crate) fn adam(
    p: &FlexTensor,
    g: &FlexTensor,
    m: &FlexTensor,
    v: &FlexTensor,
    step: pointwise::AdamStep,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (mut pv, mut mv, mut vv) = (
        values(p).into_owned(),
        values(m).into_owned(),
        values(v).into_owned(),
    );
    pointwise::adam(&mut pv, &values(g), &mut mv, &mut vv, step);
    (like(pv, p), like(mv, m), like(vv, v))
}
