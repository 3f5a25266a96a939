//! Data-set tools behind `dcgan data`: what a data set holds, a preview grid, export to a folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::dataset::{Dataset, ItemError};
use super::transform::Transform;
use crate::error::{Error, IoContext, Result};

#[derive(Serialize, Debug)]
/// What `dcgan data info` reports about a data set.
pub struct Info {
    /// The data set's own description (kind and source).
    pub description: String,
    /// Items in the data set.
    pub items: usize,
    /// Items examined (all, or the first `limit`).
    pub examined: usize,
    /// (width × height) → count, of the readable items examined.
    pub sizes: BTreeMap<String, usize>,
    /// Channel layout (grey, grey+alpha, rgb, rgba, ...) → count, as stored.
    pub channels: BTreeMap<String, usize>,
    /// Readable items examined with transparency (an alpha channel with a pixel that is not
    /// fully opaque).
    pub transparent: usize,
    /// What those are composited over before use (`--background`), when the data set does it.
    pub background: Option<String>,
    /// Class name → items, if the data set has labels.
    pub classes: BTreeMap<String, usize>,
    /// Items examined that could not be read.
    pub unreadable: usize,
    /// The first unreadable items, with why.
    pub unreadable_examples: Vec<String>,
}

/// Decode every item (or the first `limit`) in parallel and count what is there.
pub fn info(ds: &dyn Dataset, limit: usize) -> Info {
    let n = ds.len().min(limit);
    type Seen = (u32, u32, String, bool);
    let results: Vec<std::result::Result<Seen, ItemError>> = (0..n)
        .into_par_iter()
        .map(|i| {
            ds.get_as_stored(i).map(|img| {
                (
                    img.width(),
                    img.height(),
                    format!("{:?}", img.color()).to_lowercase(),
                    super::alpha::has_transparency(&img),
                )
            })
        })
        .collect();
    let mut sizes = BTreeMap::new();
    let mut channels = BTreeMap::new();
    let mut bad = Vec::new();
    let mut transparent = 0;
    for r in results {
        match r {
            Ok((w, h, c, t)) => {
                *sizes.entry(format!("{w}x{h}")).or_insert(0) += 1;
                *channels.entry(c).or_insert(0) += 1;
                transparent += t as usize;
            }
            Err(e) => bad.push(e.to_string()),
        }
    }
    let names = ds.classes();
    let mut classes = BTreeMap::new();
    if !names.is_empty() {
        for i in 0..n {
            if let Some(l) = ds.label(i) {
                *classes
                    .entry(names.get(l).cloned().unwrap_or_else(|| l.to_string()))
                    .or_insert(0) += 1;
            }
        }
    }
    Info {
        description: ds.describe(),
        items: ds.len(),
        examined: n,
        sizes,
        channels,
        transparent,
        background: ds.background().map(|b| b.to_string()),
        classes,
        unreadable: bad.len(),
        unreadable_examples: bad.into_iter().take(20).collect(),
    }
}

/// `n` random items (drawn from `seed`), prepared as the model would see them, `[n, c, s, s]`.
/// Unreadable items are skipped.
pub fn preview(ds: &dyn Dataset, n: usize, t: Transform, seed: u64) -> (usize, Vec<f32>) {
    let order = crate::rng::shuffled(crate::rng::Stream::PreviewOrder, seed, ds.len());
    let mut out = Vec::new();
    let mut count = 0;
    for &i in &order {
        if count == n {
            break;
        }
        if let Ok(img) = ds.get(i) {
            out.extend(t.apply(&img));
            count += 1;
        }
    }
    (count, out)
}

/// Write the items (the first `limit`) as files in `out`: an LMDB's stored bytes as they are
/// (named by key, with the extension of their format), other sources decoded and saved as PNG.
/// Returns (written, unreadable).
pub fn export(
    ds: &dyn Dataset,
    lmdb: Option<&super::lmdb::Lmdb>,
    out: &Path,
    limit: usize,
) -> Result<(usize, usize)> {
    std::fs::create_dir_all(out).at(out)?;
    let n = ds.len().min(limit);
    let results: Vec<Result<bool>> = (0..n)
        .into_par_iter()
        .map(|i| -> Result<bool> {
            if let Some(db) = lmdb {
                let Ok(bytes) = db.raw(i) else {
                    return Ok(false);
                };
                let ext = image::guess_format(&bytes)
                    .ok()
                    .and_then(|f| f.extensions_str().first().copied())
                    .unwrap_or("bin");
                let name: String = String::from_utf8_lossy(db.key(i))
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let path: PathBuf = out.join(format!("{name}.{ext}"));
                std::fs::write(&path, bytes).at(&path)?;
                return Ok(true);
            }
            // As stored: the alpha channel is kept (PNG has one).
            let Ok(img) = ds.get_as_stored(i) else {
                return Ok(false);
            };
            let path = out.join(format!("{i:08}.png"));
            img.save(&path)
                .map_err(|e| Error::format(&path, e.to_string()))?;
            Ok(true)
        })
        .collect();
    let mut written = 0;
    for r in results {
        if r? {
            written += 1;
        }
    }
    Ok((written, n - written))
}
