//! `dcgan eval svm` and `dcgan fid` end to end on small image folders the tests write.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Two classes a linear classifier separates: horizontal stripes (`h`) and vertical stripes
/// (`v`), each with its own random phase and period and a little noise.
fn stripes(dir: &Path, n_per_class: usize, seed: u32) -> PathBuf {
    let root = dir.to_path_buf();
    for class in ["h", "v"] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..n_per_class {
            let s = seed * 1000 + i as u32;
            let period = 3 + s % 3;
            let phase = (s * 7) % period;
            let img = image::RgbImage::from_fn(16, 16, |x, y| {
                let t = if class == "h" { y } else { x };
                let on = (t + phase) % period < period / 2 + 1;
                let noise = ((x * 31 + y * 17 + s * 13) % 23) as u8;
                let v = if on { 200 + noise } else { 30 + noise };
                image::Rgb([v, v, v])
            });
            img.save(root.join(class).join(format!("{i:03}.png")))
                .unwrap();
        }
    }
    root
}

/// `dcgan --cache-dir CACHE fid --weights WEIGHTS --json ARGS`, which must succeed: its report.
fn fid_json(cache: &str, weights: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--cache-dir", cache, "fid", "--weights", weights, "--json"];
    all.extend(args);
    let o = run(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn eval_svm_separates_stripes_with_every_method_and_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let train = stripes(&dir.path().join("train"), 40, 1);
    let test = stripes(&dir.path().join("test"), 20, 2);
    let run_dir = dir.path().join("run");
    train_small(&train, &run_dir, &["--max-steps", "4"]);
    let report = dir.path().join("report.json");
    let o = run(&[
        "eval",
        "svm",
        "--train-data",
        train.to_str().unwrap(),
        "--test-data",
        test.to_str().unwrap(),
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--validation",
        "20",
        "--kmeans-k",
        "8",
        "--kmeans-patches",
        "2000",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["protocol"], "full");
    let methods = r["methods"].as_array().unwrap();
    let names: Vec<&str> = methods
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dcgan", "random-d", "kmeans"]);
    for m in methods {
        let res = &m["result"];
        assert_eq!(
            (res["train"].as_u64(), res["test"].as_u64()),
            (Some(80), Some(40))
        );
        assert_eq!(
            res["grid"].as_array().unwrap().len(),
            6,
            "the default C grid"
        );
        let acc = res["test_accuracy"].as_f64().unwrap();
        assert!(acc >= 0.9, "{}: test accuracy {acc}", m["method"]);
    }
    // D of the 16×16 model: 8 + 16 channels, 4×4 each; K-means: 4 quadrants × K.
    assert_eq!(methods[0]["result"]["dim"], 16 * (8 + 16));
    assert_eq!(methods[2]["result"]["dim"], 4 * 8);
    // The table on stdout has a line per method.
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.contains("kmeans") && out.contains("test accuracy"),
        "{out}"
    );
}

#[test]
fn eval_svm_few_labels_reports_mean_error_over_draws() {
    let dir = tempfile::tempdir().unwrap();
    let train = stripes(&dir.path().join("train"), 30, 3);
    let test = stripes(&dir.path().join("test"), 10, 4);
    let o = run(&[
        "eval",
        "svm",
        "--train-data",
        train.to_str().unwrap(),
        "--test-data",
        test.to_str().unwrap(),
        "--protocol",
        "few-labels",
        "--validation",
        "20",
        "--per-class",
        "5",
        "--draws",
        "4",
        "--kmeans-k",
        "8",
        "--kmeans-patches",
        "2000",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let res = &r["methods"][0]["result"];
    assert_eq!(r["methods"][0]["method"], "kmeans");
    assert_eq!(
        (res["labels"].as_u64(), res["draws"].as_u64()),
        (Some(10), Some(4))
    );
    let errors: Vec<f64> = res["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_f64().unwrap())
        .collect();
    assert_eq!(errors.len(), 4);
    let mean = errors.iter().sum::<f64>() / 4.0;
    assert!((res["mean_error"].as_f64().unwrap() - mean).abs() < 1e-12);
    let sd = (errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    assert!((res["ci95"].as_f64().unwrap() - 1.96 * sd).abs() < 1e-12);
    assert!(mean <= 0.2, "few-label error {mean}");
}

#[test]
fn eval_svm_needs_labels_and_a_checkpoint_for_d_methods() {
    let dir = tempfile::tempdir().unwrap();
    let train = stripes(&dir.path().join("train"), 10, 5);
    let o = run(&[
        "eval",
        "svm",
        "--train-data",
        train.to_str().unwrap(),
        "--test-data",
        train.to_str().unwrap(),
        "--methods",
        "dcgan",
    ]);
    assert_clean_failure(&o, 2, "invalid methods dcgan: needs --checkpoint");
    // More validation items than training items.
    let o = run(&[
        "eval",
        "svm",
        "--train-data",
        train.to_str().unwrap(),
        "--test-data",
        train.to_str().unwrap(),
        "--validation",
        "50",
        "--kmeans-k",
        "4",
        "--kmeans-patches",
        "500",
    ]);
    assert_clean_failure(
        &o,
        2,
        "20 labelled training items; the validation split alone needs 50",
    );
}

#[test]
fn fid_without_weights_names_the_file_and_the_fetch_script() {
    let dir = tempfile::tempdir().unwrap();
    let a = stripes(&dir.path().join("a"), 3, 1);
    let missing = dir.path().join("nowhere/default_1.pt");
    let o = run(&[
        "fid",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--weights",
        missing.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        "nowhere/default_1.pt: FID Inception weights not found",
    );
    assert!(stderr(&o).contains("scripts/fetch-fid-weights.sh"));
    let o = run(&["fid", a.to_str().unwrap()]);
    assert_clean_failure(&o, 2, "give two image sets");
    // Modes, metrics and k that do not exist, or a k the sets cannot have.
    let a_s = a.to_str().unwrap();
    let o = run(&["fid", a_s, a_s, "--fid-mode", "tensorflow"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value 'tensorflow' for '--fid-mode <FID_MODE>'")
            && stderr(&o).contains("legacy_pytorch, clean, legacy_tensorflow, legacy_dcgan"),
        "{}",
        stderr(&o)
    );
    let o = run(&["fid", a_s, a_s, "--metrics", "fid,is"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value 'is' for '--metrics"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "fid",
        a_s,
        a_s,
        "--metrics",
        "prdc",
        "--k",
        "10",
        "--n",
        "10",
    ]);
    assert_clean_failure(
        &o,
        2,
        "invalid k 10: must be less than the 10 images of a set",
    );
    let o = run(&["fid", a_s, a_s, "--metrics", "prdc", "--k", "0"]);
    assert_clean_failure(&o, 2, "invalid k 0: must be at least 1");
    let o = run(&["fid", a_s, a_s, "--metrics", "prdc", "--k", "3,5,3"]);
    assert_clean_failure(&o, 2, "invalid k 3: is given twice");
    let o = run(&[
        "fid",
        a_s,
        a_s,
        "--metrics",
        "prdc",
        "--k",
        "3,10",
        "--n",
        "10",
    ]);
    assert_clean_failure(
        &o,
        2,
        "invalid k 10: must be less than the 10 images of a set",
    );
}

#[test]
fn fid_of_a_set_with_itself_is_zero_and_saved_statistics_give_the_same_fid() {
    let weights = fid_weights();
    if !weights.is_file() {
        return missing(
            "fid_of_a_set_with_itself_is_zero_and_saved_statistics_give_the_same_fid",
            &format!(
                "the FID weights at {} (bash scripts/fetch-fid-weights.sh)",
                weights.display()
            ),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let a = stripes(&dir.path().join("a"), 4, 1);
    let b = stripes(&dir.path().join("b"), 4, 7);
    let stats = dir.path().join("a.npz");
    // The statistics cache goes to CACHE_DIR/fid-stats: a fresh one, the weights named.
    let cache = dir.path().join("cache");
    let (cache_s, weights_s) = (cache.to_str().unwrap(), weights.to_str().unwrap());
    let fid = |args: &[&str]| {
        let mut all = vec!["--kid-subset-size", "4", "--kid-subsets", "3"];
        all.extend(args);
        fid_json(cache_s, weights_s, &all)
    };
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let same = fid(&[a_s, a_s]);
    // Zero to rounding (measured 4.3e-13).
    assert!(same["fid"].as_f64().unwrap().abs() < 4e-12, "{same}");
    // The second side is the first's set: its statistics were just cached.
    assert_eq!(
        (&same["a"]["from_cache"], &same["b"]["from_cache"]),
        (&false.into(), &true.into())
    );
    let ab = fid(&[a_s, b_s, "--save-stats", stats.to_str().unwrap()]);
    assert_eq!(ab["a"]["n"], 8);
    assert_eq!(
        (&ab["a"]["from_cache"], &ab["b"]["from_cache"]),
        (&true.into(), &false.into())
    );
    // Again: no Inception pass at all, the same numbers to the bit.
    let again = fid(&[a_s, b_s]);
    assert_eq!(again["b"]["from_cache"], true);
    assert_eq!(again["fid"], ab["fid"]);
    assert_eq!(again["kid"], ab["kid"]);
    let entries = std::fs::read_dir(cache.join("fid-stats")).unwrap().count();
    assert_eq!(entries, 4, "two sets, statistics and features each");
    assert!(ab["fid"].as_f64().unwrap() > 1.0, "{ab}");
    assert!(ab["kid"]["mean"].is_number());
    let from_stats = fid(&[stats.to_str().unwrap(), b_s]);
    let (x, y) = (
        ab["fid"].as_f64().unwrap(),
        from_stats["fid"].as_f64().unwrap(),
    );
    assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{x} vs {y}");
    assert!(
        from_stats["kid"].is_null(),
        "KID needs features on both sides"
    );
    // Every report says how it was measured.
    assert_eq!(ab["mode"], "legacy_pytorch");
    assert_eq!(ab["a"]["jpeg_items"], 0);
    assert_eq!(ab["a"]["fingerprint"].as_str().unwrap().len(), 16);
    assert_ne!(ab["a"]["fingerprint"], ab["b"]["fingerprint"]);
    assert_eq!(ab["weights_sha256"].as_str().unwrap().len(), 16);
    // The saved statistics remember their mode: another mode refuses them, naming both.
    let o = run(&[
        "fid",
        stats.to_str().unwrap(),
        b_s,
        "--fid-mode",
        "clean",
        "--weights",
        weights_s,
    ]);
    assert_clean_failure(
        &o,
        2,
        &format!(
            "invalid FID mode clean: {} holds statistics measured in the legacy_pytorch mode: give --fid-mode legacy_pytorch, or the images",
            stats.display()
        ),
    );
    // PRDC: the four scores on the same features; statistics have none.
    let p = fid(&[a_s, b_s, "--metrics", "fid,prdc", "--k", "2"]);
    assert!(p["kid"].is_null(), "KID not asked for");
    assert_eq!(p["prdc"]["k"], 2);
    for key in ["precision", "recall", "density", "coverage"] {
        let v = p["prdc"][key].as_f64().unwrap();
        assert!((0.0..=4.0).contains(&v), "{key} {v}");
    }
    assert!(p.get("prdc_other_k").is_none(), "one k, no others");
    // Several k from one pass: each the same as its own run.
    let many = fid(&[a_s, b_s, "--metrics", "fid,prdc", "--k", "2,1,3"]);
    assert_eq!(many["prdc"], p["prdc"]);
    assert_eq!(many["fid"], p["fid"]);
    let others = many["prdc_other_k"].as_array().expect("the other k");
    assert_eq!(others.len(), 2);
    for (other, k) in others.iter().zip(["1", "3"]) {
        let alone = fid(&[a_s, b_s, "--metrics", "fid,prdc", "--k", k]);
        assert_eq!(*other, alone["prdc"], "k = {k}");
    }
    let o = run(&[
        "fid",
        stats.to_str().unwrap(),
        b_s,
        "--metrics",
        "prdc",
        "--weights",
        weights_s,
    ]);
    assert_clean_failure(
        &o,
        2,
        "invalid metrics prdc: needs features of both sets: give images, not .npz statistics",
    );
    // A changed image is another data set; --no-stats-cache reads nothing.
    std::fs::copy(a.join("h/000.png"), b.join("h/000.png")).unwrap();
    let changed = fid(&[a_s, b_s]);
    assert_eq!(changed["b"]["from_cache"], false);
    assert_ne!(changed["fid"], ab["fid"]);
    let fresh = fid(&[a_s, b_s, "--no-stats-cache"]);
    assert_eq!(fresh["a"]["from_cache"], false);
    assert_eq!(fresh["fid"], changed["fid"]);
}

/// `dcgan train --eval-every`: FID and KID in the log at every N-th and the last step, equal to
/// `dcgan fid` on the checkpoint (same real subset from the cache, same latents); the best
/// checkpoint kept; the scores panel in loss.png; evaluations go on after a resume.
#[test]
fn train_eval_every_logs_the_scores_dcgan_fid_gives_and_keeps_the_best() {
    let test = "train_eval_every_logs_the_scores_dcgan_fid_gives_and_keeps_the_best";
    let weights = fid_weights();
    if !weights.is_file() {
        return missing(test, &format!("the FID weights at {}", weights.display()));
    }
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 32, 16);
    let out = dir.path().join("run");
    let cache = dir.path().join("cache");
    let tb = dir.path().join("tb");
    let (cache_s, weights_s, tb_s) = (
        cache.to_str().unwrap(),
        weights.to_str().unwrap(),
        tb.to_str().unwrap(),
    );
    let mut args = vec![
        "--cache-dir",
        cache_s,
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-steps",
        "5",
        "--eval-every",
        "2",
        "--eval-samples",
        "12",
        "--keep-best",
        "fid",
        "--eval-prdc",
        "2",
        "--weights",
        weights_s,
        "--tensorboard",
        tb_s,
    ];
    args.extend(small_model());
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = read_log(&out);
    for r in log.iter().filter(|r| r.get("fid").is_some()) {
        let p = r["prdc"].as_array().expect("PRDC at every evaluation");
        assert_eq!(p.len(), 4);
        assert!(
            p.iter().all(|v| (0.0..=6.0).contains(&v.as_f64().unwrap())),
            "{r}"
        );
    }
    let scored: Vec<(u64, f64, f64)> = log
        .iter()
        .filter(|r| r.get("fid").is_some())
        .map(|r| {
            (
                r["step"].as_u64().unwrap(),
                r["fid"].as_f64().unwrap(),
                r["kid"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scored.iter().map(|s| s.0).collect::<Vec<_>>(),
        [2, 4, 5],
        "every 2nd step and the last: {log:?}"
    );
    for &(step, fid, kid) in &scored {
        // An untrained G's 16×16 images against colour gradients: far apart, but finite.
        assert!(fid.is_finite() && fid > 10.0, "step {step}: FID {fid}");
        assert!(kid.is_finite() && kid > 0.0, "step {step}: KID {kid}");
    }
    let loss = image::open(out.join("loss.png")).unwrap();
    assert_eq!(
        (loss.width(), loss.height()),
        (900, 1280),
        "the scores panel and the PRDC panel"
    );

    // The last evaluation is `dcgan fid` on the last checkpoint, to the bit.
    let ckpt = out.join("checkpoints/step-00000005.safetensors");
    let fid = |extra: &[&str]| {
        let mut all = vec![
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--n",
            "12",
        ];
        all.extend(extra);
        fid_json(cache_s, weights_s, &all)
    };
    let r = fid(&["--metrics", "fid,kid,prdc", "--k", "2"]);
    assert_eq!(r["a"]["from_cache"], true, "the run cached the real side");
    assert_eq!(r["fid"].as_f64().unwrap(), scored[2].1);
    let logged = &log.iter().rfind(|r| r.get("prdc").is_some()).unwrap()["prdc"];
    for (i, key) in ["precision", "recall", "density", "coverage"]
        .iter()
        .enumerate()
    {
        assert_eq!(r["prdc"][key], logged[i], "{key}");
    }
    assert_eq!(r["kid"]["mean"].as_f64().unwrap(), scored[2].2);

    // The best checkpoint is the lowest FID's, and says so.
    let (best_step, best_fid) = scored
        .iter()
        .map(|s| (s.0, s.1))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let best =
        dcgan::checkpoint::Checkpoint::load(&out.join("checkpoints/best-fid.safetensors")).unwrap();
    assert_eq!(best.state.step, best_step);
    let b = best.state.best.as_ref().unwrap();
    assert_eq!((b.step, b.value), (best_step, best_fid));

    // A resume goes on evaluating (the settings are in config.json) and keeps the old scores.
    let o = run(&[
        "--cache-dir",
        cache_s,
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "6",
        "--weights",
        weights_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let steps: Vec<u64> = read_log(&out)
        .iter()
        .filter(|r| r.get("fid").is_some())
        .map(|r| r["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [2, 4, 5, 6]);

    // TensorBoard has every evaluation's scores, before and after the resume.
    let board = tensorboard_scalars(&tb);
    for r in read_log(&out).iter().filter(|r| r.get("fid").is_some()) {
        let step = r["step"].as_i64().unwrap();
        let p = &r["prdc"];
        for (tag, v) in [
            ("eval/FID", &r["fid"]),
            ("eval/KID", &r["kid"]),
            ("eval/precision", &p[0]),
            ("eval/recall", &p[1]),
            ("eval/density", &p[2]),
            ("eval/coverage", &p[3]),
        ] {
            assert_eq!(
                board[tag][&step],
                v.as_f64().unwrap() as f32,
                "{tag} at {step}"
            );
        }
    }
    assert_eq!(board["eval/FID"].len(), 4);
}

/// Every scalar of the event files in `dir` (this crate's reader; tests/tensorboard.rs checks it
/// against TensorBoard's): tag → step → value.
fn tensorboard_scalars(
    dir: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<i64, f32>> {
    use dcgan::io::tensorboard::{Event, read_records};
    use prost::Message as _;
    let mut out = std::collections::BTreeMap::<String, std::collections::BTreeMap<_, _>>::new();
    for f in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        for r in read_records(&bytes).unwrap() {
            let e = Event::decode(r).unwrap();
            for v in e.summary.map(|s| s.value).unwrap_or_default() {
                if let Some(x) = v.simple_value {
                    out.entry(v.tag).or_default().insert(e.step, x);
                }
            }
        }
    }
    out
}

/// `--eval-every` with missing weights or data, or `--keep-best` without evaluations: one
/// message naming what is missing, exit 2, before anything is written.
#[test]
fn train_eval_every_without_weights_or_data_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let out = dir.path().join("run");
    let nowhere = dir.path().join("nowhere/default_1.pt");
    let train = |extra: &[&str]| {
        let mut args = vec!["--max-steps", "2"];
        args.extend(extra);
        try_train_small(&data, &out, &args)
    };
    let o = train(&["--eval-every", "1", "--weights", nowhere.to_str().unwrap()]);
    assert_clean_failure(
        &o,
        2,
        "nowhere/default_1.pt: FID Inception weights not found",
    );
    assert!(!out.exists(), "nothing written");
    let weights = fid_weights();
    if weights.is_file() {
        let o = train(&[
            "--eval-every",
            "1",
            "--weights",
            weights.to_str().unwrap(),
            "--eval-data",
            dir.path().join("no-such-folder").to_str().unwrap(),
        ]);
        assert_clean_failure(&o, 2, "no-such-folder");
        assert!(!out.exists(), "nothing written");
    }
    let o = train(&["--keep-best", "kid"]);
    assert_clean_failure(
        &o,
        2,
        "keep best kid: needs evaluations: give --eval-every N",
    );
    let o = train(&["--eval-every", "1", "--eval-samples", "1"]);
    assert_clean_failure(&o, 2, "eval samples 1: FID needs at least 2 images per set");
    let o = train(&[
        "--eval-every",
        "1",
        "--eval-samples",
        "12",
        "--eval-prdc",
        "12",
    ]);
    assert_clean_failure(
        &o,
        2,
        "invalid eval PRDC k 12: must be at least 1 and less than the 12 images of an evaluation",
    );
    assert!(!out.exists(), "nothing written");
}
