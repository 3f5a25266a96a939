//! Helpers for the command-line tests: they run the real `dcgan` binary in temporary folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn dcgan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dcgan"))
}

pub fn run(args: &[&str]) -> Output {
    dcgan().args(args).output().expect("dcgan runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A folder of `n` small RGB PNGs in two class folders: smooth colour gradients whose hue
/// depends on the index, so the images differ.
pub fn image_folder(dir: &Path, n: usize, size: u32) -> PathBuf {
    let root = dir.join("images");
    for class in ["a", "b"] {
        std::fs::create_dir_all(root.join(class)).unwrap();
    }
    for i in 0..n {
        let class = if i % 2 == 0 { "a" } else { "b" };
        let img = image::RgbImage::from_fn(size, size, |x, y| {
            let t = i as u32 * 37;
            image::Rgb([
                ((x * 255 / size + t) % 256) as u8,
                ((y * 255 / size + 2 * t) % 256) as u8,
                ((x + y + t) % 256) as u8,
            ])
        });
        img.save(root.join(class).join(format!("{i:04}.png")))
            .unwrap();
    }
    root
}

/// Runs `dcgan` with `args`, asserts it succeeded and returns its output.
pub fn succeed(args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>) -> Output {
    let o = dcgan().args(args).output().expect("dcgan runs");
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// `train` of the small model on `data` into `out` for `steps` steps (grids every 1000 steps,
/// epochs never the limit), then `extra`.
pub fn train_args(data: &Path, out: &Path, steps: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-steps",
        steps,
        "--epochs",
        "100",
        "--sample-every",
        "1000",
    ]
    .map(String::from)
    .to_vec();
    a.extend(small_model().iter().map(|s| s.to_string()));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Arguments for a small, fast model on 16×16 images.
pub fn small_model() -> Vec<&'static str> {
    vec![
        "--image-size",
        "16",
        "--generator-width",
        "8",
        "--discriminator-width",
        "8",
        "--latent-dim",
        "16",
        "--batch-size",
        "8",
    ]
}

/// A log without its timing column (`images_per_second`), for comparing runs.
pub fn without_timing(mut log: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    log.iter_mut().for_each(|r| {
        r.as_object_mut().unwrap().remove("images_per_second");
    });
    log
}

pub fn read_log(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The checkout's root (for `web/` and its Node checks).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `dcgan export-web` and `dcgan serve` find the web bundle by default: `target/web`
/// beside the binary's folder.
pub fn web_bundle() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_dcgan"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("web")
}

/// Whether `npm ci --prefix web` has installed playwright-core, which the Chromium checks need.
pub fn has_playwright() -> bool {
    repo().join("web/node_modules/playwright-core").is_dir()
}

/// Run one of `web/test/`'s Chromium checks (`script`, with `args`): whether it passed, and the
/// JSON object it prints. Its output is echoed, labelled, for the test log.
pub fn browser_check(
    label: &str,
    script: &str,
    args: &[&std::ffi::OsStr],
) -> (bool, serde_json::Value) {
    let page = Command::new("node")
        .arg(repo().join("web/test").join(script))
        .args(args)
        .output()
        .expect("node runs");
    let out = String::from_utf8_lossy(&page.stdout);
    eprintln!("{label}: {out}{}", String::from_utf8_lossy(&page.stderr));
    let r = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {out}"));
    (page.status.success(), r)
}

pub fn shared_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DCGAN_SHARED") {
        let p = PathBuf::from(p);
        return p.join("golden").is_dir().then_some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.join("golden").is_dir().then(|| p.canonicalize().unwrap())
}

/// `dcgan train --data DATA --out OUT` with the small model and `extra` flags, as it ends.
pub fn try_train_small(data: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(small_model());
    args.extend(extra);
    run(&args)
}

/// [`try_train_small`], and the run must succeed.
pub fn train_small(data: &Path, out: &Path, extra: &[&str]) -> Output {
    let o = try_train_small(data, out, extra);
    assert!(o.status.success(), "training failed: {}", stderr(&o));
    o
}

/// The command failed cleanly: exit `code`, `needle` in stderr, one `dcgan: error` line, no panic trace.
pub fn assert_clean_failure(o: &std::process::Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "panic trace: {err}"
    );
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("dcgan: error"))
            .count(),
        1,
        "{err}"
    );
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
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if ci {
        panic!("{test}: {what} is missing, and under CI every test must run");
    }
    let line = format!("SKIPPED {test}: {what} is missing");
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

/// `labels` as a 1-D int64 `.npy` file (NumPy's layout: magic, version 1.0, a header padded
/// to 64 bytes, little-endian values), as `np.save` writes class labels.
pub fn write_labels(path: &Path, labels: &[i64]) {
    let mut header = format!(
        "{{'descr': '<i8', 'fortran_order': False, 'shape': ({},), }}",
        labels.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for v in labels {
        bytes.extend(v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}
