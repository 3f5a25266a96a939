//! What the tool prints, and what happens when it cannot: a full disk behind stdout or stderr
//! is a failed job (exit 1, said on stderr when stderr works); a closed pipe ends it quietly.
//! And `--background`, the colour under transparent images, as every command takes it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Eight RGBA glyphs (a dark-blue disc) whose transparent pixels hide orange, brown or grey.
fn glyphs(dir: &Path) -> PathBuf {
    let root = dir.join("glyphs");
    std::fs::create_dir_all(&root).unwrap();
    let hidden = [[255u8, 140, 0], [120, 70, 20], [128, 128, 128]];
    for (i, h) in hidden.iter().cycle().take(8).enumerate() {
        image::RgbaImage::from_fn(16, 16, |x, y| {
            if (x as i32 - 8).pow(2) + (y as i32 - 8).pow(2) <= 25 {
                image::Rgba([20, 30, 160, 255])
            } else {
                image::Rgba([h[0], h[1], h[2], 0])
            }
        })
        .save(root.join(format!("g{i}.png")))
        .unwrap();
    }
    root
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full (Linux)")
}

#[test]
fn a_report_that_cannot_be_written_is_a_failed_job() {
    let tmp = tempfile::tempdir().unwrap();
    let data = glyphs(tmp.path());
    let data = data.to_str().unwrap();
    // The report as it should be, then the same into a full disk.
    let ok = run(&["data", "info", data, "--json"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("\"transparent\": 8"),
        "{}",
        stdout(&ok)
    );
    for args in [
        vec!["data", "info", data, "--json"],
        vec!["data", "info", data],
        vec!["--help"],
        vec!["data", "info", "--help"],
        vec!["--version"],
    ] {
        let o = dcgan()
            .args(&args)
            .stdout(dev_full())
            .output()
            .expect("dcgan runs");
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).trim_end(),
            "dcgan: error: writing to standard output: No space left on device (os error 28)",
            "{args:?}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_tool_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = glyphs(tmp.path());
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = dcgan()
        .args(["data", "info", data.to_str().unwrap(), "--json"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("dcgan runs");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn messages_lost_on_stderr_fail_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    let data = glyphs(tmp.path());
    let out = tmp.path().join("dedup");
    let args = [
        "data",
        "dedup",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    // It has something to say on stderr...
    let ok = run(&args);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(!stderr(&ok).is_empty());
    // ...and when that cannot be written, the job did not fully succeed.
    let o = dcgan()
        .args(args)
        .stderr(dev_full())
        .output()
        .expect("dcgan runs");
    assert_eq!(o.status.code(), Some(1));
    // Bad input keeps its own exit code.
    let o = dcgan()
        .args(["data", "info", "/nonexistent/folder"])
        .stderr(dev_full())
        .output()
        .expect("dcgan runs");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn background_is_checked_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let data = glyphs(tmp.path());
    let data = data.to_str().unwrap();
    let o = run(&["data", "info", data]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "transparency: 8 of 8 images; composited over white before use (--background)"
        ),
        "{}",
        stdout(&o)
    );
    let o = run(&["data", "info", data, "--background", "0,0,0"]);
    assert!(
        stdout(&o).contains("composited over black"),
        "{}",
        stdout(&o)
    );

    let o = run(&["data", "info", data, "--background", "grey"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "invalid value 'grey' for '--background <COLOUR>': invalid background \"grey\": must be white, black or R,G,B (each 0 to 255)"
        ),
        "{}",
        stderr(&o)
    );

    // A run records its background, and a resumed run keeps it.
    let run_dir = tmp.path().join("run");
    let mut args = vec![
        "train",
        "--data",
        data,
        "--out",
        run_dir.to_str().unwrap(),
        "--max-steps",
        "1",
        "--background",
        "10,20,30",
    ];
    args.extend(small_model());
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["data"]["background"], "10,20,30");
    let o = run(&[
        "train",
        "--resume",
        run_dir.to_str().unwrap(),
        "--background",
        "black",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim_end(),
        "dcgan: error: invalid background black: a resumed run keeps the background it started with (data.background in its config.json)"
    );
}

#[test]
fn dedup_eval_refuses_zero_planted_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = glyphs(tmp.path());
    let o = run(&["data", "dedup-eval", data.to_str().unwrap(), "--plant", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim_end(),
        "dcgan: error: invalid plant 0: must be at least 1"
    );
}
