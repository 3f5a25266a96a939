//! Planted near-duplicates: copies of a data set's own images, altered as a copier would, to
//! measure de-duplication (`dcgan data dedup-eval`) and to choose its threshold; the scores of
//! flagged pairs against them.

use std::sync::Arc;

use image::DynamicImage;
use serde::Serialize;

use crate::data::{Dataset, ItemError};
use crate::rng::{self, Stream};

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
    /// [`super::near::random_alteration`].
    pub fn validation(base: Arc<dyn Dataset>, originals: usize, count: usize, seed: u64) -> Self {
        let mut r = Stream::DedupCalibration.rng(seed);
        let order = rng::shuffled(Stream::DedupCalibration, seed, originals.min(base.len()));
        Self::with(base, &order, count, |img, _| {
            super::near::random_alteration(img, &mut r)
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
        1 => super::near::jpeg(img, 30 + ((k / 4) % 11) as u8),
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
pub struct PairScores {
    /// Copies planted (each makes one pair with its original).
    pub planted_pairs: usize,
    /// Planted pairs found (copy and original in the same group).
    pub found: usize,
    /// found / planted_pairs.
    pub recall: f64,
    /// Pairs the search flagged as duplicates.
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
    /// Groups of duplicates found.
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
pub fn score(flagged: &[(usize, usize)], pairs: &[(usize, usize)], n: usize) -> PairScores {
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
        let pairs: Vec<super::near::Pair> = flagged
            .iter()
            .map(|&(a, b)| super::near::Pair {
                a,
                b,
                similarity: 1.0,
            })
            .collect();
        super::near::groups(&pairs, n, 0.0).len()
    };
    let ratio = |x: usize, y: usize| if y == 0 { 1.0 } else { x as f64 / y as f64 };
    PairScores {
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
