//! The Python package (`crates/dcgan-py`): built as the workspace's tests build it, laid out as its
//! wheel lays it out (python/dcgan plus the extension as `dcgan/_dcgan.abi3.so`), and tested with
//! pytest against this CLI (`crates/dcgan-py/tests/test_dcgan.py`: every result equal to the
//! CLI's, the exceptions, an interrupted training that resumes exactly, memory, the GIL).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The extension module, built by cargo with the workspace's own features (the same build as
/// the tests', so nothing else is compiled again): `target/release/lib_dcgan.so`.
fn build_extension() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // Without the variables cargo sets for a running test (CARGO_PKG_NAME, CARGO_MANIFEST_DIR,
    // …): build scripts that watch them (ring's, through `cc`) would run again and everything
    // above them would be compiled again, though nothing changed.
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if SET_FOR_TESTS.iter().any(|p| n.starts_with(p)) {
            command.env_remove(&name);
        }
    }
    let o = command
        .current_dir(repo())
        // The targets `cargo test` builds (not `--all-targets`: benches use the bench profile,
        // which would compile the library again), so the features and profile are the tests'.
        .args([
            "build",
            "--release",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--examples",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        o.status.success(),
        "building the extension failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = Path::new(env!("CARGO_BIN_EXE_dcgan")).parent().unwrap();
    let lib = dir.join(if cfg!(target_os = "macos") {
        "lib_dcgan.dylib"
    } else {
        "lib_dcgan.so"
    });
    assert!(lib.is_file(), "{} was not built", lib.display());
    lib
}

/// Prefixes of the environment variables cargo sets for the test binaries it runs.
const SET_FOR_TESTS: &[&str] = &[
    "CARGO_MANIFEST_",
    "CARGO_PKG_",
    "CARGO_CRATE_",
    "CARGO_BIN_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Whether `python3 -c CODE` succeeds.
fn python_has(code: &str) -> bool {
    Command::new("python3")
        .args(["-c", code])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_python_package_passes_its_tests_against_the_cli() {
    let test = "python package";
    if !python_has("import numpy, pytest, PIL") {
        return missing(
            test,
            "python3 with numpy, pytest and pillow (pip install numpy pytest pillow)",
        );
    }
    let lib = build_extension();
    let site = tempfile::tempdir().unwrap();
    let package = site.path().join("dcgan");
    std::fs::create_dir_all(&package).unwrap();
    let sources = repo().join("crates/dcgan-py/python/dcgan");
    for f in std::fs::read_dir(&sources).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, package.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(&lib, package.join("_dcgan.abi3.so")).unwrap();
    let o = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(repo().join("crates/dcgan-py/tests"))
        .env("PYTHONPATH", site.path())
        .env("DCGAN_BIN", env!("CARGO_BIN_EXE_dcgan"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("python3 runs");
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "pytest failed:\n{out}");
    assert!(
        !out.contains("skipped") || !ci(),
        "a Python test was skipped under CI: {out}"
    );
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
