//! The network's input: images in the project's layout resampled to 299×299 as the reference
//! FID code does, and the pool features of a batch.

use burn::tensor::{Device, Tensor, TensorData};

use super::{Engine, INPUT_SIZE, Inception};

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

/// Network input from images in [−1, 1] (the project's layout, `[N, C, S, S]` flattened, C = 1
/// or 3): pixels to [0, 1], grey to three channels, bilinear resize to 299×299, then
/// `x·255/128 − 1` (the TF network's input range). Returns `[N, 3, 299, 299]` values.
pub fn prepare(images: &[f32], n: usize, channels: usize, size: usize) -> Vec<f32> {
    const S: usize = INPUT_SIZE;
    let taps = bilinear_taps(size, S);
    let mut out = vec![0f32; n * 3 * S * S];
    let mut rows = vec![0f32; S * size];
    for i in 0..n {
        for c in 0..3 {
            let src_c = if channels == 1 { 0 } else { c };
            let plane = &images[(i * channels + src_c) * size * size..][..size * size];
            // Horizontal pass: each source row to S samples.
            for y in 0..size {
                let row = &plane[y * size..(y + 1) * size];
                for (x, &(a, b, t)) in taps.iter().enumerate() {
                    let (va, vb) = ((row[a] + 1.0) * 0.5, (row[b] + 1.0) * 0.5);
                    rows[y * S + x] = va + (vb - va) * t;
                }
            }
            // Vertical pass, then the network's scaling.
            let dst = &mut out[(i * 3 + c) * S * S..][..S * S];
            for (y, &(a, b, t)) in taps.iter().enumerate() {
                for x in 0..S {
                    let (va, vb) = (rows[a * S + x], rows[b * S + x]);
                    let v = va * (1.0 - t) + vb * t;
                    dst[y * S + x] = v * (255.0 / 128.0) - 1.0;
                }
            }
        }
    }
    out
}

/// Pool features of images in [−1, 1] (`[n, channels, size, size]` flattened), in batches.
pub fn features_of(
    net: &Inception,
    images: &[f32],
    n: usize,
    channels: usize,
    size: usize,
    device: &Device,
) -> Vec<f32> {
    let x = prepare(images, n, channels, size);
    match net.engine {
        Engine::Kernels => {
            // One image per task: its maps stay in the core's caches. (Several images per map,
            // for more rows in the 8×8 layers' products, measured no faster.)
            use rayon::prelude::*;
            x.par_chunks(3 * INPUT_SIZE * INPUT_SIZE)
                .flat_map_iter(|image| net.features_host(image))
                .collect()
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
}
