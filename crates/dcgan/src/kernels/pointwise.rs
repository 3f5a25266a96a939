//! BatchNorm fused with its activation, the activations alone, and tanh, on plain slices
//! (`[B, C, P]`: batch, channels, pixels per channel), forward and backward.
//!
//! The activation is `act(z) = z` for z > 0, `slope·z` otherwise: slope 0 is ReLU, 0.2 DCGAN's
//! LeakyReLU. Its derivative is read off the output (y > 0 exactly where z > 0), so the backward
//! passes need the output, not z. Statistics are summed per plane in 16 f32 lanes and across
//! planes in f64. Work is split over images on rayon's threads.

use rayon::prelude::*;

/// Elements per parallel task of the element-wise passes.
const TASK: usize = 1 << 15;

// Both written without branches, so that the loops calling them vectorise. `max`/`min` drop a
// NaN, so it is passed through explicitly: a diverging run must show in its losses.
fn act(z: f32, slope: f32) -> f32 {
    // (For ReLU the negative part is dropped, not multiplied by 0: 0·−∞ would be NaN.)
    let negative = if slope == 0.0 {
        0.0
    } else {
        slope * z.min(0.0)
    };
    let y = z.max(0.0) + negative;
    if z.is_nan() { z } else { y }
}

fn act_grad(y: f32, slope: f32) -> f32 {
    let positive = f32::from(u8::from(y > 0.0));
    slope + (1.0 - slope) * positive
}

/// Σ f(a[i], b[i], c[i]), in 16 lanes (vectorisable without reassociating floats).
fn lane_sum(a: &[f32], b: &[f32], c: &[f32], f: impl Fn(f32, f32, f32) -> f32) -> f64 {
    let ((a16, at), (b16, bt), (c16, ct)) = (
        a.as_chunks::<16>(),
        b.as_chunks::<16>(),
        c.as_chunks::<16>(),
    );
    let mut lanes = [0f32; 16];
    for ((a, b), c) in a16.iter().zip(b16).zip(c16) {
        for l in 0..16 {
            lanes[l] += f(a[l], b[l], c[l]);
        }
    }
    let tail: f32 = at
        .iter()
        .zip(bt)
        .zip(ct)
        .map(|((a, b), c)| f(*a, *b, *c))
        .sum();
    lanes.iter().map(|&v| v as f64).sum::<f64>() + tail as f64
}

/// Per-channel sums over all images of the two values `f(image, channel)` returns: `[C]` each.
/// Images are summed in parallel and their partial sums added in image order, so the result does
/// not depend on how rayon splits the work (resumed runs reproduce uninterrupted ones exactly).
fn channel_sums(
    batch: usize,
    channels: usize,
    f: impl Fn(usize, usize) -> (f64, f64) + Sync,
) -> (Vec<f64>, Vec<f64>) {
    let per_image: Vec<Vec<(f64, f64)>> = (0..batch)
        .into_par_iter()
        .map(|image| (0..channels).map(|c| f(image, c)).collect())
        .collect();
    let (mut a, mut b) = (vec![0f64; channels], vec![0f64; channels]);
    for sums in per_image {
        for (c, (x, y)) in sums.into_iter().enumerate() {
            a[c] += x;
            b[c] += y;
        }
    }
    (a, b)
}

/// Per-channel batch mean and biased variance of `x`, two passes (mean, then squared deviations).
pub(crate) fn channel_stats(x: &[f32], channels: usize, pixels: usize) -> (Vec<f32>, Vec<f32>) {
    let image = channels * pixels;
    let batch = x.len() / image;
    let n = (batch * pixels) as f64;
    let plane = |i: usize, c: usize| &x[i * image + c * pixels..][..pixels];
    let (sums, _) = channel_sums(batch, channels, |i, c| {
        let p = plane(i, c);
        (lane_sum(p, p, p, |x, _, _| x), 0.0)
    });
    let mean: Vec<f32> = sums.iter().map(|s| (s / n) as f32).collect();
    let (squares, _) = channel_sums(batch, channels, |i, c| {
        let (p, m) = (plane(i, c), mean[c]);
        (lane_sum(p, p, p, |x, _, _| (x - m) * (x - m)), 0.0)
    });
    let var = squares.iter().map(|s| (s / n) as f32).collect();
    (mean, var)
}

/// `y = act(x·scale[c] + shift[c])`.
pub fn scale_shift_act(
    x: &[f32],
    pixels: usize,
    scale: &[f32],
    shift: &[f32],
    slope: f32,
) -> Vec<f32> {
    let channels = scale.len();
    let mut y = vec![0.0; x.len()];
    y.par_chunks_mut(channels * pixels)
        .zip(x.par_chunks(channels * pixels))
        .for_each(|(y, x)| {
            for c in 0..channels {
                let (a, b) = (scale[c], shift[c]);
                let (y, x) = (&mut y[c * pixels..][..pixels], &x[c * pixels..][..pixels]);
                for (y, x) in y.iter_mut().zip(x) {
                    *y = act(x * a + b, slope);
                }
            }
        });
    y
}

/// The per-channel scale and shift of BatchNorm with statistics `mean`, `var`.
pub(crate) fn batch_norm_affine(
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>) {
    // A variance that overflowed f32 cannot normalise: the channel becomes NaN (as it does with
    // burn's and PyTorch's f32 statistics), so that a diverging run shows in its losses instead
    // of the layer silently outputting β.
    let scale: Vec<f32> = gamma
        .iter()
        .zip(var)
        .map(|(g, v)| match v.is_finite() {
            true => g / (*v as f64 + epsilon).sqrt() as f32,
            false => f32::NAN,
        })
        .collect();
    let shift = beta
        .iter()
        .zip(mean)
        .zip(&scale)
        .map(|((b, m), a)| b - m * a)
        .collect();
    (scale, shift)
}

/// Gradients of `y = act(x·scale[c] + shift[c])` with fixed `scale` and `shift` tensors:
/// `(dx, dscale, dshift)`.
pub(crate) fn scale_shift_act_backward(
    x: &[f32],
    y: &[f32],
    grad: &[f32],
    pixels: usize,
    scale: &[f32],
    slope: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let channels = scale.len();
    let image = channels * pixels;
    let batch = x.len() / image;
    let at = |i: usize, c: usize| i * image + c * pixels;
    let (dscale, dshift) = channel_sums(batch, channels, |i, c| {
        let o = at(i, c);
        let (x, y, g) = (&x[o..][..pixels], &y[o..][..pixels], &grad[o..][..pixels]);
        (
            lane_sum(x, y, g, |x, y, g| g * act_grad(y, slope) * x),
            lane_sum(x, y, g, |_, y, g| g * act_grad(y, slope)),
        )
    });
    let mut dx = vec![0.0; x.len()];
    dx.par_chunks_mut(image).enumerate().for_each(|(i, dx)| {
        for c in 0..channels {
            let o = at(i, c);
            let (y, g) = (&y[o..][..pixels], &grad[o..][..pixels]);
            for ((d, y), g) in dx[c * pixels..][..pixels].iter_mut().zip(y).zip(g) {
                *d = g * act_grad(*y, slope) * scale[c];
            }
        }
    });
    let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
    (dx, f32s(dscale), f32s(dshift))
}

/// What training-mode BatchNorm + activation keeps for its backward pass, per channel: the scale
/// γ, the batch mean and biased variance, ε, and the activation's negative slope.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BnSaved<'a> {
    pub gamma: &'a [f32],
    pub mean: &'a [f32],
    pub var: &'a [f32],
    pub epsilon: f64,
    pub slope: f32,
}

/// Gradients of training-mode BatchNorm (batch statistics `mean`, biased `var`) followed by the
/// activation: `(dx, dgamma, dbeta)`. With dz = dy·act'(z), x̂ = (x − μ)·r, r = 1/√(var + ε),
/// N = B·P: dβ = Σ dz, dγ = Σ dz·x̂, dx = γ·r·(dz − dβ/N − x̂·dγ/N).
pub(crate) fn batch_norm_act_backward(
    x: &[f32],
    y: &[f32],
    grad: &[f32],
    pixels: usize,
    saved: &BnSaved,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let BnSaved {
        gamma,
        mean,
        var,
        epsilon,
        slope,
    } = *saved;
    let channels = gamma.len();
    let image = channels * pixels;
    let batch = x.len() / image;
    let n = (batch * pixels) as f64;
    let rstd: Vec<f64> = var
        .iter()
        .map(|v| 1.0 / (*v as f64 + epsilon).sqrt())
        .collect();
    let at = |i: usize, c: usize| i * image + c * pixels;
    // Σ dz and Σ dz·(x − μ).
    let (sum_dz, sum_dz_xc) = channel_sums(batch, channels, |i, c| {
        let o = at(i, c);
        let (x, y, g) = (&x[o..][..pixels], &y[o..][..pixels], &grad[o..][..pixels]);
        let m = mean[c];
        (
            lane_sum(x, y, g, |_, y, g| g * act_grad(y, slope)),
            lane_sum(x, y, g, |x, y, g| g * act_grad(y, slope) * (x - m)),
        )
    });
    let dbeta: Vec<f32> = sum_dz.iter().map(|&v| v as f32).collect();
    let dgamma: Vec<f32> = sum_dz_xc
        .iter()
        .zip(&rstd)
        .map(|(v, r)| (v * r) as f32)
        .collect();
    // dx = a·dz − b·(x − μ) − a·Σdz/N, with a = γ·r, b = a·r·dγ/N.
    let coef: Vec<(f32, f32, f32)> = (0..channels)
        .map(|c| {
            let a = gamma[c] as f64 * rstd[c];
            let b = a * rstd[c] * (sum_dz_xc[c] * rstd[c]) / n;
            (
                a as f32,
                b as f32,
                (-a * sum_dz[c] / n + b * mean[c] as f64) as f32,
            )
        })
        .collect();
    let mut dx = vec![0.0; x.len()];
    dx.par_chunks_mut(image).enumerate().for_each(|(i, dx)| {
        for (c, &(a, b, k)) in coef.iter().enumerate() {
            let o = at(i, c);
            let (x, y, g) = (&x[o..][..pixels], &y[o..][..pixels], &grad[o..][..pixels]);
            let dx = &mut dx[c * pixels..][..pixels];
            for (((d, x), y), g) in dx.iter_mut().zip(x).zip(y).zip(g) {
                *d = a * g * act_grad(*y, slope) - b * x + k;
            }
        }
    });
    (dx, dgamma, dbeta)
}

/// Adam's hyper-parameters for one update, as the element-wise step uses them.
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    /// Adam's β1.
    pub beta1: f64,
    /// Adam's β2.
    pub beta2: f64,
    /// Adam's ε.
    pub eps: f64,
    /// lr / (1 − β1^t)
    pub step_size: f64,
    /// √(1 − β2^t)
    pub bias2_sqrt: f64,
}

/// One Adam update (PyTorch's formula) in place: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
/// p ← p − step_size · m / (√v / bias2_sqrt + ε). On the first step m and v are zeros.
pub(crate) fn adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], h: AdamStep) {
    assert!(
        g.len() == p.len() && m.len() == p.len() && v.len() == p.len(),
        "adam: lengths"
    );
    // Each scalar rounded to f32 once, from f64 (1 − β too), as burn's scalar operations do.
    let (keep1, keep2) = (h.beta1 as f32, h.beta2 as f32);
    let (new1, new2) = ((1.0 - h.beta1) as f32, (1.0 - h.beta2) as f32);
    let (eps, step_size, bias2_sqrt) = (h.eps as f32, h.step_size as f32, h.bias2_sqrt as f32);
    p.par_chunks_mut(TASK)
        .zip(g.par_chunks(TASK))
        .zip(m.par_chunks_mut(TASK).zip(v.par_chunks_mut(TASK)))
        .for_each(|((p, g), (m, v))| {
            for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = *m * keep1 + g * new1;
                *v = *v * keep2 + g * g * new2;
                *p -= *m / (v.sqrt() / bias2_sqrt + eps) * step_size;
            }
        });
}

/// `out[i] = f(a[i], b[i])` in parallel.
fn zip_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f32> {
    assert_eq!(a.len(), b.len());
    let mut out = vec![0.0; a.len()];
    out.par_chunks_mut(TASK)
        .zip(a.par_chunks(TASK).zip(b.par_chunks(TASK)))
        .for_each(|(o, (a, b))| {
            for ((o, a), b) in o.iter_mut().zip(a).zip(b) {
                *o = f(*a, *b);
            }
        });
    out
}

/// `out[i] = f(a[i])` in parallel.
fn map(a: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    let mut out = vec![0.0; a.len()];
    out.par_chunks_mut(TASK)
        .zip(a.par_chunks(TASK))
        .for_each(|(o, a)| o.iter_mut().zip(a).for_each(|(o, a)| *o = f(*a)));
    out
}

/// The activation alone.
pub fn activation(x: &[f32], slope: f32) -> Vec<f32> {
    map(x, |x| act(x, slope))
}

/// Its gradient, from the output.
pub(crate) fn activation_backward(y: &[f32], grad: &[f32], slope: f32) -> Vec<f32> {
    zip_map(y, grad, |y, g| g * act_grad(y, slope))
}

/// tanh of each value.
pub fn tanh(x: &[f32]) -> Vec<f32> {
    map(x, fast_tanh)
}

/// e^x for x ≤ 0 down to the f32 range, without a library call so that loops vectorise:
/// e^x = 2^n · 2^f with n = round(x·log₂e) and 2^f = e^(f·ln 2), |f| ≤ ½, from its Taylor series
/// to the 7th power (relative error below 2·10⁻⁷).
fn exp_nonpositive(x: f32) -> f32 {
    let t = (x * std::f32::consts::LOG2_E).max(-126.0);
    // Round to nearest through the float adder (1.5·2²³ pushes the fraction out).
    let n = (t + 12_582_912.0) - 12_582_912.0;
    let g = (t - n) * std::f32::consts::LN_2;
    let p = 1.0
        + g * (1.0
            + g * (1.0 / 2.0
                + g * (1.0 / 6.0
                    + g * (1.0 / 24.0 + g * (1.0 / 120.0 + g * (1.0 / 720.0 + g / 5040.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// tanh with an absolute error below 3·10⁻⁷: sign(x)·(1 − e)/(1 + e) with e = e^(−2|x|), and
/// x − x³/3 + 2x⁵/15 near 0 where the quotient would lose relative precision.
pub(crate) fn fast_tanh(x: f32) -> f32 {
    let a = x.abs();
    let e = exp_nonpositive(-2.0 * a);
    let far = ((1.0 - e) / (1.0 + e)).copysign(x);
    let x2 = x * x;
    let near = x * (1.0 - x2 * (1.0 / 3.0 - x2 * (2.0 / 15.0)));
    // (NaN fails `a < 0.004` and would take `far`, where the clamp in the exponential drops it.)
    if a < 0.004 || x.is_nan() { near } else { far }
}

/// dx = dy·(1 − y²).
pub(crate) fn tanh_backward(y: &[f32], grad: &[f32]) -> Vec<f32> {
    zip_map(y, grad, |y, g| g * (1.0 - y * y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_is_within_3e7_of_the_library_tanh() {
        let mut worst = 0f32;
        // Every 1/4096 over [−12, 12], plus the extremes and zero.
        let xs = (-12 * 4096..=12 * 4096).map(|i| i as f32 / 4096.0);
        for x in xs.chain([0.0, -0.0, 1e-30, -1e-30, 50.0, -50.0, f32::MAX, f32::MIN]) {
            let (got, want) = (fast_tanh(x), x.tanh());
            worst = worst.max((got - want).abs());
            assert!(got.abs() <= 1.0, "tanh({x}) = {got}");
        }
        assert!(worst < 3e-7, "largest error {worst}");
        assert_eq!(fast_tanh(0.0), 0.0);
        assert_eq!(fast_tanh(-1e-30), -1e-30);
        assert!(fast_tanh(f32::NAN).is_nan());
        assert_eq!(fast_tanh(f32::INFINITY), 1.0);
        assert_eq!(fast_tanh(f32::NEG_INFINITY), -1.0);
    }

    #[test]
    fn activations_pass_nan_through_and_clip_infinities() {
        for slope in [0.0, 0.2] {
            let y = activation(
                &[f32::NAN, f32::NEG_INFINITY, f32::INFINITY, -2.0, 3.0],
                slope,
            );
            assert!(y[0].is_nan(), "slope {slope}");
            assert_eq!(y[1], if slope == 0.0 { 0.0 } else { f32::NEG_INFINITY });
            assert_eq!(y[2..], [f32::INFINITY, -2.0 * slope, 3.0]);
        }
        // A NaN input reaches the output of BatchNorm + activation.
        let x = [1.0, f32::NAN, 2.0, 3.0];
        let (mean, var) = channel_stats(&x, 1, 4);
        assert!(mean[0].is_nan() && var[0].is_nan());
        let (scale, shift) = batch_norm_affine(&[1.0], &[0.0], &mean, &var, 1e-5);
        assert!(
            scale_shift_act(&x, 4, &scale, &shift, 0.2)
                .iter()
                .all(|v| v.is_nan())
        );
    }

    #[test]
    fn adam_follows_pytorchs_update_over_two_steps() {
        let n = 100_000; // more than one parallel task
        let g: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
            .collect();
        let mut p: Vec<f32> = (0..n).map(|i| (i % 13) as f32 * 0.1).collect();
        let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
        let (lr, b1, b2, eps) = (2e-4f64, 0.5f64, 0.999f64, 1e-8f64);
        let (mut rp, mut rm, mut rv): (Vec<f64>, Vec<f64>, Vec<f64>) = (
            p.iter().map(|&x| x as f64).collect(),
            vec![0.0; n],
            vec![0.0; n],
        );
        for t in 1..=2 {
            let step = AdamStep {
                beta1: b1,
                beta2: b2,
                eps,
                step_size: lr / (1.0 - b1.powi(t)),
                bias2_sqrt: (1.0 - b2.powi(t)).sqrt(),
            };
            adam(&mut p, &g, &mut m, &mut v, step);
            for i in 0..n {
                let gi = g[i] as f64;
                rm[i] = b1 * rm[i] + (1.0 - b1) * gi;
                rv[i] = b2 * rv[i] + (1.0 - b2) * gi * gi;
                let (mh, vh) = (rm[i] / (1.0 - b1.powi(t)), rv[i] / (1.0 - b2.powi(t)));
                rp[i] -= lr * mh / (vh.sqrt() + eps);
            }
        }
        let worst = p
            .iter()
            .zip(&rp)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        // Two steps move a weight by at most 2·lr; f32 rounding of p (|p| ≤ 1.2) is ~1e-7.
        assert!(
            worst < 2e-7,
            "largest difference from the f64 reference {worst}"
        );
    }
}
