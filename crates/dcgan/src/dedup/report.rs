//! The report `dcgan data dedup` writes (groups of near-duplicates, the items left out) and the
//! perceptual-hash baseline it is measured against.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;

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
    /// The data set searched, as given.
    pub source: String,
    /// Items in that data set.
    pub images: usize,
    /// "near" (the default search) or "paper" (equal autoencoder codes).
    #[serde(default = "paper_mode")]
    pub mode: String,
    /// Paper mode: bits of the autoencoder's code (near mode: 0).
    pub code_bits: usize,
    /// Paper mode: the autoencoder's reconstruction error (near mode: 0).
    #[serde(default)]
    pub reconstruction_mse: f32,
    /// Near mode: how the similarity threshold was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<super::near::Calibration>,
    /// Each group: item indices and names; the first of a group is kept.
    pub groups: Vec<Group>,
    /// Every item but the first of each group.
    pub excluded: Vec<usize>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
/// A group of near-duplicates.
pub struct Group {
    /// Item indices, the kept one first.
    pub items: Vec<usize>,
    /// Item names (file paths or keys), in the same order.
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
