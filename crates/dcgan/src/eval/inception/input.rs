//! The network's input: images in the project's layout resampled to 299×299 and scaled as each
//! reference FID implementation does ([`FidMode`]), and the pool features of a batch.
//!
//! The three resamplers are written here because each must equal one library's arithmetic to
//! the last bits: PyTorch's `interpolate(mode="bilinear")`, TensorFlow 1's `resize_bilinear`
//! (as NVIDIA's metric network does it) and PIL's bicubic `resize` of float images. No Rust
//! image crate computes any of the three the same way.

use burn::tensor::{Device, Tensor, TensorData};

use super::{Engine, INPUT_SIZE, Inception};
use crate::config::FidMode;

/// Bilinear resampling weights from `n_in` to `n_out` samples with half-pixel centres and no
/// antialiasing (PyTorch's `interpolate(mode="bilinear", align_corners=False)`): for each
/// output, the two source indices and the weight of the second.
fn bilinear_taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32)> {
    let scale = n_in as f32 / n_out as f32;
    (0..n_out)
        .map(|o| {
            let src = (scale * (o as f32 + 0.5) - 0.5).max(0.0);
            let i0 = (src as usize).min(n_in - 1);
            let i1 = if i0 < n_in - 1 { i0 + 1 } else { i0 };
            (i0, i1, src - i0 as f32)
        })
        .collect()
}

/// TensorFlow 1's `resize_bilinear` without half-pixel centres: output `o` reads source
/// position `o · n_in / n_out`, clamped to the last sample (NVIDIA's metric network does it with
/// `grid_sample` and border padding, which comes to the same).
fn tf1_bilinear_taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32)> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            let src = (o as f64 * scale).min((n_in - 1) as f64);
            let i0 = src.floor() as usize;
            let i1 = (i0 + 1).min(n_in - 1);
            (i0, i1, (src - i0 as f64) as f32)
        })
        .collect()
}

/// PIL's bicubic kernel (a = −0.5).
fn pil_bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// PIL's resampling coefficients for the bicubic filter from `n_in` to `n_out` samples
/// (Pillow's `precompute_coeffs`: the kernel widened by the scale when shrinking, each output's
/// weights normalised to sum to 1): for each output, its first source index and weights.
fn pil_bicubic_taps(n_in: usize, n_out: usize) -> Vec<(usize, Vec<f64>)> {
    const SUPPORT: f64 = 2.0;
    let scale = n_in as f64 / n_out as f64;
    let filter_scale = scale.max(1.0);
    let support = SUPPORT * filter_scale;
    (0..n_out)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            // C's `(int)` truncates toward zero, as `as i64` does.
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).min(n_in as i64) as usize;
            let mut w: Vec<f64> = (lo..hi)
                .map(|x| pil_bicubic((x as f64 - center + 0.5) / filter_scale))
                .collect();
            let sum: f64 = w.iter().sum();
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            (lo, w)
        })
        .collect()
}

/// One image plane (`size × size`, values as given) resized to 299×299 by two-tap linear
/// interpolation along rows (into `rows`, `299 × size`), then columns.
fn linear_plane(
    plane: &[f32],
    size: usize,
    taps: &[(usize, usize, f32)],
    rows: &mut [f32],
    dst: &mut [f32],
) {
    const S: usize = INPUT_SIZE;
    for y in 0..size {
        let row = &plane[y * size..(y + 1) * size];
        for (x, &(a, b, t)) in taps.iter().enumerate() {
            let (va, vb) = (row[a], row[b]);
            rows[y * S + x] = va + (vb - va) * t;
        }
    }
    for (y, &(a, b, t)) in taps.iter().enumerate() {
        for x in 0..S {
            let (va, vb) = (rows[a * S + x], rows[b * S + x]);
            dst[y * S + x] = va * (1.0 - t) + vb * t;
        }
    }
}

/// One image plane resized to 299×299 as PIL resizes a mode-"F" image: rows first (into
/// `rows`, `299 × size`), sums in f64, each pass stored as f32.
fn pil_plane(
    plane: &[f32],
    size: usize,
    taps: &[(usize, Vec<f64>)],
    rows: &mut [f32],
    dst: &mut [f32],
) {
    const S: usize = INPUT_SIZE;
    for y in 0..size {
        let row = &plane[y * size..(y + 1) * size];
        for (x, (lo, w)) in taps.iter().enumerate() {
            let s: f64 = w.iter().zip(&row[*lo..]).map(|(k, v)| k * *v as f64).sum();
            rows[y * S + x] = s as f32;
        }
    }
    for (y, (lo, w)) in taps.iter().enumerate() {
        for x in 0..S {
            let s: f64 = w
                .iter()
                .enumerate()
                .map(|(j, k)| k * rows[(lo + j) * S + x] as f64)
                .sum();
            dst[y * S + x] = s as f32;
        }
    }
}

/// Network input from images in [−1, 1] (the project's layout, `[N, C, S, S]` flattened, C = 1
/// or 3), prepared as `mode` says: grey to three channels, resized to 299×299, scaled to the
/// network's range. Returns `[N, 3, 299, 299]` values.
pub fn prepare(images: &[f32], n: usize, channels: usize, size: usize, mode: FidMode) -> Vec<f32> {
    const S: usize = INPUT_SIZE;
    let mut out = vec![0f32; n * 3 * S * S];
    let mut plane = vec![0f32; size * size];
    let mut rows = vec![0f32; S * size];
    let linear = match mode {
        FidMode::LegacyPytorch | FidMode::LegacyDcgan => bilinear_taps(size, S),
        FidMode::LegacyTensorflow => tf1_bilinear_taps(size, S),
        FidMode::Clean => Vec::new(),
    };
    let bicubic = match mode {
        FidMode::Clean => pil_bicubic_taps(size, S),
        _ => Vec::new(),
    };
    for i in 0..n {
        for c in 0..3 {
            let src_c = if channels == 1 { 0 } else { c };
            let src = &images[(i * channels + src_c) * size * size..][..size * size];
            let dst = &mut out[(i * 3 + c) * S * S..][..S * S];
            match mode {
                // On [0, 1], as pytorch-fid and this project before the modes resized.
                FidMode::LegacyPytorch | FidMode::LegacyDcgan => {
                    for (p, v) in plane.iter_mut().zip(src) {
                        *p = (v + 1.0) * 0.5;
                    }
                    linear_plane(&plane, size, &linear, &mut rows, dst);
                    if mode == FidMode::LegacyPytorch {
                        dst.iter_mut().for_each(|v| *v = 2.0 * *v - 1.0);
                    } else {
                        dst.iter_mut().for_each(|v| *v = *v * (255.0 / 128.0) - 1.0);
                    }
                }
                // On [0, 255], as clean-fid and the TensorFlow code resize.
                FidMode::LegacyTensorflow | FidMode::Clean => {
                    for (p, v) in plane.iter_mut().zip(src) {
                        *p = (v + 1.0) * 127.5;
                    }
                    if mode == FidMode::Clean {
                        pil_plane(&plane, size, &bicubic, &mut rows, dst);
                        dst.iter_mut()
                            .for_each(|v| *v = (v.clamp(0.0, 255.0) - 128.0) / 128.0);
                    } else {
                        linear_plane(&plane, size, &linear, &mut rows, dst);
                        dst.iter_mut().for_each(|v| *v = (*v - 128.0) / 128.0);
                    }
                }
            }
        }
    }
    out
}

/// How many groups `n` images are split into for `threads` threads: about
/// [`super::LATE_GROUP`] images each, a multiple of `threads` groups while there are images
/// enough, so that the threads finish together.
fn task_groups(n: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    n.div_ceil(super::LATE_GROUP)
        .next_multiple_of(threads)
        .min(n)
        .max(1)
}

/// Pool features of images in [−1, 1] (`[n, channels, size, size]` flattened), prepared as
/// `mode` says.
pub fn features_of(
    net: &Inception,
    images: &[f32],
    (n, channels, size): (usize, usize, usize),
    mode: FidMode,
    device: &Device,
) -> Vec<f32> {
    let x = prepare(images, n, channels, size, mode);

    match net.engine {
        Engine::Kernels => {
            // Groups of about LATE_GROUP images, one a task, as many tasks as a multiple of
            // the threads (50 images on 2 threads: 8 groups of 6 or 7, 25 images a thread).
            use rayon::prelude::*;
            const IMAGE: usize = 3 * INPUT_SIZE * INPUT_SIZE;
            let groups = task_groups(n, rayon::current_num_threads());
            let bounds: Vec<usize> = (0..=groups).map(|g| g * n / groups).collect();
            let parts: Vec<Vec<f32>> = bounds
                .par_windows(2)
                .map(|b| net.features_host(&x[b[0] * IMAGE..b[1] * IMAGE]))
                .collect();
            parts.concat()
        }
        Engine::Burn => {
            let x =
                Tensor::<4>::from_data(TensorData::new(x, [n, 3, INPUT_SIZE, INPUT_SIZE]), device);
            net.forward(x)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 features")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_grouped_evenly_over_the_threads() {
        // (images, threads, groups): 50 on 2 threads in 8 groups of 6 or 7.
        assert_eq!(super::super::LATE_GROUP, 8);
        for (n, threads, groups) in [
            (50, 2, 8),
            (50, 1, 7),
            (16, 2, 2),
            (17, 2, 4),
            (3, 2, 2),
            (1, 2, 1),
            (0, 2, 1),
            (128, 16, 16),
            (5, 16, 5),
        ] {
            assert_eq!(
                task_groups(n, threads),
                groups,
                "{n} images, {threads} threads"
            );
        }
    }

    #[test]
    fn bilinear_taps_follow_half_pixel_centres() {
        // 2 → 4: sources at −0.25 (clamped to 0), 0.25, 0.75, 1.25 (last index clamps).
        let t = bilinear_taps(2, 4);
        assert_eq!((t[0].0, t[0].1), (0, 1));
        assert_eq!(t[0].2, 0.0);
        assert_eq!((t[1].0, t[1].1, t[1].2), (0, 1, 0.25));
        assert_eq!((t[2].0, t[2].1, t[2].2), (0, 1, 0.75));
        assert_eq!((t[3].0, t[3].1), (1, 1));
        // Same size: identity.
        for (o, &(a, _, w)) in bilinear_taps(5, 5).iter().enumerate() {
            assert_eq!((a, w), (o, 0.0));
        }
    }

    #[test]
    fn tensorflow_taps_align_corners_at_the_origin() {
        // 2 → 4: sources at 0, 0.5, 1 and 1.5 (clamped to the last sample).
        let t = tf1_bilinear_taps(2, 4);
        assert_eq!(t, vec![(0, 1, 0.0), (0, 1, 0.5), (1, 1, 0.0), (1, 1, 0.0)]);
    }

    #[test]
    fn pil_bicubic_taps_are_normalised_and_the_identity_at_equal_size() {
        for (o, (lo, w)) in pil_bicubic_taps(6, 6).iter().enumerate() {
            let at = |i: usize| w.get(i.wrapping_sub(*lo)).copied().unwrap_or(0.0);
            for i in 0..6 {
                assert_eq!(
                    at(i),
                    if i == o { 1.0 } else { 0.0 },
                    "output {o}, source {i}"
                );
            }
        }
        // Enlarging 32 → 299: four taps inside the image, weights summing to 1; shrinking
        // 300 → 100: the kernel widens threefold (antialiasing), 12 or 13 taps.
        for (n_in, n_out, most) in [(32, 299, 4), (300, 100, 13)] {
            for (lo, w) in pil_bicubic_taps(n_in, n_out) {
                assert!(w.len() <= most && lo + w.len() <= n_in);
                assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }
}
