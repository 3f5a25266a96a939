//! Every input a fuzz target once crashed on (`fuzz/regressions/<target>/`) and every seed
//! (`fuzz/seeds/<target>/`) goes through the target's code again: none may panic. The targets'
//! code is `fuzz/fuzz_targets/bodies.rs`, shared with `cargo fuzz` (`scripts/fuzz.sh`).

#[path = "../../../fuzz/fuzz_targets/bodies.rs"]
mod bodies;

use std::path::Path;

type Body = fn(&[u8]);

const TARGETS: &[(&str, Body)] = &[
    ("idx", bodies::idx),
    ("cifar", bodies::cifar),
    ("svhn_mat", bodies::svhn_mat),
    ("lmdb", bodies::lmdb),
    ("npy", bodies::npy),
    ("npz_stats", bodies::npz_stats),
    ("safetensors", bodies::safetensors),
    ("torchscript", bodies::torchscript),
    ("config_json", bodies::config_json),
    ("dedup_report", bodies::dedup_report),
    ("image", bodies::image),
    ("boxes_json", bodies::boxes_json),
    ("serve_request", bodies::serve_request),
];

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn fuzz_seeds_and_kept_crashes_run_clean() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut ran = 0;
    for (target, body) in TARGETS {
        let seeds = inputs(&fuzz.join("seeds").join(target));
        assert!(
            !seeds.is_empty(),
            "{target}: no seed inputs (python3 fuzz/make-seeds.py)"
        );
        for (name, bytes) in seeds
            .iter()
            .chain(&inputs(&fuzz.join("regressions").join(target)))
        {
            // A panic here names the input; the assertion below only counts.
            eprintln!("{target}: {name}");
            body(bytes);
            ran += 1;
        }
    }
    assert!(ran >= TARGETS.len());
}

#[test]
fn every_target_is_listed() {
    // A target added to fuzz/Cargo.toml must be run here too.
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/Cargo.toml"),
    )
    .unwrap();
    let bins = manifest.matches("[[bin]]").count();
    assert_eq!(bins, TARGETS.len(), "fuzz/Cargo.toml has {bins} targets");
}
