//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the repository root, or `DCGAN_SHARED`. Tests that need it print a visible
/// skip line when it is absent (it is not part of the project).
pub fn shared_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DCGAN_SHARED") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("../shared");
    p.join("golden").is_dir().then(|| p.canonicalize().unwrap())
}

pub fn skip(test: &str, what: &str) {
    eprintln!("SKIPPED {test}: {what} not found (set DCGAN_SHARED to the shared/ folder)");
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Where `dcgan fid` finds the Inception weights, by the CLI's rule: `$DCGAN_FID_WEIGHTS`, else
/// `fid/default_1.pt` in `$DCGAN_CACHE` or the conventional cache.
pub fn fid_weights() -> PathBuf {
    use dcgan::data::download::Locations;
    if let Some(p) = std::env::var_os("DCGAN_FID_WEIGHTS") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("DCGAN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Locations::conventional_cache(
                std::env::var_os("XDG_CACHE_HOME").map(Into::into),
                std::env::var_os("HOME").map(Into::into),
            )
        });
    Locations::with_cache(cache).fid_weights()
}
