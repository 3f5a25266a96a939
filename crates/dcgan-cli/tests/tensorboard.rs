//! `dcgan train --tensorboard DIR`: TensorBoard's own reader (PyPI `tensorboard`) finds every
//! step's losses and D outputs as logged in log.jsonl, and every fixed-noise grid as the PNG the
//! run wrote; a resumed run goes on writing there.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use prost::Message as _;

/// What `scripts/read_tensorboard.py` reads from `dir`, or `None` when python3's tensorboard is
/// missing (a skip, or a failure under CI).
fn read_with_tensorboard(dir: &Path) -> Option<serde_json::Value> {
    let test = "tensorboard";
    let o = match Command::new("python3")
        .arg(repo().join("scripts/read_tensorboard.py"))
        .arg(dir)
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            missing(test, "python3");
            return None;
        }
    };
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() && err.contains("ModuleNotFoundError") {
        missing(test, "python3's tensorboard (pip install tensorboard)");
        return None;
    }
    assert!(o.status.success(), "read_tensorboard.py: {err}");
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

/// The scalars of every event file in `dir`, read with this crate's own reader: tag → step → value.
fn read_with_dcgan(dir: &Path) -> BTreeMap<String, BTreeMap<i64, f32>> {
    use dcgan::io::tensorboard::{Event, read_records};
    let mut out: BTreeMap<String, BTreeMap<i64, f32>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let records =
            read_records(&bytes).unwrap_or_else(|at| panic!("{}: bad record at {at}", f.display()));
        let first = Event::decode(records[0]).unwrap();
        assert_eq!(first.file_version.as_deref(), Some("brain.Event:2"));
        for r in &records[1..] {
            let e = Event::decode(*r).unwrap();
            for v in e.summary.unwrap().value {
                if let Some(x) = v.simple_value {
                    out.entry(v.tag).or_default().insert(e.step, x);
                }
            }
        }
    }
    out
}

#[test]
fn tensorboard_holds_the_log_and_the_grids_and_goes_on_after_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    // 80 images: 10 steps an epoch, so no epoch ends (and writes its own grid) in these 7.
    let data = image_folder(dir.path(), 80, 16);
    let out = dir.path().join("run");
    let tb = dir.path().join("tb");
    train_small(
        &data,
        &out,
        &[
            "--max-steps",
            "5",
            "--sample-every",
            "2",
            "--tensorboard",
            tb.to_str().unwrap(),
        ],
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["train"]["tensorboard"], tb.to_str().unwrap());
    // The resume keeps writing (the folder is in config.json), into a second file.
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&tb).unwrap().count(), 2);

    let log = read_log(&out);
    assert_eq!(log.len(), 7);
    let ours = read_with_dcgan(&tb);
    for (tag, key) in [
        ("loss/D", "loss_d"),
        ("loss/G", "loss_g"),
        ("D_output/real", "d_real"),
        ("D_output/fake_in_D_step", "d_fake"),
        ("D_output/fake_in_G_step", "d_fake_after"),
    ] {
        let logged: BTreeMap<i64, f32> = log
            .iter()
            .map(|r| (r["step"].as_i64().unwrap(), r[key].as_f64().unwrap() as f32))
            .collect();
        assert_eq!(ours[tag], logged, "{tag}");
    }

    let Some(r) = read_with_tensorboard(&tb) else {
        return;
    };
    // TensorBoard's reader sees the same values at the same steps.
    for (tag, values) in &ours {
        let theirs: BTreeMap<i64, f32> = r["scalars"][tag]
            .as_array()
            .unwrap_or_else(|| panic!("{tag} missing: {r}"))
            .iter()
            .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32))
            .collect();
        assert_eq!(&theirs, values, "{tag}");
    }
    // Each grid is the PNG the run wrote, at its step: 2, 4, the last step 5, then 6 and 7.
    let grids = r["images"]["samples/fixed_noise"].as_array().unwrap();
    let steps: Vec<u64> = grids.iter().map(|g| g[0].as_u64().unwrap()).collect();
    assert_eq!(steps, [2, 4, 5, 6, 7]);
    for g in grids {
        let step = g[0].as_u64().unwrap();
        let png = std::fs::read(out.join(format!("samples/step-{step:08}.png"))).unwrap();
        let (w, h) =
            image::image_dimensions(out.join(format!("samples/step-{step:08}.png"))).unwrap();
        assert_eq!(
            (g[1].as_u64().unwrap(), g[2].as_u64().unwrap()),
            (w as u64, h as u64)
        );
        assert_eq!(g[3], sha256_hex(&png), "step {step}");
    }
}

/// sha256 of `bytes` in lower-case hex, with `sha256sum`'s algorithm (coreutils) to stay
/// independent of the code under test.
fn sha256_hex(bytes: &[u8]) -> String {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    let o = Command::new("sha256sum").arg(f.path()).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn tensorboard_into_a_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 8, 16);
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let o = try_train_small(
        &data,
        &dir.path().join("run"),
        &[
            "--max-steps",
            "1",
            "--tensorboard",
            blocker.to_str().unwrap(),
        ],
    );
    assert_clean_failure(&o, 2, blocker.to_str().unwrap());
    assert!(
        !dir.path().join("run/config.json").exists(),
        "no half-started run"
    );
}
