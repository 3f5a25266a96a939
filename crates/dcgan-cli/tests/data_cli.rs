//! `dcgan data` and LMDB sources (LSUN's layout, written here with heed), and bad data input.

mod common;

use common::*;
use std::path::Path;

/// Encode a 24×20 colour gradient as JPEG (even i) or lossless WebP (odd i).
fn encoded(i: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(24, 20, |x, y| {
        image::Rgb([(x * 10 + i) as u8, (y * 12) as u8, (i * 37 % 256) as u8])
    });
    let mut out = Vec::new();
    let format = if i.is_multiple_of(2) {
        image::ImageFormat::Jpeg
    } else {
        image::ImageFormat::WebP
    };
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .unwrap();
    out
}

#[allow(unsafe_code)]
fn write_lmdb(dir: &Path, values: &[(String, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    // SAFETY: a fresh environment in a temporary folder that nothing else opens.
    let env = unsafe { heed::EnvOpenOptions::new().map_size(16 << 20).open(dir) }.unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let db: heed::Database<heed::types::Bytes, heed::types::Bytes> =
        env.create_database(&mut wtxn, None).unwrap();
    for (k, v) in values {
        db.put(&mut wtxn, k.as_bytes(), v).unwrap();
    }
    wtxn.commit().unwrap();
}

fn lsun_like(dir: &Path, n: u32) -> (std::path::PathBuf, Vec<(String, Vec<u8>)>) {
    let values: Vec<_> = (0..n)
        .map(|i| {
            (
                format!("{:040x}", i as u128 * 0x9e3779b97f4a7c15),
                encoded(i),
            )
        })
        .collect();
    let db = dir.join("bedroom_train_lmdb");
    write_lmdb(&db, &values);
    (db, values)
}

#[test]
fn trains_from_an_lmdb_and_exports_it_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (db, values) = lsun_like(dir.path(), 40);
    let o = run(&["data", "info", db.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(info["items"], 40);
    assert_eq!(info["sizes"]["24x20"], 40);
    assert_eq!(info["unreadable"], 0);

    let out = dir.path().join("run");
    let mut args = vec![
        "train",
        "--data",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(small_model());
    args.extend(["--max-steps", "3"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(40 images, LMDB)"), "{}", stderr(&o));
    assert_eq!(read_log(&out).len(), 3);

    let exported = dir.path().join("export");
    let o = run(&[
        "data",
        "export",
        db.to_str().unwrap(),
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("wrote 40 images"));
    for (i, (k, v)) in values.iter().enumerate() {
        let ext = if i % 2 == 0 { "jpg" } else { "webp" };
        assert_eq!(
            &std::fs::read(exported.join(format!("{k}.{ext}"))).unwrap(),
            v,
            "{k}"
        );
    }
    // The exported folder is a data set too, with the same images.
    let o = run(&["data", "info", exported.to_str().unwrap(), "--json"]);
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(info["items"], 40);

    let grid = dir.path().join("preview.png");
    let o = run(&[
        "data",
        "preview",
        db.to_str().unwrap(),
        "--out",
        grid.to_str().unwrap(),
        "--n",
        "9",
        "--size",
        "16",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(image::open(&grid).unwrap().width(), 3 * 18 + 2);
}

#[test]
fn corrupt_and_truncated_lmdb_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = lsun_like(dir.path(), 300);
    let data = db.join("data.mdb");
    let bytes = std::fs::read(&data).unwrap();
    // Truncated: the second half of the file is gone (LMDB would read past its map and crash).
    std::fs::write(&data, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&["data", "info", db.to_str().unwrap()]);
    assert_clean_failure(
        &o,
        2,
        &format!("{}: truncated: the database has", data.display()),
    );
    // Garbage.
    std::fs::write(&data, vec![0x5au8; 64 * 1024]).unwrap();
    let o = run(&["data", "info", db.to_str().unwrap()]);
    assert_clean_failure(
        &o,
        2,
        &format!("{}: not a readable LMDB database", data.display()),
    );
}

/// A PNG header claiming 100000 × 100000 pixels: refused before any allocation.
fn png_bomb() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut crc = flate2::Crc::new();
    crc.update(&ihdr);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc.sum().to_be_bytes());
    png
}

#[test]
fn zero_byte_images_and_decompression_bombs_are_counted_skips() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 38, 16);
    std::fs::write(data.join("a/empty.png"), b"").unwrap();
    std::fs::write(data.join("b/bomb.png"), png_bomb()).unwrap();
    let o = run(&["data", "info", data.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(info["unreadable"], 2);
    let examples = info["unreadable_examples"].to_string();
    assert!(
        examples.contains("empty.png") && examples.contains("bomb.png"),
        "{examples}"
    );
    assert!(
        examples.contains("limit"),
        "the bomb is refused by the size limit: {examples}"
    );
    // Training skips and counts them.
    let out = dir.path().join("run");
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-bad-fraction",
        "0.1",
        "--epochs",
        "1",
    ];
    args.extend(small_model());
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("skipped 2 unreadable images"),
        "{}",
        stdout(&o)
    );
    // An LMDB value that is no image is skipped the same way.
    let db = dir.path().join("db");
    let mut values: Vec<_> = (0..10).map(|i| (format!("k{i:02}"), encoded(i))).collect();
    values.push(("k99".into(), Vec::new()));
    write_lmdb(&db, &values);
    let o = run(&["data", "info", db.to_str().unwrap(), "--json"]);
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (info["items"].as_u64(), info["unreadable"].as_u64()),
        (Some(11), Some(1))
    );
    assert!(info["unreadable_examples"].to_string().contains("[k99]"));
}

/// `data dedup` on a folder with exact and near copies: a report whose groups hold the copies,
/// `kept.txt`, a picture, in both modes; `train --exclude` then trains on the kept images only.
/// `n` photograph-like 32×32 images in `dir/images/{a,b}`: random 4×4 colour fields, smoothly
/// resized, so no two look alike (the gradients of `image_folder` differ by a shift only).
fn textured_folder(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let root = dir.join("images");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 56) as u8
    };
    for i in 0..n {
        let class = if i % 2 == 0 { "a" } else { "b" };
        std::fs::create_dir_all(root.join(class)).unwrap();
        let small = image::RgbImage::from_fn(4, 4, |_, _| image::Rgb([next(), next(), next()]));
        image::imageops::resize(&small, 32, 32, image::imageops::FilterType::Triangle)
            .save(root.join(class).join(format!("{i:04}.png")))
            .unwrap();
    }
    root
}

#[test]
fn dedup_finds_copies_and_train_excludes_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = textured_folder(dir.path(), 60);
    // Three byte-identical copies under other names.
    let identical = [
        ("a/0000.png", "a/copy-0000.png"),
        ("b/0001.png", "b/copy-0001.png"),
        ("a/0002.png", "b/copy-0002.png"),
    ];
    for (src, dst) in identical {
        std::fs::copy(data.join(src), data.join(dst)).unwrap();
    }
    // A paper-mode run: identical images have identical codes.
    let paper = dir.path().join("dedup-paper");
    let o = run(&[
        "data",
        "dedup",
        data.to_str().unwrap(),
        "--out",
        paper.to_str().unwrap(),
        "--mode",
        "paper",
        "--epochs",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(paper.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        (report["images"].as_u64(), report["mode"].as_str()),
        (Some(63), Some("paper"))
    );
    assert_eq!(report["code_bits"], 128);
    let grouped = |report: &serde_json::Value, orig: &str, copy: &str| {
        report["groups"].as_array().unwrap().iter().any(|g| {
            let names = g["names"].to_string();
            names.contains(orig) && names.contains(copy)
        })
    };
    for (orig, copy) in identical {
        assert!(
            grouped(&report, orig, copy),
            "{orig} and {copy} not grouped: {report}"
        );
    }

    // The default near-duplicate search also finds a brightened copy (with 64 validation
    // copies, precision 0.99 cannot be measured: one false pair in 64 is 0.984).
    let img = image::open(data.join("a/0006.png")).unwrap();
    img.brighten(10)
        .save(data.join("b/bright-0006.png"))
        .unwrap();
    let out = dir.path().join("dedup");
    let o = run(&[
        "data",
        "dedup",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--precision",
        "0.95",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(summary["mode"], "near");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        (report["images"].as_u64(), report["mode"].as_str()),
        (Some(64), Some("near"))
    );
    let cal = &report["calibration"];
    assert_eq!(cal["copies"], 64);
    assert_eq!(summary["threshold"], cal["threshold"]);
    for (orig, copy) in identical
        .into_iter()
        .chain([("a/0006.png", "b/bright-0006.png")])
    {
        assert!(
            grouped(&report, orig, copy),
            "{orig} and {copy} not grouped: {report}"
        );
    }
    // Each group lists its members' similarity to the first, 1 for the first itself.
    for g in report["groups"].as_array().unwrap() {
        let s = g["similarity"].as_array().unwrap();
        assert_eq!(s.len(), g["items"].as_array().unwrap().len());
        assert_eq!(s[0], 1.0);
        assert!(
            s.iter()
                .all(|v| v.as_f64().unwrap() >= cal["threshold"].as_f64().unwrap() - 1e-6)
        );
    }
    let excluded = report["excluded"].as_array().unwrap().len();
    assert!(excluded >= 4);
    let kept = std::fs::read_to_string(out.join("kept.txt")).unwrap();
    assert_eq!(kept.lines().count(), 64 - excluded);
    let fig = image::open(out.join("groups.png")).unwrap();
    assert!(
        fig.width() >= 2 * 64 && fig.height() >= 64,
        "{:?}",
        (fig.width(), fig.height())
    );

    let run_dir = dir.path().join("run");
    let rp = out.join("report.json");
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        run_dir.to_str().unwrap(),
        "--exclude",
        rp.to_str().unwrap(),
        "--epochs",
        "1",
    ];
    args.extend(small_model());
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "{} of them kept ({excluded} duplicates left out by",
            64 - excluded
        )),
        "{}",
        stderr(&o)
    );
    // A report of another data set is refused.
    std::fs::copy(data.join("a/0004.png"), data.join("a/extra.png")).unwrap();
    let o = run(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.path().join("run2").to_str().unwrap(),
        "--exclude",
        rp.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, 2, "the report covers 64 images");
}

/// Files that cannot be opened: a dangling symlink and a file without read permission. Counted
/// skips with the file named, no crash. Root reads a mode-000 file anyway, so as root the command
/// runs as the unprivileged user 65534 (`setpriv`, util-linux), on a copy of the binary in the
/// test's own folder.
#[test]
fn unopenable_files_are_counted_skips() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = image_folder(dir.path(), 20, 16);
    std::os::unix::fs::symlink(dir.path().join("nowhere.png"), data.join("a/dangling.png"))
        .unwrap();
    let locked = data.join("b/locked.png");
    std::fs::copy(data.join("b/0001.png"), &locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let args = ["data", "info", data.to_str().unwrap(), "--json"];
    let o = if std::fs::read(&locked).is_ok() {
        let exe = dir.path().join("dcgan");
        std::fs::copy(env!("CARGO_BIN_EXE_dcgan"), &exe).unwrap();
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args(args)
            .env("HOME", dir.path())
            .output()
            .expect("setpriv (util-linux) runs")
    } else {
        run(&args)
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let examples = info["unreadable_examples"].to_string();
    assert!(examples.contains("dangling.png"), "{examples}");
    assert_eq!(info["unreadable"], 2);
    assert!(
        examples.contains("locked.png") && examples.contains("ermission"),
        "{examples}"
    );
}
