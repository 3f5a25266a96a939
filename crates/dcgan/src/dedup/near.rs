//! Near-duplicate search: the default of `dcgan data dedup` (`--mode near`).
//!
//! The paper's test (equal 128-bit autoencoder codes, [`super::paper`]) is precise but misses
//! altered copies: one flipped unit of 128 breaks the match, and no code from a linear encoder is
//! unchanged by a crop (a learned linear code, trained to ignore the alterations below, found 17 %
//! of 2-pixel crops; docs/data.md). This search instead compares small pictures directly and
//! lines them up first:
//!
//! - **Signatures.** An image, at 32×32, becomes its 8×8 colour thumbnail (4×4 box means), mean
//!   removed and scaled to unit length: blind to brightness and contrast, and mostly to JPEG and
//!   resizing, which change fine detail. Three more signatures do the same for the image cropped
//!   by 1, 2 and 3 pixels each side and resized back, so a zoomed copy meets its original's
//!   zoomed signature. Stored as 8-bit integers with their norm: 200 bytes a signature.
//! - **Similarity** of a pair: the largest cosine between one image's plain signature and any of
//!   the other's four (both ways when a pair is scored on its own).
//! - **Candidates** by multi-index hashing: each signature gets a 128-bit code (the signs of 128
//!   random projections of the signature less the data's mean, half-whitened; `make_codes`); the
//!   code is cut into eight 16-bit blocks with one table each. Two codes within Hamming distance
//!   7 share a block exactly (pigeonhole), and close pairs further apart usually share one too;
//!   only the entries sharing a block are compared, and most of those are dismissed by a 32-bit
//!   fingerprint stored in the table. Memory: about 1.1 KB an image (signatures, codes, tables),
//!   none of it pixels.
//! - **Threshold** chosen on validation copies: copies of some of the data's own images, altered
//!   as a copier would (resized, re-compressed, cropped, brightened, contrast), are searched
//!   with the data; the threshold is the lowest similarity at which the flagged pairs that
//!   involve a validation copy are still at least the target share (`--precision`) the right
//!   pair.
//!
//! Hand-written because no maintained crate does multi-index hashing over binary codes; the
//! tables are a counting sort, a few dozen lines.

use image::imageops::{self, FilterType};
use image::{DynamicImage, RgbImage};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::progress::{Events, Pass};
use crate::rng::Stream;
use crate::{Error, Result};

/// Thumbnail side.
pub(crate) const SIDE: usize = 8;
/// Values in a signature: 8 × 8 × RGB.
pub(crate) const DIM: usize = 3 * SIDE * SIDE;
/// Pixels cropped from each side (at 32×32) for the four signatures.
pub(crate) const CROPS: [u32; 4] = [0, 1, 2, 3];
const VARIANTS: usize = CROPS.len();
/// Images are compared at 32×32.
const WORK: u32 = 32;
const BLOCKS: usize = 8;
const BUCKETS: usize = 1 << 16;
/// Candidates further apart than this many code bits are not compared (a cosine of about 0.7).
const RADIUS: u32 = 32;
/// Candidates whose 32-bit fingerprints differ in more bits are dismissed unread (pairs at the
/// FLOOR differ in about 4; unrelated ones in about 16).
const FINGERPRINT_RADIUS: u32 = 10;
/// How far the code's projections are whitened (0: plain random hyperplanes, ½: full); see
/// `make_codes`. `DCGAN_DEDUP_WHITEN` overrides it, for the measurement in docs/data.md.
const WHITEN: f64 = 0.125;
fn whiten_power() -> f64 {
    std::env::var("DCGAN_DEDUP_WHITEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(WHITEN)
}
/// Pairs less similar than this are not kept; the chosen threshold is never below it.
pub const FLOOR: f32 = 0.9;
/// An image whose thumbnail varies by less than this many grey levels (RMS) is flat: it has no
/// picture to compare, and is left out of the search.
const FLAT_RMS: f32 = 1.0;

/// The four signatures of an image, unit length; `None` for a flat image.
pub fn signatures(img: &DynamicImage) -> Option<[[f32; DIM]; VARIANTS]> {
    let rgb = if (img.width(), img.height()) == (WORK, WORK) {
        img.to_rgb8()
    } else {
        img.resize_exact(WORK, WORK, FilterType::Triangle).to_rgb8()
    };
    let cell = WORK as usize / SIDE;
    let mut out = [[0f32; DIM]; VARIANTS];
    for (v, &k) in CROPS.iter().enumerate() {
        let im: RgbImage = if k == 0 {
            rgb.clone()
        } else {
            let c = imageops::crop_imm(&rgb, k, k, WORK - 2 * k, WORK - 2 * k).to_image();
            imageops::resize(&c, WORK, WORK, FilterType::Triangle)
        };
        let f = &mut out[v];
        for (x, y, p) in im.enumerate_pixels() {
            let at = ((y as usize / cell) * SIDE + x as usize / cell) * 3;
            for c in 0..3 {
                f[at + c] += p[c] as f32;
            }
        }
        let area = (cell * cell) as f32;
        let mean = f.iter().sum::<f32>() / DIM as f32;
        let mut sq = 0f32;
        for x in f.iter_mut() {
            *x -= mean;
            sq += *x * *x;
        }
        let rms = sq.sqrt() / area / (DIM as f32).sqrt();
        if v == 0 && rms < FLAT_RMS {
            return None;
        }
        let inv = 1.0 / sq.sqrt().max(f32::MIN_POSITIVE);
        f.iter_mut().for_each(|x| *x *= inv);
    }
    Some(out)
}

/// Signatures, codes and hash tables of a data set.
pub struct Index {
    n: usize,
    /// `n × 4 × DIM` signature values, each signature scaled so its largest entry is ±127.
    q: Vec<i8>,
    /// ‖q‖² of each signature (0 for an image that is absent).
    sq: Vec<u32>,
    codes: Vec<u128>,
    present: Vec<bool>,
    /// Per block: `BUCKETS + 1` offsets into `ids`.
    offsets: Vec<u32>,
    /// Per block, in bucket order: a signature's id (`item × 4 + variant`, low 32 bits) and its
    /// fingerprint for that block (high 32 bits).
    ids: Vec<u64>,
    /// Items that could not be read (left out of the search).
    pub unreadable: usize,
    /// Items too flat to compare (a thumbnail with almost no variation), left out of the search.
    pub flat: usize,
}

/// A pair of items (`a < b`) and their similarity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// Index of the first item.
    pub a: usize,
    /// Index of the second item.
    pub b: usize,
    /// Cosine similarity of their signatures (1: the same picture).
    pub similarity: f32,
}

impl Index {
    /// Signatures of every item of `ds` (read in parallel), their codes and tables.
    pub fn build(ds: &dyn Dataset, seed: u64, events: &mut dyn Events) -> Result<Self> {
        let n = ds.len();
        if n > (u32::MAX as usize) / VARIANTS {
            return Err(Error::config(
                "images",
                n,
                "at most 1,073,741,823 images can be searched at once",
            ));
        }
        let mut index = Self {
            n,
            q: vec![0; n * VARIANTS * DIM],
            sq: vec![0; n * VARIANTS],
            codes: vec![0; n * VARIANTS],
            present: vec![false; n],
            offsets: Vec::new(),
            ids: Vec::new(),
            unreadable: 0,
            flat: 0,
        };
        {
            let mut pass = Pass::begin(events, "signatures", n);
            const CHUNK: usize = 4096;
            for start in (0..n).step_by(CHUNK) {
                let end = (start + CHUNK).min(n);
                let sigs: Vec<std::result::Result<Option<_>, ()>> = (start..end)
                    .into_par_iter()
                    .map(|i| ds.get(i).map(|img| signatures(&img)).map_err(|_| ()))
                    .collect();
                for (off, s) in sigs.into_iter().enumerate() {
                    let i = start + off;
                    match s {
                        Err(()) => index.unreadable += 1,
                        Ok(None) => index.flat += 1,
                        Ok(Some(s)) => {
                            index.present[i] = true;
                            for (v, f) in s.iter().enumerate() {
                                index.store(i * VARIANTS + v, f);
                            }
                        }
                    }
                }
                pass.advance(end);
            }
        }
        index.make_codes(seed)?;
        index.make_tables();
        Ok(index)
    }

    fn store(&mut self, e: usize, f: &[f32; DIM]) {
        let max = f
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()))
            .max(f32::MIN_POSITIVE);
        let q = &mut self.q[e * DIM..(e + 1) * DIM];
        let mut sq = 0u32;
        for (d, x) in q.iter_mut().zip(f) {
            *d = (x / max * 127.0).round() as i8;
            sq += (*d as i32 * *d as i32) as u32;
        }
        self.sq[e] = sq;
    }

    fn signature(&self, e: usize) -> impl Iterator<Item = f32> + '_ {
        let s = 1.0 / (self.sq[e].max(1) as f32).sqrt();
        self.q[e * DIM..(e + 1) * DIM]
            .iter()
            .map(move |&x| x as f32 * s)
    }

    /// Cosine of two stored signatures: exactly 1 for equal ones (integer dot product over the
    /// square root of the product of integer squared norms, in f64).
    fn cosine(&self, e: usize, f: usize) -> f32 {
        let (x, y) = (
            &self.q[e * DIM..(e + 1) * DIM],
            &self.q[f * DIM..(f + 1) * DIM],
        );
        let dot: i32 = x.iter().zip(y).map(|(a, b)| *a as i32 * *b as i32).sum();
        let norms = self.sq[e] as f64 * self.sq[f] as f64;
        if norms == 0.0 {
            return 0.0;
        }
        (dot as f64 / norms.sqrt()) as f32
    }

    /// Codes: signs of 128 projections of each signature less the mean plain signature. The
    /// projections are random directions in the basis of the plain signatures' principal
    /// components, each component scaled by its variance to the power −[`WHITEN`] (⅛): thumbnails
    /// vary mostly along a few components, so plain random hyperplanes give correlated bits and
    /// crowded buckets; full whitening (−½) would let fine detail (JPEG, resizing) flip bits.
    fn make_codes(&mut self, seed: u64) -> Result<()> {
        let present: Vec<usize> = (0..self.n).filter(|&i| self.present[i]).collect();
        // The statistics from at most 20,000 images, evenly spaced.
        let step = present.len().div_ceil(20_000).max(1);
        let sample: Vec<f32> = present
            .iter()
            .step_by(step)
            .flat_map(|&i| self.signature(i * VARIANTS).collect::<Vec<_>>())
            .collect();
        let mut mean = vec![0f32; DIM];
        let mut planes: Vec<f32> =
            crate::rng::normal(&mut Stream::DedupProjection.rng(seed), 128 * DIM, 0.0, 1.0);
        if sample.len() >= 2 * DIM {
            let (mu, cov) = crate::stats::mean_and_covariance(&sample, DIM);
            mean = mu.iter().map(|&m| m as f32).collect();
            let evd = cov.self_adjoint_eigen(faer::Side::Lower).map_err(|e| {
                Error::Data(format!(
                    "signature statistics: eigendecomposition failed: {e:?}"
                ))
            })?;
            let (u, lambda) = (evd.U(), evd.S());
            let top = (0..DIM)
                .map(|j| lambda[j])
                .fold(0f64, f64::max)
                .max(f64::MIN_POSITIVE);
            let scale: Vec<f64> = (0..DIM)
                .map(|j| lambda[j].max(top * 1e-4).powf(-whiten_power()))
                .collect();
            // Plane k: Σ_j r_kj · scale_j · u_j.
            let random = planes.clone();
            for k in 0..128 {
                for d in 0..DIM {
                    planes[k * DIM + d] = (0..DIM)
                        .map(|j| random[k * DIM + j] as f64 * scale[j] * u[(d, j)])
                        .sum::<f64>() as f32;
                }
            }
        }
        let codes: Vec<u128> = (0..self.n * VARIANTS)
            .into_par_iter()
            .map(|e| {
                if !self.present[e / VARIANTS] {
                    return 0;
                }
                let f: Vec<f32> = self.signature(e).zip(&mean).map(|(x, m)| x - m).collect();
                (0..128).fold(0u128, |c, k| {
                    let p = &planes[k * DIM..(k + 1) * DIM];
                    let s: f32 = p.iter().zip(&f).map(|(a, b)| a * b).sum();
                    if s > 0.0 { c | (1 << k) } else { c }
                })
            })
            .collect();
        self.codes = codes;
        Ok(())
    }

    fn key(code: u128, block: usize) -> usize {
        ((code >> (16 * block)) & 0xFFFF) as usize
    }

    /// The two blocks after `block`: stored beside each table entry, so most candidates are
    /// dismissed while the bucket is read in order, without fetching their codes. Close pairs
    /// differ there in a bit or two, unrelated ones in about 16 of 32.
    fn fingerprint(code: u128, block: usize) -> u32 {
        code.rotate_right(16 * (block as u32 + 1)) as u32
    }

    /// One counting sort per block.
    fn make_tables(&mut self) {
        let entries: Vec<u32> = (0..self.n * VARIANTS)
            .filter(|e| self.present[e / VARIANTS])
            .map(|e| e as u32)
            .collect();
        self.offsets = vec![0; BLOCKS * (BUCKETS + 1)];
        self.ids = vec![0; BLOCKS * entries.len()];
        for b in 0..BLOCKS {
            let off = &mut self.offsets[b * (BUCKETS + 1)..(b + 1) * (BUCKETS + 1)];
            for &e in &entries {
                off[Self::key(self.codes[e as usize], b) + 1] += 1;
            }
            for k in 0..BUCKETS {
                off[k + 1] += off[k];
            }
            let mut next = off[..BUCKETS].to_vec();
            let ids = &mut self.ids[b * entries.len()..(b + 1) * entries.len()];
            for &e in &entries {
                let code = self.codes[e as usize];
                let k = Self::key(code, b);
                ids[next[k] as usize] = e as u64 | (Self::fingerprint(code, b) as u64) << 32;
                next[k] += 1;
            }
        }
    }

    fn bucket(&self, block: usize, key: usize) -> &[u64] {
        let per = self.ids.len() / BLOCKS;
        let off = &self.offsets[block * (BUCKETS + 1)..];
        &self.ids[block * per + off[key] as usize..block * per + off[key + 1] as usize]
    }

    /// Number of items indexed.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether no item was indexed.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether item `i` was read and is not flat.
    pub fn present(&self, i: usize) -> bool {
        self.present[i]
    }

    /// Bytes held: signatures, norms, codes and tables.
    pub fn bytes(&self) -> usize {
        self.q.len()
            + self.sq.len() * 4
            + self.codes.len() * 16
            + self.present.len()
            + self.offsets.len() * 4
            + self.ids.len() * 8
    }

    /// The similarity of two items, both ways (0 if either is absent).
    pub fn similarity(&self, i: usize, j: usize) -> f32 {
        if !(self.present[i] && self.present[j]) {
            return 0.0;
        }
        (0..VARIANTS)
            .map(|v| {
                self.cosine(i * VARIANTS, j * VARIANTS + v)
                    .max(self.cosine(i * VARIANTS + v, j * VARIANTS))
            })
            .fold(f32::MIN, f32::max)
    }

    /// Every pair with similarity at least [`FLOOR`] found through the tables, each once, in
    /// (a, b) order; and the number of table entries read.
    pub fn pairs(&self, events: &mut dyn Events) -> (Vec<Pair>, u64) {
        let mut pass = Pass::begin(events, "search", self.n);
        let mut all = Vec::new();
        let mut compared = 0u64;
        const CHUNK: usize = 8192;
        for start in (0..self.n).step_by(CHUNK) {
            let end = (start + CHUNK).min(self.n);
            let found: Vec<(Vec<Pair>, u64)> = (start..end)
                .into_par_iter()
                .map(|i| self.query(i))
                .collect();
            for (p, c) in found {
                all.extend(p);
                compared += c;
            }
            pass.advance(end);
        }
        all.sort_by(|x, y| {
            (x.a, x.b)
                .cmp(&(y.a, y.b))
                .then(y.similarity.total_cmp(&x.similarity))
        });
        all.dedup_by(|later, first| (later.a, later.b) == (first.a, first.b));
        (all, compared)
    }

    /// Item `i`'s plain signature against every signature sharing one of its code blocks.
    fn query(&self, i: usize) -> (Vec<Pair>, u64) {
        if !self.present[i] {
            return (Vec::new(), 0);
        }
        let e0 = i * VARIANTS;
        let code = self.codes[e0];
        let mut cand: Vec<u32> = Vec::new();
        let mut scanned = 0u64;
        for b in 0..BLOCKS {
            let fp = Self::fingerprint(code, b);
            let bucket = self.bucket(b, Self::key(code, b));
            scanned += bucket.len() as u64;
            cand.extend(
                bucket
                    .iter()
                    .filter(|&&x| ((x >> 32) as u32 ^ fp).count_ones() <= FINGERPRINT_RADIUS)
                    .map(|&x| x as u32)
                    .filter(|&e| e as usize / VARIANTS != i),
            );
        }
        cand.sort_unstable();
        cand.dedup();
        let mut best: Vec<(usize, f32)> = Vec::new();
        for &e in &cand {
            let e = e as usize;
            if (code ^ self.codes[e]).count_ones() > RADIUS {
                continue;
            }
            let s = self.cosine(e0, e);
            if s < FLOOR {
                continue;
            }
            let j = e / VARIANTS;
            match best.last_mut() {
                // Candidates are sorted, so one item's variants are adjacent.
                Some((k, t)) if *k == j => *t = t.max(s),
                _ => best.push((j, s)),
            }
        }
        let pairs = best
            .into_iter()
            .map(|(j, s)| Pair {
                a: i.min(j),
                b: i.max(j),
                similarity: s,
            })
            .collect();
        (pairs, scanned)
    }
}

/// A copy of `x` that also matches `y` is no false pair when `y` is a near-duplicate of `x`
/// already in the data: when `x` is at least as similar to `y` as to the copy, or as this share
/// of the validation copies are to their originals (on CIFAR-10 about 0.992: unrelated images
/// are rarely that close, so few false pairs are excused). See [`calibrate`].
pub const DUPLICATE_QUANTILE: f64 = 0.95;

/// How the threshold was chosen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Calibration {
    /// Validation copies searched with the data.
    pub copies: usize,
    /// Share of flagged validation pairs that had to be right (`--precision`).
    pub target_precision: f64,
    /// Pairs at or above this similarity are duplicates.
    pub threshold: f32,
    /// Validation copies paired with their original at the threshold.
    pub found: usize,
    /// Share of validation copies found.
    pub recall: f64,
    /// Flagged pairs with a validation copy that are not the copy and its original, nor the
    /// copy and a near-duplicate of its original.
    pub false_pairs: usize,
    /// Right pairs / (right + false pairs).
    pub precision: f64,
    /// False pairs a validation copy gets, scaled to the data: an estimate of the false pairs
    /// among the data's own.
    pub expected_false_pairs: f64,
    /// Flagged pairs of a validation copy with a near-duplicate of its original already in the
    /// data (see [`calibrate`]): neither right nor false.
    #[serde(default)]
    pub with_duplicates_of_original: usize,
    /// Validation copies whose original is flagged with another image of the data at the
    /// threshold.
    #[serde(default)]
    pub originals_with_duplicates: usize,
    /// The threshold the copies of originals without a near-duplicate in the data at the chosen
    /// threshold give on their own, for the same precision: what a sample cleaned of the data's
    /// own duplicates gives. `None` when there are none, or with a fixed threshold.
    #[serde(default)]
    pub duplicate_free_threshold: Option<f32>,
    /// The share of validation copies that threshold finds.
    #[serde(default)]
    pub duplicate_free_recall: Option<f64>,
}

impl Calibration {
    /// A warning when the threshold had to go so far above what a duplicate-free sample gives
    /// that it finds noticeably fewer of the validation copies (2 % of them or more).
    pub fn warning(&self) -> Option<String> {
        let (free, free_recall) = (self.duplicate_free_threshold?, self.duplicate_free_recall?);
        (free_recall - self.recall >= 0.02).then(|| {
            format!(
                "the threshold {:.4} finds {:.1} % of the validation copies; the {free:.4} that copies of images without near-duplicates give would find {:.1} %: the data's own duplicates pushed it up (a fixed --threshold {free:.4} finds more, at a lower precision)",
                self.threshold,
                100.0 * self.recall,
                100.0 * free_recall
            )
        })
    }
}

/// One flagged pair with a validation copy, as the calibration sees it.
#[derive(Clone, Copy)]
struct Scored {
    similarity: f32,
    /// The copy's own original (or another copy of it).
    right: bool,
    /// Not right, but the copy's original is a near-duplicate of the other image.
    excused: bool,
    copy: usize,
}

/// What one threshold flags among the scored pairs.
#[derive(Clone, Copy)]
struct Count {
    threshold: f32,
    found: usize,
    right: usize,
    wrong: usize,
    excused: usize,
}

/// The lowest threshold at which the flagged pairs involving a validation copy (items
/// `copies.start..`) are still at least `target` right, or the `fixed` one, with what it finds
/// among them. `root(item)` is the image an item is a copy of (itself for the data's own); a
/// pair is right when both have the same root.
///
/// The data's own near-duplicates: a copy of `x` also matches `y` when `y` is a near-copy of
/// `x` already in the data, and counting that as a false pair would push the threshold up the
/// more duplicates the data holds (to 1 on data in which one image in ten has a copy). Such a
/// pair counts neither way when `x` is at least as similar to `y` as to the copy itself, or as
/// similar as [`DUPLICATE_QUANTILE`] of the validation copies are to their originals. The bar
/// does not depend on the threshold being tried: "any `y` flagged with `x` at that threshold"
/// would let every lower threshold excuse more false pairs (those are exactly the pairs a copy
/// gets wrong), and the choice would slide down. A fixed threshold counts with the same rule.
pub fn calibrate(
    pairs: &[Pair],
    copies: std::ops::Range<usize>,
    root: impl Fn(usize) -> usize,
    data_items: usize,
    target: f64,
    fixed: Option<f32>,
) -> Calibration {
    use std::collections::HashMap;
    // Pairs among the data.
    let among_roots: HashMap<(usize, usize), f32> = pairs
        .iter()
        .filter(|p| p.b < copies.start)
        .map(|p| ((p.a, p.b), p.similarity))
        .collect();
    // Each copy's similarity to its own original.
    let to_original: HashMap<usize, f32> = pairs
        .iter()
        .filter(|p| copies.contains(&p.b) && root(p.a) == root(p.b))
        .map(|p| (p.b, p.similarity))
        .collect();
    // How similar a duplicate is: the similarity that DUPLICATE_QUANTILE of the copies the
    // search found keep to their originals, or more.
    let mut own: Vec<f32> = to_original.values().copied().collect();
    own.sort_by(|x, y| x.total_cmp(y));
    let duplicate_level = own
        .get(((own.len() as f64 - 1.0) * (1.0 - DUPLICATE_QUANTILE)).round() as usize)
        .copied()
        .unwrap_or(1.0);
    let mut scored: Vec<Scored> = pairs
        .iter()
        .filter(|p| copies.contains(&p.b))
        .map(|p| {
            let (x, o) = (root(p.a), root(p.b));
            let xy = *among_roots.get(&(x.min(o), x.max(o))).unwrap_or(&0.0);
            let co = *to_original.get(&p.b).unwrap_or(&1.0);
            Scored {
                similarity: p.similarity,
                right: x == o,
                excused: x != o && xy >= co.min(duplicate_level),
                copy: p.b,
            }
        })
        .collect();
    scored.sort_by(|x, y| y.similarity.total_cmp(&x.similarity));
    // Each original's most similar image among the data.
    let mut partnered: HashMap<usize, f32> = HashMap::new();
    for (&(a, b), &s) in &among_roots {
        for i in [a, b] {
            let e = partnered.entry(i).or_insert(0.0);
            *e = e.max(s);
        }
    }
    let none = Count {
        threshold: 1.0,
        found: 0,
        right: 0,
        wrong: 0,
        excused: 0,
    };
    let (count, duplicate_free_threshold) = match fixed {
        Some(t) => (count_at(&scored, t), None),
        None => {
            let count = sweep(&scored, copies.clone(), target).unwrap_or(none);
            // The same choice on the copies of images without a near-duplicate in the data
            // (nothing at or above that threshold, or the duplicate level when that is lower),
            // nothing excused: a sample cleaned of the data's own duplicates.
            let bar = count.threshold.min(duplicate_level);
            let clean: Vec<Scored> = scored
                .iter()
                .filter(|s| partnered.get(&root(s.copy)).is_none_or(|&p| p < bar))
                .map(|s| Scored {
                    excused: false,
                    ..*s
                })
                .collect();
            let free = (!clean.is_empty()).then(|| {
                sweep(&clean, copies.clone(), target)
                    .unwrap_or(none)
                    .threshold
            });
            (count, free)
        }
    };
    let Count {
        threshold,
        found,
        right,
        wrong,
        excused,
    } = count;
    let m = copies.len();
    Calibration {
        copies: m,
        target_precision: target,
        threshold,
        found,
        recall: found as f64 / m.max(1) as f64,
        false_pairs: wrong,
        precision: if right + wrong == 0 {
            1.0
        } else {
            right as f64 / (right + wrong) as f64
        },
        expected_false_pairs: wrong as f64 / m.max(1) as f64 * data_items as f64 / 2.0,
        with_duplicates_of_original: excused,
        originals_with_duplicates: copies
            .clone()
            .filter(|&c| partnered.get(&root(c)).is_some_and(|&s| s >= threshold))
            .count(),
        duplicate_free_recall: duplicate_free_threshold
            .map(|t| count_at(&scored, t).found as f64 / m.max(1) as f64),
        duplicate_free_threshold,
    }
}

/// What `threshold` flags among `scored`, excused pairs counted neither way.
fn count_at(scored: &[Scored], threshold: f32) -> Count {
    let flagged = || scored.iter().filter(|s| s.similarity >= threshold);
    let found: std::collections::HashSet<usize> =
        flagged().filter(|s| s.right).map(|s| s.copy).collect();
    let excused = flagged().filter(|s| s.excused).count();
    Count {
        threshold,
        found: found.len(),
        right: flagged().filter(|s| s.right).count(),
        wrong: flagged().filter(|s| !s.right).count() - excused,
        excused,
    }
}

/// The lowest threshold among `scored` (most similar first) whose right pairs are at least
/// `target` of the right and false ones, excused pairs counted neither way. `None` when no
/// threshold qualifies.
fn sweep(scored: &[Scored], copies: std::ops::Range<usize>, target: f64) -> Option<Count> {
    let (mut right, mut wrong, mut excused) = (0usize, 0usize, 0usize);
    // Copies found so far (a copy can be right twice: with its original and another copy).
    let mut seen = vec![false; copies.len()];
    let mut found = 0;
    let mut chosen = None;
    for (k, s) in scored.iter().enumerate() {
        if s.right {
            right += 1;
            if !std::mem::replace(&mut seen[s.copy - copies.start], true) {
                found += 1;
            }
        } else if s.excused {
            excused += 1;
        } else {
            wrong += 1;
        }
        let t = s.similarity;
        if scored.get(k + 1).is_some_and(|n| n.similarity == t) {
            continue;
        }
        if right as f64 >= target * (right + wrong) as f64 {
            chosen = Some(Count {
                threshold: t,
                found,
                right,
                wrong,
                excused,
            });
        }
    }
    chosen
}

/// Groups from the pairs at or above `threshold` (pairs with an item ≥ `items` ignored): in item
/// order, each item not yet in a group starts one and takes its not-yet-grouped partners, so
/// every member is a near-duplicate of its group's first (kept) item itself; chains (a like b,
/// b like c, c unlike a) do not merge. Groups of two or more, each sorted, by first item.
pub fn groups(pairs: &[Pair], items: usize, threshold: f32) -> Vec<Vec<usize>> {
    let mut partners: Vec<Vec<usize>> = vec![Vec::new(); items];
    for p in pairs {
        if p.b < items && p.similarity >= threshold {
            partners[p.a].push(p.b);
            partners[p.b].push(p.a);
        }
    }
    let mut grouped = vec![false; items];
    let mut out = Vec::new();
    for i in 0..items {
        if grouped[i] {
            continue;
        }
        grouped[i] = true;
        let mut g = vec![i];
        for &j in &partners[i] {
            if !grouped[j] {
                grouped[j] = true;
                g.push(j);
            }
        }
        if g.len() > 1 {
            g.sort_unstable();
            out.push(g);
        }
    }
    out
}

/// A copier's alteration of `img`, drawn from `r`: resized down and back (to 40–75 %), JPEG at
/// quality 20–60, cropped 1–3 px each side and resized back, brightness ±5–20 levels, or
/// contrast ×0.8–1.2. The validation copies the threshold is chosen on.
pub fn random_alteration(img: &DynamicImage, r: &mut impl Rng) -> DynamicImage {
    let (w, h) = (img.width().max(1), img.height().max(1));
    match r.random_range(0..5) {
        0 => {
            let f: f32 = r.random_range(0.4..0.75);
            let (sw, sh) = (
                ((w as f32 * f) as u32).max(1),
                ((h as f32 * f) as u32).max(1),
            );
            img.resize_exact(sw, sh, FilterType::Triangle)
                .resize_exact(w, h, FilterType::Triangle)
        }
        1 => jpeg(img, r.random_range(20..=60)),
        2 => {
            let k = r.random_range(1..=3u32).min((w.min(h) - 1) / 2);
            img.crop_imm(k, k, w - 2 * k, h - 2 * k)
                .resize_exact(w, h, FilterType::Triangle)
        }
        3 => {
            let d = r.random_range(5..=20);
            img.brighten(if r.random::<bool>() { d } else { -d })
        }
        _ => img.adjust_contrast(r.random_range(-20.0..20.0)),
    }
}

/// `img` re-compressed as JPEG at `quality`.
pub fn jpeg(img: &DynamicImage, quality: u8) -> DynamicImage {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    img.to_rgb8()
        .write_with_encoder(enc)
        .expect("in-memory JPEG");
    image::load_from_memory(&buf).expect("decodes")
}
