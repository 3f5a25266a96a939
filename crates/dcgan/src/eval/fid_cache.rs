//! The statistics cache of real image sets (`CACHE_DIR/fid-stats`): a set's μ, Σ and features,
//! kept under a key of everything that shapes them, so the next FID against the same data runs
//! Inception on the generated side only.

use std::path::{Path, PathBuf};

use super::fid::Stats;
use super::inception::FEATURES;
use crate::data::Dataset;
use crate::progress::{Event, Events};
use crate::{Error, Result};

/// The name a real set's statistics are cached under: a SHA-256 of everything that shapes them.
/// The data: its fingerprint (item count and the pixels of 64 items spread over it) and every
/// item's name, so an added, removed, renamed or re-ordered image, or an edit to a sampled one,
/// gives another key (an image edited in place under the same name, outside the sample, does
/// not: `--no-stats-cache`). The preparation: the side the images are prepared at, the
/// background transparency is composited over, how many are drawn and from which seed, the
/// FID mode. The network: the weight file's length and first MiB. And a
/// version of this pipeline, raised whenever preprocessing or the network's port changes.
pub fn cache_key(
    ds: &dyn Dataset,
    size: usize,
    (n, seed): (usize, u64),
    mode: crate::config::FidMode,
    weights: &Path,
) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut h = Sha256::new();
    h.update(b"dcgan fid statistics, pipeline 1\n");
    h.update(serde_json::to_vec(&crate::data::Fingerprint::of(ds)).expect("plain data"));
    for i in 0..ds.len() {
        h.update(ds.name(i).as_bytes());
        h.update(b"\n");
    }
    h.update(format!("size {size}, n {n}, seed {seed}\n").as_bytes());
    // Statistics of the pipeline before the modes keep their key.
    if mode != crate::config::FidMode::LegacyDcgan {
        h.update(format!("mode {mode}\n").as_bytes());
    }
    // Transparency composited over another background is another set of images.
    if let Some(b) = ds.background() {
        h.update(format!("background {b}\n").as_bytes());
    }
    let mut head = Vec::new();
    let file = std::fs::File::open(weights).map_err(|e| Error::io(weights, e))?;
    let len = file.metadata().map_err(|e| Error::io(weights, e))?.len();
    file.take(1 << 20)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(weights, e))?;
    h.update(len.to_le_bytes());
    h.update(&head);
    Ok(crate::io::hex(&h.finalize()[..16]))
}

/// A cached set: `KEY.npz` (μ, Σ, n, the layout `--save-stats` writes) and
/// `KEY.features.npy` (n × 2048 float32, for KID).
pub(crate) struct CacheEntry {
    pub stats: PathBuf,
    pub features: PathBuf,
}

impl CacheEntry {
    pub fn new(dir: &Path, key: &str) -> Self {
        Self {
            stats: dir.join(format!("{key}.npz")),
            features: dir.join(format!("{key}.features.npy")),
        }
    }

    /// The cached statistics and features, if both are there and agree; a damaged entry is a
    /// warning and a fresh computation, never a failed run.
    pub fn load(&self, events: &mut dyn Events) -> Option<(Stats, Vec<f32>)> {
        if !self.stats.is_file() || !self.features.is_file() {
            return None;
        }
        let read = || -> Result<(Stats, Vec<f32>)> {
            let stats = Stats::load_npz(&self.stats)?;
            let f = crate::io::npy::read(&self.features)?;
            if f.shape != [stats.n, FEATURES] || stats.dim != FEATURES {
                return Err(Error::format(
                    &self.features,
                    format!("has shape {:?} beside {} statistics", f.shape, stats.n),
                ));
            }
            Ok((stats, f.data))
        };
        match read() {
            Ok(x) => Some(x),
            Err(e) => {
                events.emit(Event::Warning(format!(
                    "cached FID statistics unusable, computing them again: {e}"
                )));
                None
            }
        }
    }

    /// Keeps a set's statistics and features (atomic writes); a cache that cannot be written is
    /// a warning, not a failed run.
    pub fn store(&self, stats: &Stats, features: &[f32], events: &mut dyn Events) {
        let write = || -> Result<()> {
            if let Some(dir) = self.stats.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let shape = vec![features.len() / FEATURES, FEATURES];
            crate::io::npy::write(
                &self.features,
                &crate::io::HostTensor::new(shape, features.to_vec()),
            )?;
            stats.save_npz(&self.stats, None)
        };
        if let Err(e) = write() {
            events.emit(Event::Warning(format!("FID statistics not cached: {e}")));
        }
    }
}
