//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the repository root, or `DCGAN_SHARED`. Tests that need it print a visible
/// skip line when it is absent (it is not part of the project).
pub fn shared_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DCGAN_SHARED") {
        let p = PathBuf::from(p);
        return p.join("golden").is_dir().then_some(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("../shared");
    p.join("golden").is_dir().then(|| p.canonicalize().unwrap())
}

pub fn skip(test: &str, what: &str) {
    missing(
        test,
        &format!("{what} (set DCGAN_SHARED to the shared/ folder)"),
    );
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

/// A test cannot run because `what` is missing (the goldens, the FID weights, a Debian data
/// set). Under CI (`CI` set and not `false`/`0`) that is a failure: CI must not pass without its
/// evidence. Elsewhere it is a skip, printed and appended to `target/tmp/skipped-tests.txt` so
/// it is counted (`.ci/run` prints the count).
pub fn missing(test: &str, what: &str) {
    if under_ci() {
        panic!("{test}: {what} is missing, and under CI every test must run");
    }
    count_skip(format!("SKIPPED {test}: {what} is missing"));
}

/// Tests that need a cargo feature this build lacks (`feature`, built by `command`). Under CI
/// that is a failure: the README's test command builds the workspace, where the CLI's default
/// features give the library wgpu. Elsewhere (`cargo test -p dcgan` alone) it is a counted skip,
/// as in [`missing`].
pub fn not_built(test: &str, feature: &str, command: &str) {
    if under_ci() {
        panic!("{test}: this build has no --features {feature}, and under CI every test must run");
    }
    count_skip(format!(
        "SKIPPED {test}: built without --features {feature} (run `{command}`)"
    ));
}

/// Print a skip and append it to `target/tmp/skipped-tests.txt`, which `.ci/run` counts.
fn count_skip(line: String) {
    eprintln!("{line}");
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        use std::io::Write as _;
        let _ = writeln!(f, "{line}");
    }
}

/// `CI` set and not `false`/`0`.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
