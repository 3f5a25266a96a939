//! What `train` adds to the paper's recipe (`--loss`, `--lr-d`/`--lr-g`, `--d-steps`,
//! `--ema-decay`/`--ema-start`), through the real binary: recorded in config.json, exact on
//! resume, the averaged G equal to its recurrence, and bad values refused.

mod common;
use common::*;

use dcgan::io::safetensors_file;

/// The checkpoint's `dcgan` header (config and counters).
fn header(path: &std::path::Path) -> serde_json::Value {
    let f = safetensors_file::read(path).unwrap();
    serde_json::from_str(&f.metadata["dcgan"]).unwrap()
}

const ADDED: [&str; 14] = [
    "--augment",
    "cutout,color,translation",
    "--loss",
    "hinge",
    "--d-steps",
    "2",
    "--ema-decay",
    "0.9",
    "--ema-start",
    "2",
    "--lr-d",
    "4e-4",
    "--lr-g",
    "1e-4",
];

#[test]
fn every_option_is_recorded_and_a_resumed_run_is_the_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    // 40 images, batch 8: 5 batches an epoch, so with 2 D steps a step, steps of 2, 2 and 1
    // batches; 8 steps cross the first epoch's end twice.
    let data = image_folder(dir.path(), 40, 16);
    let full = dir.path().join("full");
    succeed(
        train_args(&data, &full, "8", &ADDED)
            .into_iter()
            .chain(["--checkpoint-every", "4"].map(String::from)),
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["recipe"]["loss"], "hinge");
    assert_eq!(config["recipe"]["d_steps"], 2);
    assert_eq!(config["recipe"]["ema"]["decay"], 0.9);
    assert_eq!(config["recipe"]["ema"]["start"], 2);
    assert_eq!(config["optim"]["lr_d"], 4e-4);
    assert_eq!(config["optim"]["lr_g"], 1e-4);
    assert_eq!(
        config["recipe"]["augment"],
        serde_json::json!(["color", "translation", "cutout"])
    );
    let log = read_log(&full);
    assert_eq!(log.len(), 8);
    // Epochs 0 and 1 have 3 steps each (2 + 2 + 1 batches), then 2 steps of epoch 2.
    let epochs: Vec<u64> = log.iter().map(|r| r["epoch"].as_u64().unwrap()).collect();
    assert_eq!(epochs, [0, 0, 0, 1, 1, 1, 2, 2]);
    // D updated 5 times an epoch, twice in each of the last two steps: 14, each on 8 images.
    let last = full.join("checkpoints/step-00000008.safetensors");
    let h = header(&last);
    assert_eq!(h["state"]["d_updates"], 14);
    assert_eq!(h["state"]["images_seen"], 14 * 8);
    let tensors = safetensors_file::read(&last).unwrap().tensors;
    let ema = tensors
        .keys()
        .filter(|k| k.starts_with("generator_ema."))
        .count();
    let raw = tensors
        .keys()
        .filter(|k| k.starts_with("generator."))
        .count();
    assert!(
        ema > 0 && ema == raw,
        "{ema} averaged tensors for {raw} of G"
    );

    // Stopped at step 4 (inside epoch 1), then resumed to 8.
    let part = dir.path().join("part");
    succeed(
        train_args(&data, &part, "4", &ADDED)
            .into_iter()
            .chain(["--checkpoint-every", "4"].map(String::from)),
    );
    let o = run(&[
        "train",
        "--resume",
        part.to_str().unwrap(),
        "--max-steps",
        "8",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(without_timing(read_log(&part)), without_timing(log));
    let a = std::fs::read(&last).unwrap();
    let b = std::fs::read(part.join("checkpoints/step-00000008.safetensors")).unwrap();
    assert!(a == b, "the resumed run's last checkpoint differs");
}

#[test]
fn the_averaged_generator_is_its_recurrence_and_is_what_sampling_uses() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 16);
    let out = dir.path().join("run");
    succeed(
        train_args(
            &data,
            &out,
            "6",
            &["--ema-decay", "0.8", "--ema-start", "2"],
        )
        .into_iter()
        .chain(["--checkpoint-every", "1", "--keep-checkpoints", "100"].map(String::from)),
    );
    let (decay, rest) = (0.8f32, (1.0f64 - 0.8) as f32);
    let mut avg: std::collections::BTreeMap<String, Vec<f32>> = Default::default();
    for step in 1..=6u64 {
        let path = out.join(format!("checkpoints/step-{step:08}.safetensors"));
        let t = safetensors_file::read(&path).unwrap().tensors;
        for (k, v) in t
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("generator.")?, v)))
        {
            if step <= 2 {
                avg.insert(k.to_string(), v.data.clone());
            } else {
                let a = avg.get_mut(k).unwrap();
                for (a, g) in a.iter_mut().zip(&v.data) {
                    *a = *a * decay + *g * rest;
                }
            }
            let saved = &t[&format!("generator_ema.{k}")];
            assert_eq!(saved.data, avg[k], "step {step}: generator_ema.{k}");
        }
        // Running statistics are averaged too, so they are among the compared tensors.
        assert!(avg.keys().any(|k| k.contains("running_mean")));
    }
    // By step 6 the average is not G.
    let last = out.join("checkpoints/step-00000006.safetensors");
    let t = safetensors_file::read(&last).unwrap().tensors;
    let k = t
        .keys()
        .find(|k| k.starts_with("generator."))
        .unwrap()
        .clone();
    assert_ne!(
        t[&k].data,
        t[&k.replace("generator.", "generator_ema.")].data
    );

    // `generate` uses the average; `--raw-generator` the trained G.
    let z = dir.path().join("z.npy");
    let o = run(&[
        "sample",
        "--checkpoint",
        last.to_str().unwrap(),
        "--n",
        "4",
        "--out",
        dir.path().join("grid.png").to_str().unwrap(),
        "--save-latents",
        z.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let generate = |raw: bool, name: &str| {
        let path = dir.path().join(name);
        let mut c = dcgan();
        if raw {
            c.arg("--raw-generator");
        }
        let o = c
            .args(["generate", "--checkpoint", last.to_str().unwrap()])
            .args([
                "--latent",
                z.to_str().unwrap(),
                "--out",
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(path).unwrap()
    };
    let (averaged, trained) = (generate(false, "avg.npy"), generate(true, "raw.npy"));
    assert_ne!(averaged, trained);
    // The trained G of this checkpoint is the one a run without the average would sample: the
    // same weights in a checkpoint of their own.
    let plain = dir.path().join("plain");
    succeed(
        train_args(&data, &plain, "6", &[])
            .into_iter()
            .chain(["--checkpoint-every", "6"].map(String::from)),
    );
    let o = run(&[
        "generate",
        "--checkpoint",
        plain.to_str().unwrap(),
        "--latent",
        z.to_str().unwrap(),
        "--out",
        dir.path().join("plain.npy").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(dir.path().join("plain.npy")).unwrap(),
        trained
    );
}

#[test]
fn bad_recipe_values_are_refused_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    for (extra, needle) in [
        (
            &["--loss", "wasserstein"][..],
            "invalid loss wasserstein: must be bce, hinge or lsgan",
        ),
        (
            &["--ema-decay", "1"],
            "invalid EMA decay 1: must be between 0 and 1",
        ),
        (
            &["--augment", "color,flip"],
            "invalid augmentation flip: must be color, translation or cutout",
        ),
        (
            &["--ema-decay", "0"],
            "invalid EMA decay 0: must be between 0 and 1",
        ),
        (
            &["--d-steps", "0"],
            "invalid d-steps 0: must be between 1 and 100",
        ),
        (
            &["--lr-d=-0.001"],
            "invalid lr-d -0.001: must be positive and finite",
        ),
        (
            &["--lr-g", "0"],
            "invalid lr-g 0: must be positive and finite",
        ),
    ] {
        let out = dir.path().join("run");
        let o = dcgan()
            .args(train_args(&data, &out, "2", extra))
            .output()
            .unwrap();
        assert_clean_failure(&o, 2, needle);
        assert!(
            !out.exists(),
            "{extra:?}: a refused run wrote {}",
            out.display()
        );
    }
    // --ema-start means nothing without an average.
    let o = dcgan()
        .args(train_args(
            &data,
            &dir.path().join("run"),
            "2",
            &["--ema-start", "5"],
        ))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--ema-decay"), "{}", stderr(&o));
}

#[test]
fn a_resume_may_change_the_two_learning_rates_but_not_the_loss_or_the_average() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let out = dir.path().join("run");
    succeed(train_args(
        &data,
        &out,
        "2",
        &["--loss", "lsgan", "--ema-decay", "0.99"],
    ));
    let path = out.join("config.json");
    let original = std::fs::read_to_string(&path).unwrap();
    for (from, to, field) in [
        (
            "\"loss\": \"lsgan\"",
            "\"loss\": \"hinge\"",
            "recipe.loss from \"lsgan\" to \"hinge\"",
        ),
        (
            "\"decay\": 0.99",
            "\"decay\": 0.9",
            "recipe.ema.decay from 0.99 to 0.9",
        ),
        (
            "\"d_steps\": 1",
            "\"d_steps\": 2",
            "recipe.d_steps from 1 to 2",
        ),
    ] {
        assert!(original.contains(from), "{from} in {original}");
        std::fs::write(&path, original.replace(from, to)).unwrap();
        let o = run(&[
            "train",
            "--resume",
            out.to_str().unwrap(),
            "--max-steps",
            "3",
        ]);
        assert_clean_failure(&o, 2, &format!("config.json changes {field}"));
        assert_eq!(read_log(&out).len(), 2);
    }
    std::fs::write(
        &path,
        original.replace("\"lr_d\": null", "\"lr_d\": 0.0004"),
    )
    .unwrap();
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_log(&out).len(), 3);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["optim"]["lr_d"], 4e-4);
}

#[test]
fn the_paper_recipe_spelled_out_is_the_default_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 16);
    let (a, b) = (dir.path().join("default"), dir.path().join("spelled"));
    succeed(train_args(&data, &a, "7", &[]));
    let spelled = [
        "--loss",
        "bce",
        "--d-steps",
        "1",
        "--lr-d",
        "2e-4",
        "--lr-g",
        "2e-4",
    ];
    succeed(train_args(&data, &b, "7", &spelled));
    assert_eq!(without_timing(read_log(&a)), without_timing(read_log(&b)));
    let tensors = |run: &std::path::Path| {
        safetensors_file::read(&run.join("checkpoints/step-00000007.safetensors"))
            .unwrap()
            .tensors
    };
    assert!(tensors(&a) == tensors(&b), "weights or moments differ");
}
