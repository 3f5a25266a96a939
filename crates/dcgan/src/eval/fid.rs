//! Fréchet Inception Distance and Kernel Inception Distance over Inception pool features.
//!
//! - FID (Heusel et al. 2017): `|μ₁−μ₂|² + Tr(Σ₁ + Σ₂ − 2·(Σ₁Σ₂)^½)`, in float64, covariances
//!   with N−1. The trace of the matrix square root is computed as Σ√λ over the eigenvalues of
//!   the symmetric `Σ₁^½ Σ₂ Σ₁^½` (which has the eigenvalues of Σ₁Σ₂), so no general `sqrtm` is
//!   needed; faer does the two symmetric eigendecompositions.
//! - KID (Bińkowski et al. 2018): the unbiased MMD² with the cubic polynomial kernel
//!   `k(x, y) = (x·y/d + 1)³`, averaged over random subsets.
//!
//! Statistics are cached as `.npz` files with arrays `mu` and `sigma` (pytorch-fid's layout,
//! so either tool reads the other's).

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use faer::Mat;
use rand::Rng;

use super::inception::{self, FEATURES, Inception};
use crate::config::{FidMode, ModelConfig};
use crate::data::{Dataset, Loader, Transform};
use crate::error::{Error, IoContext, Result};
use crate::model::inference::{cycled_labels, generate_labelled};
use crate::model::{BnMode, Generator};
use crate::progress::{Events, Pass};
use crate::rng;

/// Mean and covariance of a feature set.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Feature dimension (2,048 for Inception's pool features).
    pub dim: usize,
    /// Number of feature vectors (0 when read from a file that does not say).
    pub n: usize,
    /// Mean feature vector.
    pub mu: Vec<f64>,
    /// `dim × dim`, row-major.
    pub sigma: Vec<f64>,
}

impl Stats {
    /// Statistics of `n = features.len() / dim` vectors.
    pub fn from_features(features: &[f32], dim: usize) -> Result<Self> {
        let n = features.len() / dim;
        if n < 2 {
            return Err(Error::Data(format!(
                "FID needs at least 2 images per set, got {n}"
            )));
        }
        let (mu, cov) = crate::stats::mean_and_covariance(features, dim);
        let sigma = (0..dim * dim).map(|k| cov[(k / dim, k % dim)]).collect();
        Ok(Stats { dim, n, mu, sigma })
    }

    fn sigma_mat(&self) -> Mat<f64> {
        Mat::from_fn(self.dim, self.dim, |i, j| self.sigma[i * self.dim + j])
    }

    /// Write `mu`, `sigma` (float64) and `n` to an `.npz`, atomically: pytorch-fid's and
    /// clean-fid's layout (they read `mu` and `sigma`), with `fid_mode` (the mode's name as
    /// bytes) when given, so that a later `dcgan fid` in another mode refuses the file.
    pub fn save_npz(&self, path: &Path, mode: Option<FidMode>) -> Result<()> {
        use npyz::WriterBuilder;
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut npz = npyz::npz::NpzWriter::new(&mut buf);
            let io = |e: std::io::Error| Error::io(path, e);
            let mut w = npz
                .array::<f64>("mu", Default::default())
                .map_err(io)?
                .default_dtype()
                .shape(&[self.dim as u64])
                .begin_nd()
                .map_err(io)?;
            w.extend(self.mu.iter().copied()).map_err(io)?;
            w.finish().map_err(io)?;
            let mut w = npz
                .array::<f64>("sigma", Default::default())
                .map_err(io)?
                .default_dtype()
                .shape(&[self.dim as u64, self.dim as u64])
                .begin_nd()
                .map_err(io)?;
            w.extend(self.sigma.iter().copied()).map_err(io)?;
            w.finish().map_err(io)?;
            let mut w = npz
                .array::<i64>("n", Default::default())
                .map_err(io)?
                .default_dtype()
                .shape(&[])
                .begin_nd()
                .map_err(io)?;
            w.push(&(self.n as i64)).map_err(io)?;
            w.finish().map_err(io)?;
            if let Some(m) = mode {
                let name = m.name().as_bytes();
                let mut w = npz
                    .array::<u8>("fid_mode", Default::default())
                    .map_err(io)?
                    .default_dtype()
                    .shape(&[name.len() as u64])
                    .begin_nd()
                    .map_err(io)?;
                w.extend(name.iter().copied()).map_err(io)?;
                w.finish().map_err(io)?;
            }
        }
        crate::io::atomic_write(path, &buf.into_inner())
    }

    /// Read statistics written by [`Stats::save_npz`], pytorch-fid, TTUR or clean-fid (`mu`,
    /// `sigma`).
    pub fn load_npz(path: &Path) -> Result<Self> {
        Ok(Self::load_npz_with_mode(path)?.0)
    }

    /// [`Stats::load_npz`], and the FID mode the file says it was measured in (only this
    /// project's files say).
    pub fn load_npz_with_mode(path: &Path) -> Result<(Self, Option<FidMode>)> {
        let file = std::fs::File::open(path).at(path)?;
        let bad = |m: String| Error::format(path, m);
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| bad(format!("not an .npz archive ({e})")))?;
        let mut read = |name: &str| -> Result<(Vec<u64>, Vec<f64>)> {
            // Each member's bytes are checked before npyz parses them (see npy::check_header).
            let mut bytes = Vec::new();
            {
                use std::io::Read as _;
                let mut member = zip.by_name(&format!("{name}.npy")).map_err(|_| {
                    bad(format!(
                        "no array `{name}` (FID statistics need mu and sigma)"
                    ))
                })?;
                if member.size() > 1 << 31 {
                    return Err(bad(format!("array `{name}` is {} bytes", member.size())));
                }
                member
                    .read_to_end(&mut bytes)
                    .map_err(|e| bad(format!("array `{name}` is unreadable ({e})")))?;
            }
            crate::io::npy::check_header(&bytes, path)?;
            let arr = npyz::NpyFile::new(&bytes[..])
                .map_err(|e| bad(format!("array `{name}` is unreadable ({e})")))?;
            let shape = arr.shape().to_vec();
            let data = match arr.dtype().descr().trim_matches(|c| c == '\'' || c == '"') {
                "<f8" => arr.into_vec::<f64>(),
                "<f4" => arr
                    .into_vec::<f32>()
                    .map(|v| v.into_iter().map(f64::from).collect()),
                "<i8" => arr
                    .into_vec::<i64>()
                    .map(|v| v.into_iter().map(|x| x as f64).collect()),
                "|u1" => arr
                    .into_vec::<u8>()
                    .map(|v| v.into_iter().map(f64::from).collect()),
                other => return Err(bad(format!("array `{name}` has type {other}"))),
            }
            .map_err(|e| bad(format!("array `{name}` is unreadable ({e})")))?;
            Ok((shape, data))
        };
        let (ms, mu) = read("mu")?;
        let (ss, sigma) = read("sigma")?;
        let dim = mu.len();
        if ms.len() != 1 || ss != [dim as u64, dim as u64] {
            return Err(bad(format!(
                "mu has shape {ms:?} and sigma {ss:?}; expected (d,) and (d, d)"
            )));
        }
        let n = read("n")
            .ok()
            .and_then(|(_, v)| v.first().map(|&x| x as usize))
            .unwrap_or(0);
        let mode = match read("fid_mode") {
            Err(_) => None,
            Ok((_, bytes)) => {
                let name: String = bytes.iter().map(|&b| b as u8 as char).collect();
                Some(FidMode::parse(&name).map_err(|_| {
                    bad(format!(
                        "fid_mode `{name}` is not a mode this version knows"
                    ))
                })?)
            }
        };
        Ok((Stats { dim, n, mu, sigma }, mode))
    }
}

/// The Fréchet distance between two Gaussians.
pub fn frechet_distance(a: &Stats, b: &Stats) -> Result<f64> {
    if a.dim != b.dim {
        return Err(Error::Data(format!(
            "feature sizes differ: {} and {}",
            a.dim, b.dim
        )));
    }
    let tr_sqrt = crate::stats::trace_sqrt_product(&a.sigma_mat(), &b.sigma_mat())?;
    Ok(distance_with(a, b, tr_sqrt))
}

fn distance_with(a: &Stats, b: &Stats, tr_sqrt: f64) -> f64 {
    let d = a.dim;
    let mean_term: f64 = a.mu.iter().zip(&b.mu).map(|(x, y)| (x - y).powi(2)).sum();
    let trace = |s: &[f64]| (0..d).map(|i| s[i * d + i]).sum::<f64>();
    mean_term + trace(&a.sigma) + trace(&b.sigma) - 2.0 * tr_sqrt
}

/// [`frechet_distance`], from the features when both sets have them and are smaller than the
/// feature size (then Tr √(Σ₁Σ₂) comes from one small SVD, see
/// [`crate::stats::trace_sqrt_product_of_samples`]; equal to the covariance route to rounding).
pub fn frechet_distance_of(
    a: &Stats,
    fa: Option<&[f32]>,
    b: &Stats,
    fb: Option<&[f32]>,
) -> Result<f64> {
    match (fa, fb) {
        (Some(x), Some(y)) if a.dim == b.dim && a.n < a.dim && b.n < b.dim => {
            let tr_sqrt = crate::stats::trace_sqrt_product_of_samples(x, y, a.dim)?;
            Ok(distance_with(a, b, tr_sqrt))
        }
        _ => frechet_distance(a, b),
    }
}

/// KID estimate: mean and standard deviation over subsets.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Kid {
    /// Mean of the unbiased MMD² estimates.
    pub mean: f64,
    /// Their standard deviation.
    pub std: f64,
    /// Subsets drawn.
    pub subsets: usize,
    /// Feature vectors in each subset.
    pub subset_size: usize,
}

/// Unbiased MMD² with the kernel `(x·y/d + 1)³` between random subsets of `a` and `b` (each
/// `[n, dim]`), `subsets` times; subsets of `subset_size` (capped at the smaller set), drawn
/// without replacement within a subset.
pub fn kid(
    a: &[f32],
    b: &[f32],
    dim: usize,
    subsets: usize,
    subset_size: usize,
    rng: &mut impl Rng,
) -> Result<Kid> {
    let (na, nb) = (a.len() / dim, b.len() / dim);
    let m = subset_size.min(na).min(nb);
    if m < 2 {
        return Err(Error::Data(format!(
            "KID needs at least 2 images per set, got {na} and {nb}"
        )));
    }
    // Each subset's three Gram matrices as f64 matrix products (faer), then the kernel
    // (x·y/d + 1)³ on their entries: the dot products are the cost, and a GEMM does them at
    // the machine's matrix rate (100 subsets of 1,000 took minutes as 3·10⁸ separate dot
    // products).
    let rows = |x: &[f32], idx: &[usize]| {
        Mat::<f64>::from_fn(idx.len(), dim, |r, c| x[idx[r] * dim + c] as f64)
    };
    let kernel = |g: f64| (g / dim as f64 + 1.0).powi(3);
    let mut values = Vec::with_capacity(subsets);
    for _ in 0..subsets {
        let ia = rand::seq::index::sample(rng, na, m).into_vec();
        let ib = rand::seq::index::sample(rng, nb, m).into_vec();
        let (xa, xb) = (rows(a, &ia), rows(b, &ib));
        let (gaa, gbb, gab) = (
            &xa * xa.transpose(),
            &xb * xb.transpose(),
            &xa * xb.transpose(),
        );
        let (mut kaa, mut kbb, mut kab) = (0.0, 0.0, 0.0);
        for i in 0..m {
            for j in 0..m {
                if i != j {
                    kaa += kernel(gaa[(i, j)]);
                    kbb += kernel(gbb[(i, j)]);
                }
                kab += kernel(gab[(i, j)]);
            }
        }
        let mf = m as f64;
        values.push((kaa + kbb) / (mf * (mf - 1.0)) - 2.0 * kab / (mf * mf));
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    Ok(Kid {
        mean,
        std: var.sqrt(),
        subsets,
        subset_size: m,
    })
}

/// The side of images a data set is measured at by default: the shorter side of its first
/// readable image (CIFAR-10: 32), so small images are not resampled twice.
pub(crate) fn natural_size(ds: &dyn Dataset) -> Result<usize> {
    (0..ds.len().min(16))
        .find_map(|i| ds.get(i).ok())
        .map(|img| img.width().min(img.height()) as usize)
        .ok_or_else(|| {
            Error::Data(format!(
                "{}: no readable image among the first 16",
                ds.describe()
            ))
        })
}

/// The Inception network and how it runs: `batch` images at a time on `device`.
#[derive(Clone, Copy)]
pub(crate) struct Extractor<'a> {
    pub net: &'a Inception,
    pub batch: usize,
    pub device: &'a Device,
    /// How images are prepared for the network.
    pub mode: FidMode,
}

/// Inception pool features (`[n, 2048]` flattened) of `limit` images of a data set (all of
/// them when it has no more; otherwise a random subset drawn from `seed`, in data-set order,
/// since the first N of a class-sorted folder would be one class),
/// each prepared at `size`×`size` (shorter side resized, centre crop) and then resampled to
/// the network's 299×299. Unreadable images are skipped (the count returned says how many
/// were used), reported as a pass over `what`.
pub(crate) fn dataset_features(
    x: &Extractor,
    ds: Arc<dyn Dataset>,
    size: usize,
    limit: usize,
    seed: u64,
    events: &mut dyn Events,
    what: &str,
) -> Result<(usize, Vec<f32>)> {
    let Extractor {
        net,
        batch,
        device,
        mode,
    } = *x;
    let total = ds.len().min(limit);
    let mut pass = Pass::begin(events, what, total);
    let order: Vec<usize> = if total < ds.len() {
        let mut r = rng::Stream::FidSubset.rng(seed);
        let mut v = rand::seq::index::sample(&mut r, ds.len(), total).into_vec();
        v.sort_unstable();
        v
    } else {
        (0..total).collect()
    };
    let t = Transform { size, channels: 3 };
    let mut out = Vec::with_capacity(total * FEATURES);
    let (mut used, mut seen) = (0, 0);
    for b in Loader::over(ds, order, batch, t)? {
        let b = b?;
        seen += b.count + b.bad.len();
        if b.count > 0 {
            out.extend(inception::features_of(
                net,
                &b.images,
                (b.count, 3, size),
                mode,
                device,
            ));
            used += b.count;
        }
        pass.advance(seen);
    }
    Ok((used, out))
}

/// Inception pool features of `n` images from G (BatchNorm in inference mode), latents from
/// the evaluation stream of `seed`; a conditional G's image i is of class `class`, or of class
/// i mod K without one. Images are rounded to 8 bits first, as saved PNGs are, so
/// this equals measuring `dcgan generate`'s PNG output.
pub(crate) fn generator_features(
    x: &Extractor,
    g: &Generator,
    model: &ModelConfig,
    n: usize,
    seed: u64,
    class: Option<usize>,
    events: &mut dyn Events,
) -> Result<Vec<f32>> {
    let Extractor {
        net,
        batch,
        device,
        mode,
    } = *x;
    let mut pass = Pass::begin(events, "generated images", n);
    let mut rng = rng::Stream::FidLatents.rng(seed);
    let mut out = Vec::with_capacity(n * FEATURES);
    let mut done = 0;
    while done < n {
        let k = batch.min(n - done);
        let z = rng::latents(&mut rng, k, model.latent_dim, model.latent_distribution);
        // A conditional G: the classes in turn, so each is scored equally often.
        let labels = match class {
            Some(c) => vec![c; k],
            None => cycled_labels(done, k, g.classes),
        };
        let mut images = generate_labelled(g, &z, &labels, BnMode::Eval, k, device);
        for v in &mut images {
            *v = ((*v).clamp(-1.0, 1.0) * 127.5 + 127.5).round() / 127.5 - 1.0;
        }
        out.extend(inception::features_of(
            net,
            &images,
            (k, model.channels, model.image_size),
            mode,
            device,
        ));
        done += k;
        pass.advance(done);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gaussian(n: usize, dim: usize, shift: f32, scale: f32, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        crate::rng::normal(&mut rng, n * dim, 0.0, 1.0)
            .into_iter()
            .map(|v| v * scale + shift)
            .collect()
    }

    #[test]
    fn fid_of_gaussians_matches_the_closed_form() {
        // Isotropic covariances: FID = d·shift² + d·(s₁ − s₂)² (population values); the sample
        // estimate with n = 4000, d = 8 is within a few percent.
        let d = 8;
        let a = Stats::from_features(&gaussian(4000, d, 0.0, 1.0, 1), d).unwrap();
        let b = Stats::from_features(&gaussian(4000, d, 0.5, 2.0, 2), d).unwrap();
        let want = d as f64 * 0.25 + d as f64 * 1.0;
        let got = frechet_distance(&a, &b).unwrap();
        assert!(
            (got - want).abs() / want < 0.05,
            "FID {got}, closed form {want}"
        );
        assert!(frechet_distance(&a, &a).unwrap().abs() < 1e-9);
    }

    #[test]
    fn kid_is_near_zero_for_one_distribution_and_positive_for_two() {
        let d = 16;
        let a = gaussian(600, d, 0.0, 1.0, 3);
        let b = gaussian(600, d, 0.0, 1.0, 4);
        let c = gaussian(600, d, 1.0, 1.0, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let same = kid(&a, &b, d, 10, 300, &mut rng).unwrap();
        let diff = kid(&a, &c, d, 10, 300, &mut rng).unwrap();
        assert!(same.mean.abs() < 3.0 * same.std.max(1e-3), "{same:?}");
        assert!(
            diff.mean > 10.0 * same.mean.abs().max(1e-3),
            "{diff:?} vs {same:?}"
        );
        assert_eq!(diff.subset_size, 300);
    }

    /// With one subset of every row the estimate is the unbiased MMD² itself, written out.
    #[test]
    fn kid_of_whole_sets_is_the_unbiased_mmd() {
        let d = 7;
        let (a, b) = (gaussian(9, d, 0.0, 1.0, 8), gaussian(9, d, 0.5, 2.0, 9));
        let k = |x: &[f32], y: &[f32]| {
            let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
            (dot / d as f64 + 1.0).powi(3)
        };
        let row = |x: &[f32], i: usize| x[i * d..(i + 1) * d].to_vec();
        let (mut kaa, mut kbb, mut kab) = (0.0, 0.0, 0.0);
        for i in 0..9 {
            for j in 0..9 {
                if i != j {
                    kaa += k(&row(&a, i), &row(&a, j));
                    kbb += k(&row(&b, i), &row(&b, j));
                }
                kab += k(&row(&a, i), &row(&b, j));
            }
        }
        let want = (kaa + kbb) / 72.0 - 2.0 * kab / 81.0;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let got = kid(&a, &b, d, 1, 9, &mut rng).unwrap();
        assert!(
            (got.mean - want).abs() <= 1e-12 * want.abs(),
            "{} vs {want}",
            got.mean
        );
        assert_eq!(got.std, 0.0);
    }

    #[test]
    fn statistics_round_trip_through_npz() {
        let d = 5;
        let s = Stats::from_features(&gaussian(50, d, 0.3, 1.5, 6), d).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stats.npz");
        s.save_npz(&p, Some(FidMode::Clean)).unwrap();
        assert_eq!(
            Stats::load_npz_with_mode(&p).unwrap().1,
            Some(FidMode::Clean)
        );
        let r = Stats::load_npz(&p).unwrap();
        assert_eq!((r.dim, r.n), (5, 50));
        assert_eq!(r.mu, s.mu);
        assert_eq!(r.sigma, s.sigma);
    }
}
