//! De-duplication by semantic hashing (paper §4.1.1): a 3072-128-3072 denoising,
//! dropout-regularised ReLU autoencoder on 32×32 centre crops; its code layer binarised by
//! thresholding the ReLU activations (active → 1); images whose 128-bit codes collide are
//! near-duplicates. The noise and dropout masks are drawn on the host from the seed, so a run
//! is reproducible.

use std::collections::HashMap;
use std::sync::Arc;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use image::DynamicImage;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, ItemError};
use super::loader::Loader;
use super::transform::Transform;
use crate::config::OptimConfig;
use crate::optim::Adam;
use crate::progress::Events;
use crate::rng::{self, Stream};
use crate::{Error, Result};

const INPUT: usize = 3 * 32 * 32;

#[derive(Module, Debug)]
pub struct Autoencoder {
    pub w_enc: Param<Tensor<2>>,
    pub b_enc: Param<Tensor<1>>,
    pub w_dec: Param<Tensor<2>>,
    pub b_dec: Param<Tensor<1>>,
}

impl Autoencoder {
    pub fn new(code_bits: usize, seed: u64, device: &Device) -> Self {
        let mut r = Stream::DedupInit.rng(seed);
        let mut uniform = |n: usize, fan_in: usize| -> Vec<f32> {
            let k = (1.0 / fan_in as f32).sqrt();
            (0..n).map(|_| r.random_range(-k..k)).collect()
        };
        let t2 = |v: Vec<f32>, s: [usize; 2]| {
            Param::from_tensor(Tensor::from_data(TensorData::new(v, s), device))
        };
        let w_enc = t2(uniform(INPUT * code_bits, INPUT), [INPUT, code_bits]);
        let w_dec = t2(uniform(code_bits * INPUT, code_bits), [code_bits, INPUT]);
        Self {
            w_enc,
            b_enc: Param::from_tensor(Tensor::zeros([code_bits], device)),
            w_dec,
            b_dec: Param::from_tensor(Tensor::zeros([INPUT], device)),
        }
    }

    /// The code layer: ReLU(x·W + b), `[b, bits]`.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, _] = x.dims();
        let [bits] = self.b_enc.dims();
        relu(
            x.matmul(self.w_enc.val())
                .add(self.b_enc.val().reshape([1, bits]).expand([b, bits])),
        )
    }

    pub fn decode(&self, h: Tensor<2>) -> Tensor<2> {
        let [b, _] = h.dims();
        h.matmul(self.w_dec.val())
            .add(self.b_dec.val().reshape([1, INPUT]).expand([b, INPUT]))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DedupConfig {
    pub code_bits: usize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Std of the Gaussian noise added to inputs (denoising).
    pub noise: f32,
    /// Dropout probability on the code layer while training.
    pub dropout: f32,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            code_bits: 128,
            epochs: 10,
            batch_size: 256,
            noise: 0.2,
            dropout: 0.5,
            learning_rate: 1e-3,
            seed: 1,
        }
    }
}

/// The trained autoencoder's binary code of every item (unreadable items: `None`), and the last
/// epoch's mean reconstruction error.
pub fn codes(
    ds: Arc<dyn Dataset>,
    cfg: &DedupConfig,
    device: &Device,
    events: &mut dyn Events,
) -> Result<(Vec<Option<u128>>, f32)> {
    if !(1..=128).contains(&cfg.code_bits) {
        return Err(Error::config(
            "code bits",
            cfg.code_bits,
            "must be 1 to 128 (codes are stored in 128 bits)",
        ));
    }
    let ad = device.clone().autodiff();
    let mut ae = Autoencoder::new(cfg.code_bits, cfg.seed, &ad);
    let mut opt = Adam::new(OptimConfig {
        learning_rate: cfg.learning_rate,
        beta1: 0.9,
        ..OptimConfig::default()
    });
    let t = Transform {
        size: 32,
        channels: 3,
    };
    let n = ds.len();
    let bs = cfg.batch_size.min(n).max(1);
    let mut last_loss = f32::NAN;
    for epoch in 0..cfg.epochs {
        let order = rng::shuffled(
            Stream::DedupOrder {
                epoch: epoch as u64,
            },
            cfg.seed,
            n,
        );
        let (mut sum, mut batches) = (0f32, 0usize);
        for (step, b) in Loader::start(ds.clone(), order, bs, 0, t, 0, 2)?.enumerate() {
            let b = b?;
            if b.count < 2 {
                continue;
            }
            let mut r = Stream::DedupNoise {
                batch: (epoch * 1_000_000 + step) as u64,
            }
            .rng(cfg.seed);
            let noise = rng::normal(&mut r, b.images.len(), 0.0, cfg.noise);
            let noisy: Vec<f32> = b.images.iter().zip(&noise).map(|(v, e)| v + e).collect();
            let keep = 1.0 - cfg.dropout;
            let mask: Vec<f32> = (0..b.count * cfg.code_bits)
                .map(|_| {
                    if r.random::<f32>() < keep {
                        1.0 / keep
                    } else {
                        0.0
                    }
                })
                .collect();
            let x = Tensor::<2>::from_data(TensorData::new(b.images, [b.count, INPUT]), &ad);
            let xn = Tensor::<2>::from_data(TensorData::new(noisy, [b.count, INPUT]), &ad);
            let m = Tensor::<2>::from_data(TensorData::new(mask, [b.count, cfg.code_bits]), &ad);
            let y = ae.decode(ae.encode(xn).mul(m));
            let loss = y.sub(x).powi_scalar(2).mean();
            let mut grads = GradientsParams::from_grads(loss.backward(), &ae);
            sum += loss.into_scalar::<f32>();
            batches += 1;
            ae = opt.update(ae, &mut grads);
        }
        last_loss = sum / batches.max(1) as f32;
        events.info(format!(
            "autoencoder epoch {}: reconstruction MSE {last_loss:.4}",
            epoch + 1
        ));
    }
    // Codes of every item, in order (the last partial batch included).
    let ae = ae.valid();
    let mut out = vec![None; n];
    for b in Loader::sequential(ds, n, bs, t)? {
        let b = b?;
        if b.count == 0 {
            continue;
        }
        let x = Tensor::<2>::from_data(TensorData::new(b.images, [b.count, INPUT]), device);
        let h = ae
            .encode(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        for (j, &item) in b.items.iter().enumerate() {
            let code = h[j * cfg.code_bits..(j + 1) * cfg.code_bits]
                .iter()
                .enumerate()
                .fold(0u128, |c, (k, v)| if *v > 0.0 { c | (1 << k) } else { c });
            out[item] = Some(code);
        }
    }
    Ok((out, last_loss))
}

/// Items sharing a code, groups of two or more, each sorted; groups ordered by first item.
pub fn groups<K: std::hash::Hash + Eq>(codes: &[Option<K>]) -> Vec<Vec<usize>> {
    let mut by: HashMap<&K, Vec<usize>> = HashMap::new();
    for (i, c) in codes.iter().enumerate() {
        if let Some(c) = c {
            by.entry(c).or_default().push(i);
        }
    }
    let mut g: Vec<Vec<usize>> = by.into_values().filter(|v| v.len() > 1).collect();
    g.sort();
    g
}

/// The report `dcgan data dedup` writes and `dcgan train --exclude` reads.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Report {
    pub source: String,
    pub images: usize,
    /// "near" (the default search) or "paper" (equal autoencoder codes).
    #[serde(default = "paper_mode")]
    pub mode: String,
    pub code_bits: usize,
    /// Paper mode: the autoencoder's reconstruction error (near mode: 0).
    #[serde(default)]
    pub reconstruction_mse: f32,
    /// Near mode: how the similarity threshold was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<super::neardup::Calibration>,
    /// Each group: item indices and names; the first of a group is kept.
    pub groups: Vec<Group>,
    /// Every item but the first of each group.
    pub excluded: Vec<usize>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Group {
    pub items: Vec<usize>,
    pub names: Vec<String>,
    /// Near mode: each member's similarity to the first (1 for the first itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub similarity: Vec<f32>,
}

fn paper_mode() -> String {
    "paper".into()
}

/// The report of `groups` of `ds`; `similarity(i, j)` (near mode) fills each group's
/// similarities to its first member.
pub fn report(
    source: &str,
    ds: &dyn Dataset,
    groups: &[Vec<usize>],
    similarity: Option<&dyn Fn(usize, usize) -> f32>,
) -> Report {
    let excluded = groups.iter().flat_map(|g| g[1..].to_vec()).collect();
    Report {
        source: source.into(),
        images: ds.len(),
        mode: "paper".into(),
        code_bits: 128,
        reconstruction_mse: 0.0,
        calibration: None,
        groups: groups
            .iter()
            .map(|g| Group {
                items: g.clone(),
                names: g.iter().map(|&i| ds.name(i)).collect(),
                similarity: similarity
                    .map(|f| {
                        g.iter()
                            .map(|&i| if i == g[0] { 1.0 } else { f(g[0], i) })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        excluded,
    }
}

/// Perceptual-hash baseline (image_hasher's default gradient hash, 64 bits): exact collisions.
pub fn phash_codes(ds: &dyn Dataset) -> Vec<Option<Vec<u8>>> {
    use rayon::prelude::*;
    let hasher = image_hasher::HasherConfig::new()
        .hash_size(8, 8)
        .to_hasher();
    (0..ds.len())
        .into_par_iter()
        .map(|i| {
            ds.get(i)
                .ok()
                .map(|img| hasher.hash_image(&img).as_bytes().to_vec())
        })
        .collect()
}

/// A data set plus near-duplicates planted in it, for measuring de-duplication and choosing its
/// threshold. Copies are appended after the base's items; each copies a different item among the
/// base's first `originals`.
pub struct Planted {
    base: Arc<dyn Dataset>,
    copies: Vec<(usize, DynamicImage)>,
}

impl Planted {
    /// The evaluation copies: copy k of original `o` is, in turn, resized to half and back, JPEG
    /// re-compressed at quality 30–40, cropped by 2 pixels each side and resized back, or
    /// brightened by +10 / −10 levels (alternating). The JPEG qualities cycle through 30–40.
    pub fn new(base: Arc<dyn Dataset>, count: usize, seed: u64) -> Self {
        let order = rng::shuffled(Stream::DedupPlant, seed, base.len());
        Self::with(base, &order, count, alter)
    }

    /// `count` validation copies of items among the base's first `originals`, each altered by
    /// [`super::neardup::random_alteration`].
    pub fn validation(base: Arc<dyn Dataset>, originals: usize, count: usize, seed: u64) -> Self {
        let mut r = Stream::DedupCalibration.rng(seed);
        let order = rng::shuffled(Stream::DedupCalibration, seed, originals.min(base.len()));
        Self::with(base, &order, count, |img, _| {
            super::neardup::random_alteration(img, &mut r)
        })
    }

    fn with(
        base: Arc<dyn Dataset>,
        order: &[usize],
        count: usize,
        mut make: impl FnMut(&DynamicImage, usize) -> DynamicImage,
    ) -> Self {
        let mut copies = Vec::new();
        for &o in order {
            if copies.len() == count {
                break;
            }
            let Ok(img) = base.get(o) else { continue };
            if img.width() < 8 || img.height() < 8 {
                continue;
            }
            copies.push((o, make(&img, copies.len())));
        }
        Self { base, copies }
    }

    /// (original, copy) index pairs.
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        self.copies
            .iter()
            .enumerate()
            .map(|(k, (o, _))| (*o, self.base.len() + k))
            .collect()
    }

    /// Items of the base.
    pub fn base_len(&self) -> usize {
        self.base.len()
    }

    /// The original of copy `item` (an index ≥ the base's length).
    pub fn original(&self, item: usize) -> usize {
        self.copies[item - self.base.len()].0
    }
}

fn alter(img: &DynamicImage, k: usize) -> DynamicImage {
    use image::imageops::FilterType;
    let (w, h) = (img.width(), img.height());
    match k % 4 {
        0 => img
            .resize_exact(w / 2, h / 2, FilterType::Triangle)
            .resize_exact(w, h, FilterType::Triangle),
        1 => super::neardup::jpeg(img, 30 + ((k / 4) % 11) as u8),
        2 => img
            .crop_imm(2, 2, w - 4, h - 4)
            .resize_exact(w, h, FilterType::Triangle),
        _ => img.brighten(if (k / 4).is_multiple_of(2) { 10 } else { -10 }),
    }
}

impl Dataset for Planted {
    fn len(&self) -> usize {
        self.base.len() + self.copies.len()
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        if i < self.base.len() {
            self.base.get(i)
        } else {
            Ok(self.copies[i - self.base.len()].1.clone())
        }
    }
    fn label(&self, _: usize) -> Option<usize> {
        None
    }
    fn classes(&self) -> Vec<String> {
        vec![]
    }
    fn describe(&self) -> String {
        format!(
            "{} + {} planted near-duplicates",
            self.base.describe(),
            self.copies.len()
        )
    }
}

/// Recall of the planted pairs and the precision of the flagged pairs.
#[derive(Serialize, Clone, Debug)]
pub struct Scores {
    pub planted_pairs: usize,
    pub found: usize,
    pub recall: f64,
    pub flagged_pairs: usize,
    /// Flagged pairs that are not planted ones (the data's own duplicates among them).
    pub false_pairs: usize,
    /// false_pairs / flagged_pairs.
    pub false_positive_share: f64,
    /// found / flagged_pairs: every pair not planted counted as wrong.
    pub precision: f64,
    /// Of the flagged pairs with a planted copy in them, the share that are the copy and its
    /// original (the data's own duplicates do not enter).
    pub copy_precision: f64,
    /// Images not planted as copies or originals that land in some group, over all such images.
    pub unplanted_flagged_rate: f64,
    pub groups: usize,
    /// Recall per alteration: resized, re-compressed, cropped, brightened.
    pub recall_by_alteration: [f64; 4],
}

/// The alterations, in the order planted copies cycle through them.
pub const ALTERATIONS: [&str; 4] = [
    "resized to half and back",
    "JPEG quality 30-40",
    "cropped 2 px and resized",
    "brightness +/-10",
];

/// Every pair within each group: what an exact-collision method flags.
pub fn group_pairs(groups: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for g in groups {
        for x in 0..g.len() {
            for y in x + 1..g.len() {
                v.push((g[x].min(g[y]), g[x].max(g[y])));
            }
        }
    }
    v
}

/// Scores of the flagged pairs (`a < b`) against the planted (original, copy) pairs; `n` items.
pub fn score(flagged: &[(usize, usize)], pairs: &[(usize, usize)], n: usize) -> Scores {
    use std::collections::HashSet;
    let flagged: HashSet<(usize, usize)> = flagged.iter().copied().collect();
    let found_at: Vec<bool> = pairs.iter().map(|p| flagged.contains(p)).collect();
    let found = found_at.iter().filter(|f| **f).count();
    let mut by_kind = [0f64; 4];
    for (kind, r) in by_kind.iter_mut().enumerate() {
        let of_kind: Vec<bool> = found_at.iter().skip(kind).step_by(4).copied().collect();
        *r = of_kind.iter().filter(|f| **f).count() as f64 / of_kind.len().max(1) as f64;
    }
    let planted: HashSet<(usize, usize)> = pairs.iter().copied().collect();
    let copies: HashSet<usize> = pairs.iter().map(|p| p.1).collect();
    let in_pair: HashSet<usize> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let false_pairs = flagged.iter().filter(|p| !planted.contains(p)).count();
    let with_copy = flagged
        .iter()
        .filter(|(a, b)| copies.contains(a) || copies.contains(b))
        .count();
    let mut touched = HashSet::new();
    for (a, b) in &flagged {
        touched.insert(*a);
        touched.insert(*b);
    }
    let unplanted = (0..n).filter(|i| !in_pair.contains(i)).count();
    let unplanted_flagged = touched.iter().filter(|i| !in_pair.contains(i)).count();
    // Groups as the near search forms them (independent of the pairs' order).
    let groups = {
        let pairs: Vec<super::neardup::Pair> = flagged
            .iter()
            .map(|&(a, b)| super::neardup::Pair {
                a,
                b,
                similarity: 1.0,
            })
            .collect();
        super::neardup::groups(&pairs, n, 0.0).len()
    };
    let ratio = |x: usize, y: usize| if y == 0 { 1.0 } else { x as f64 / y as f64 };
    Scores {
        planted_pairs: pairs.len(),
        found,
        recall: found as f64 / pairs.len().max(1) as f64,
        flagged_pairs: flagged.len(),
        false_pairs,
        false_positive_share: false_pairs as f64 / flagged.len().max(1) as f64,
        precision: ratio(found, flagged.len()),
        copy_precision: ratio(found, with_copy),
        unplanted_flagged_rate: unplanted_flagged as f64 / unplanted.max(1) as f64,
        groups,
        recall_by_alteration: by_kind,
    }
}
