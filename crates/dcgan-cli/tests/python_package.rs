//! The Python package (`crates/dcgan-py`): built as the workspace builds it, laid out as its
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
    let o = Command::new(cargo)
        .current_dir(repo())
        .args(["build", "--release", "--workspace", "--all-targets"])
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
