//! The paper's K-means baseline (Table 1): Coates & Ng's single-layer network (AISTATS 2011).
//!
//! 1. 6×6 patches (all channels) from the training images, each normalised for brightness and
//!    contrast: `(p − mean(p)) / √(var(p) + 10)` on the 0–255 scale;
//! 2. ZCA whitening fitted on those patches (ε = 0.1);
//! 3. a K-means dictionary of K centroids (Lloyd's iterations from random patches);
//! 4. features of an image: every 6×6 patch at stride 1, normalised and whitened, encoded with
//!    the "triangle" activation `f_k = max(0, μ(z) − z_k)` where `z_k` is the distance to
//!    centroid k and μ(z) its mean over centroids;
//! 5. sum-pooling over the four quadrants: 4·K features.
//!
//! Encoding is a matrix product (‖p − c‖² = ‖p‖² − 2p·c + ‖c‖²) on burn.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use faer::{Mat, Side};
use rand::Rng;

use crate::data::{Dataset, Loader, Transform};
use crate::error::{Error, Result};
use crate::progress::{Events, Pass};
use crate::rng;

/// Patch side (Coates & Ng's best receptive field).
pub(crate) const PATCH: usize = 6;

/// A fitted dictionary: whitening and centroids.
#[derive(Clone, Debug)]
pub(crate) struct KMeansFeatures {
    pub channels: usize,
    pub k: usize,
    /// Patch mean (after normalisation), `PATCH²·channels`.
    mean: Vec<f32>,
    /// ZCA matrix, `d × d`.
    zca: Vec<f32>,
    /// `k × d`.
    pub centroids: Vec<f32>,
}

fn patch_dim(channels: usize) -> usize {
    PATCH * PATCH * channels
}

/// Patch at (y, x) of a `[channels, size, size]` image in [−1, 1], as 0–255 values,
/// brightness/contrast normalised.
fn patch(img: &[f32], channels: usize, size: usize, y: usize, x: usize, out: &mut [f32]) {
    let mut k = 0;
    for c in 0..channels {
        for dy in 0..PATCH {
            let row = &img[(c * size + y + dy) * size + x..][..PATCH];
            for &v in row {
                out[k] = (v + 1.0) * 127.5;
                k += 1;
            }
        }
    }
    let n = out.len() as f32;
    let mean = out.iter().sum::<f32>() / n;
    // Coates & Ng use the unbiased variance.
    let var = out.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0);
    let s = 1.0 / (var + 10.0).sqrt();
    for v in out.iter_mut() {
        *v = (*v - mean) * s;
    }
}

/// All images of a data set prepared at `size` (host memory: `n·channels·size²` floats).
fn load_images(ds: Arc<dyn Dataset>, t: Transform, limit: usize) -> Result<(usize, Vec<f32>)> {
    let mut out = Vec::new();
    let mut n = 0;
    for b in Loader::sequential(ds, limit, 256, t)? {
        let b = b?;
        out.extend_from_slice(&b.images);
        n += b.count;
    }
    Ok((n, out))
}

impl KMeansFeatures {
    /// Fit on `n_patches` random patches of the first `limit` images.
    ///
    /// Runs on Flex whatever devices the build has (the data are host vectors either way), so the
    /// dictionary is the same in a build with wgpu or CUDA: burn's default device would be the GPU
    /// there.
    pub fn fit(
        ds: Arc<dyn Dataset>,
        t: Transform,
        limit: usize,
        k: usize,
        n_patches: usize,
        iterations: u64,
        seed: u64,
    ) -> Result<Self> {
        if t.size < PATCH {
            return Err(Error::config(
                "image size",
                t.size,
                "K-means patches are 6×6",
            ));
        }
        let (n, images) = load_images(ds, t, limit)?;
        if n == 0 {
            return Err(Error::Data(
                "no readable images for the K-means dictionary".into(),
            ));
        }
        let d = patch_dim(t.channels);
        let span = t.size - PATCH + 1;
        let img_len = t.channels * t.size * t.size;
        let mut rng = rng::Stream::KMeansPatches.rng(seed);
        let mut patches = vec![0f32; n_patches * d];
        for p in patches.chunks_exact_mut(d) {
            let i = rng.random_range(0..n);
            let (y, x) = (rng.random_range(0..span), rng.random_range(0..span));
            patch(
                &images[i * img_len..(i + 1) * img_len],
                t.channels,
                t.size,
                y,
                x,
                p,
            );
        }
        // ZCA: W = V (Λ + ε)^(−½) Vᵀ of the patch covariance.
        let (mean, cov) = crate::stats::mean_and_covariance(&patches, d);
        let evd = cov
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::Data(format!("whitening failed: {e:?}")))?;
        let (u, s) = (evd.U(), evd.S());
        let scaled = Mat::<f64>::from_fn(d, d, |i, j| u[(i, j)] / (s[j].max(0.0) + 0.1).sqrt());
        let zca_m = &scaled * u.transpose();
        let zca: Vec<f32> = (0..d * d).map(|q| zca_m[(q / d, q % d)] as f32).collect();
        let mean: Vec<f32> = mean.into_iter().map(|m| m as f32).collect();
        let white = whiten(&patches, d, &mean, &zca);
        let centroids = lloyd(&white, d, k, iterations, seed, &Device::flex());
        Ok(KMeansFeatures {
            channels: t.channels,
            k,
            mean,
            zca,
            centroids,
        })
    }

    /// Features (`[n, 4k]`) of images `[n, channels, size, size]` in [−1, 1].
    pub fn encode(&self, images: &[f32], n: usize, size: usize, device: &Device) -> Vec<f32> {
        let d = patch_dim(self.channels);
        let span = size - PATCH + 1;
        let img_len = self.channels * size * size;
        let mut patches = vec![0f32; n * span * span * d];
        for i in 0..n {
            let img = &images[i * img_len..(i + 1) * img_len];
            for y in 0..span {
                for x in 0..span {
                    let at = ((i * span + y) * span + x) * d;
                    patch(img, self.channels, size, y, x, &mut patches[at..at + d]);
                }
            }
        }
        let white = whiten(&patches, d, &self.mean, &self.zca);
        let rows = n * span * span;
        let p = Tensor::<2>::from_data(TensorData::new(white, [rows, d]), device);
        let c =
            Tensor::<2>::from_data(TensorData::new(self.centroids.clone(), [self.k, d]), device);
        let pp = p.clone().powf_scalar(2.0).sum_dim(1); // [rows, 1]
        let cc = c.clone().powf_scalar(2.0).sum_dim(1).reshape([1, self.k]);
        let z = (pp + cc - p.matmul(c.transpose()) * 2.0)
            .clamp_min(0.0)
            .sqrt();
        let mu = z.clone().mean_dim(1);
        let f = (mu - z).clamp_min(0.0); // [rows, k]
        // Quadrant sum pooling over the span×span map.
        let f = f.reshape([n, span, span, self.k]);
        let h = span / 2;
        let mut quads = Vec::with_capacity(4);
        for (y0, y1) in [(0, h), (h, span)] {
            for (x0, x1) in [(0, h), (h, span)] {
                let q = f
                    .clone()
                    .slice([0..n, y0..y1, x0..x1, 0..self.k])
                    .sum_dim(1)
                    .sum_dim(2)
                    .reshape([n, self.k]);
                quads.push(q);
            }
        }
        Tensor::cat(quads, 1)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32")
    }

    /// Features of the first `limit` images of a data set, with labels (−1: none).
    pub fn extract(
        &self,
        ds: Arc<dyn Dataset>,
        t: Transform,
        limit: usize,
        device: &Device,
        events: &mut dyn Events,
        what: &str,
    ) -> Result<(Vec<f32>, Vec<i64>)> {
        let total = ds.len().min(limit);
        let mut pass = Pass::begin(events, what, total);
        let mut feats = Vec::with_capacity(total * 4 * self.k);
        let mut labels = Vec::with_capacity(total);
        let mut done = 0;
        for b in Loader::sequential(ds, total, 64, t)? {
            let b = b?;
            done += b.count + b.bad.len();
            if b.count > 0 {
                feats.extend(self.encode(&b.images, b.count, t.size, device));
                labels.extend(b.labels.iter().map(|l| l.map(|v| v as i64).unwrap_or(-1)));
            }
            pass.advance(done);
        }
        Ok((feats, labels))
    }
}

/// Lloyd's K-means on `n × d` rows: centroids start at `k` distinct random rows; each iteration
/// assigns every row to its nearest centroid, with the distances as one matrix product per chunk
/// (‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², the ‖x‖² term dropped), and moves each centroid to its rows'
/// mean; a centroid left without rows is moved to a random row. Written here because linfa-clustering's `KMeans`, which computes each row–centroid
/// distance separately, ran 6 minutes without finishing one fit on 100,000 patches (36-d)
/// with K = 1600 on 2 cores; this takes seconds.
fn lloyd(x: &[f32], d: usize, k: usize, iterations: u64, seed: u64, device: &Device) -> Vec<f32> {
    let n = x.len() / d;
    let mut rng = rng::Stream::KMeansInit.rng(seed);
    let mut centroids = Vec::with_capacity(k * d);
    for i in rand::seq::index::sample(&mut rng, n, k.min(n)) {
        centroids.extend_from_slice(&x[i * d..(i + 1) * d]);
    }
    while centroids.len() < k * d {
        // Fewer rows than centroids: repeat rows.
        let i = rng.random_range(0..n);
        centroids.extend_from_slice(&x[i * d..(i + 1) * d]);
    }
    const CHUNK: usize = 8192;
    for _ in 0..iterations {
        let c = Tensor::<2>::from_data(TensorData::new(centroids.clone(), [k, d]), device);
        let cc = c.clone().powf_scalar(2.0).sum_dim(1).reshape([1, k]);
        let mut assign = Vec::with_capacity(n);
        for start in (0..n).step_by(CHUNK) {
            let rows = CHUNK.min(n - start);
            let xs = Tensor::<2>::from_data(
                TensorData::new(x[start * d..(start + rows) * d].to_vec(), [rows, d]),
                device,
            );
            let dist = cc.clone() - xs.matmul(c.clone().transpose()) * 2.0;
            let idx = dist.argmin(1).into_data().convert::<i64>();
            let idx = idx.try_into_vec::<i64>().expect("i64");
            assign.extend(idx.into_iter().map(|v| v as usize));
        }
        let mut sums = vec![0f64; k * d];
        let mut counts = vec![0usize; k];
        for (i, &a) in assign.iter().enumerate() {
            counts[a] += 1;
            for (s, &v) in sums[a * d..(a + 1) * d]
                .iter_mut()
                .zip(&x[i * d..(i + 1) * d])
            {
                *s += v as f64;
            }
        }
        for j in 0..k {
            let dst = &mut centroids[j * d..(j + 1) * d];
            if counts[j] == 0 {
                let i = rng.random_range(0..n);
                dst.copy_from_slice(&x[i * d..(i + 1) * d]);
            } else {
                for (c, s) in dst.iter_mut().zip(&sums[j * d..(j + 1) * d]) {
                    *c = (*s / counts[j] as f64) as f32;
                }
            }
        }
    }
    centroids
}

fn whiten(x: &[f32], d: usize, mean: &[f32], zca: &[f32]) -> Vec<f32> {
    use rayon::prelude::*;
    let mut out = vec![0f32; x.len()];
    out.par_chunks_mut(d)
        .zip(x.par_chunks(d))
        .for_each(|(o, row)| {
            let c: Vec<f32> = row.iter().zip(mean).map(|(v, m)| v - m).collect();
            for (j, oj) in o.iter_mut().enumerate() {
                // ZCA is symmetric: column j = row j.
                *oj = zca[j * d..(j + 1) * d]
                    .iter()
                    .zip(&c)
                    .map(|(w, v)| w * v)
                    .sum();
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lloyd_finds_well_separated_clusters() {
        // Four tight clusters in 3-D; every centroid lands on one of them.
        let centres = [
            [0.0, 0.0, 0.0],
            [10.0, 0.0, 0.0],
            [0.0, 10.0, 0.0],
            [0.0, 0.0, 10.0],
        ];
        let mut r = rng::stream(2, rng::Purpose::Evaluation, 0);
        let noise = rng::normal(&mut r, 400 * 3, 0.0, 0.1);
        let x: Vec<f32> = (0..400)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| centres[i % 4][j] + noise[i * 3 + j])
            .collect();
        let c = lloyd(&x, 3, 4, 20, 0, &Device::flex());
        let mut found = [false; 4];
        for cj in c.chunks_exact(3) {
            let (best, dist) = centres
                .iter()
                .enumerate()
                .map(|(m, ce)| {
                    (
                        m,
                        ce.iter().zip(cj).map(|(a, b)| (a - b).powi(2)).sum::<f32>(),
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            assert!(
                dist < 0.05,
                "centroid {cj:?} is {dist} from the nearest centre"
            );
            found[best] = true;
        }
        assert_eq!(found, [true; 4]);
    }

    #[test]
    fn patches_are_brightness_and_contrast_normalised() {
        // A 6×6 grey image with values 0..35 (scaled into [−1, 1]).
        let img: Vec<f32> = (0..36).map(|v| v as f32 / 127.5 - 1.0).collect();
        let mut p = vec![0f32; 36];
        patch(&img, 1, 6, 0, 0, &mut p);
        let mean = p.iter().sum::<f32>() / 36.0;
        assert!(mean.abs() < 1e-5);
        // var of 0..35 (unbiased) = 111; scale 1/√121.
        assert!((p[35] - (35.0 - 17.5) / 11.0).abs() < 1e-4, "{}", p[35]);
    }

    #[test]
    fn whitening_makes_the_patch_covariance_near_identity() {
        // Correlated 2-D data through a hand-made ZCA (as fit computes it) with ε = 0.
        let mut r = rng::stream(1, rng::Purpose::Evaluation, 0);
        let base = rng::normal(&mut r, 2000, 0.0, 1.0);
        let x: Vec<f32> = base
            .chunks_exact(2)
            .flat_map(|p| [3.0 * p[0], 3.0 * p[0] + 0.5 * p[1]])
            .collect();
        let n = 1000.0f64;
        let mut cov = Mat::<f64>::zeros(2, 2);
        for p in x.chunks_exact(2) {
            for i in 0..2 {
                for j in 0..2 {
                    cov[(i, j)] += p[i] as f64 * p[j] as f64 / (n - 1.0);
                }
            }
        }
        let evd = cov.self_adjoint_eigen(Side::Lower).unwrap();
        let (u, s) = (evd.U(), evd.S());
        let scaled = Mat::<f64>::from_fn(2, 2, |i, j| u[(i, j)] / s[j].sqrt());
        let z = &scaled * u.transpose();
        let zca: Vec<f32> = (0..4).map(|q| z[(q / 2, q % 2)] as f32).collect();
        let w = whiten(&x, 2, &[0.0, 0.0], &zca);
        let mut c = [0f64; 4];
        for p in w.chunks_exact(2) {
            c[0] += (p[0] * p[0]) as f64 / (n - 1.0);
            c[1] += (p[0] * p[1]) as f64 / (n - 1.0);
            c[3] += (p[1] * p[1]) as f64 / (n - 1.0);
        }
        assert!(
            (c[0] - 1.0).abs() < 0.05 && (c[3] - 1.0).abs() < 0.05 && c[1].abs() < 0.05,
            "{c:?}"
        );
    }
}
