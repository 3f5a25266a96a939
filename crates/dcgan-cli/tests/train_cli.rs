//! `dcgan train`: a run directory's contents, reproducibility, and exact resume after SIGKILL.

mod common;

use common::*;
use std::time::{Duration, Instant};

#[test]
fn a_run_writes_config_checkpoints_samples_log_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 20);
    let out = dir.path().join("run");
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(small_model());
    args.extend([
        "--epochs",
        "2",
        "--sample-every",
        "3",
        "--checkpoint-every",
        "3",
    ]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("trained to step 10 (2 epochs complete)"),
        "{}",
        stdout(&o)
    );

    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model"]["image_size"], 16);
    assert_eq!(config["model"]["channels"], 3);
    assert_eq!(config["optim"]["learning_rate"], 2e-4);
    assert_eq!(config["optim"]["epsilon"], 1e-8);
    assert_eq!(config["train"]["batch_size"], 8);

    // 40 images, batch 8: 5 steps per epoch; 2 epochs.
    let log = read_log(&out);
    assert_eq!(log.len(), 10);
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r["step"], i as u64 + 1);
        assert_eq!(r["epoch"], (i / 5) as u64);
        for k in [
            "loss_d",
            "loss_g",
            "d_real",
            "d_fake",
            "d_fake_after",
            "images_per_second",
        ] {
            assert!(r[k].as_f64().unwrap().is_finite(), "{k}");
        }
        let (dx, dgz) = (r["d_real"].as_f64().unwrap(), r["d_fake"].as_f64().unwrap());
        assert!((0.0..=1.0).contains(&dx) && (0.0..=1.0).contains(&dgz));
    }
    // Written at 3, 6, 9 (every 3) and 5, 10 (epoch ends); the newest 3 are kept.
    let mut ckpts: Vec<_> = std::fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    ckpts.sort();
    assert_eq!(
        ckpts,
        [
            "step-00000006.safetensors",
            "step-00000009.safetensors",
            "step-00000010.safetensors"
        ]
    );
    let mut samples: Vec<_> = std::fs::read_dir(out.join("samples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    samples.sort();
    assert_eq!(
        samples,
        [
            "epoch-001.png",
            "epoch-002.png",
            "step-00000003.png",
            "step-00000006.png",
            "step-00000009.png"
        ]
    );
    // 64 samples of 16×16 in an 8×8 grid with 2-pixel borders.
    let grid = image::open(out.join("samples/epoch-002.png")).unwrap();
    assert_eq!((grid.width(), grid.height()), (8 * 18 + 2, 8 * 18 + 2));
    assert_eq!(image::open(out.join("loss.png")).unwrap().width(), 900);
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 24, 16);
    let train = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            seed,
        ];
        args.extend(small_model());
        args.extend(["--max-steps", "4"]);
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        read_log(&out)
            .iter()
            .map(|r| (r["loss_d"].as_f64().unwrap(), r["loss_g"].as_f64().unwrap()))
            .collect::<Vec<_>>()
    };
    let a = train("a", "5");
    let b = train("b", "5");
    let c = train("c", "6");
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// N uninterrupted steps against: the same run SIGKILLed mid-epoch, then resumed. The resumed
/// run loses only the steps after its last checkpoint and then reproduces the uninterrupted run's
/// losses exactly (tolerance 0): every random draw is a pure function of (seed, counters), the
/// checkpoint holds the weights, running statistics and Adam moments bit for bit (the final
/// checkpoints are the same file), and the CPU
/// backend's kernels are deterministic for a fixed thread count.
#[test]
fn a_run_killed_mid_epoch_resumes_with_the_same_losses() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 400, 32);
    let base = |out: &std::path::Path| {
        let mut args: Vec<String> = [
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(
            [
                "--image-size",
                "32",
                "--generator-width",
                "16",
                "--discriminator-width",
                "16",
                "--latent-dim",
                "32",
                "--batch-size",
                "8",
            ]
            .map(String::from),
        );
        args.extend(
            [
                "--max-steps",
                "30",
                "--checkpoint-every",
                "5",
                "--sample-every",
                "1000",
            ]
            .map(String::from),
        );
        args
    };
    let full = dir.path().join("full");
    let o = dcgan().args(base(&full)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let want = read_log(&full);
    assert_eq!(want.len(), 30);

    let killed = dir.path().join("killed");
    let mut child = dcgan()
        .args(base(&killed))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        let lines = std::fs::read_to_string(killed.join("log.jsonl"))
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if lines >= 12 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "training made no progress"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = read_log(&killed).len();
    assert!(before < 30, "the run finished before it could be killed");
    let last_ckpt = std::fs::read_dir(killed.join("checkpoints"))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_prefix("step-")?
                .strip_suffix(".safetensors")?
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap();
    assert!(
        before - last_ckpt < 5 + 1,
        "lost more than the steps since the last checkpoint"
    );

    let o = run(&["train", "--resume", killed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = read_log(&killed);
    assert_eq!(got.len(), 30);
    for (g, w) in got.iter().zip(&want) {
        for k in [
            "step",
            "epoch",
            "loss_d",
            "loss_g",
            "d_real",
            "d_fake",
            "d_fake_after",
        ] {
            assert_eq!(g[k], w[k], "step {}: {k}", w["step"]);
        }
    }
    // The checkpoints at the end are the same file, byte for byte (weights, Adam moments, state).
    let a = std::fs::read(full.join("checkpoints/step-00000030.safetensors")).unwrap();
    let b = std::fs::read(killed.join("checkpoints/step-00000030.safetensors")).unwrap();
    assert!(a == b, "final checkpoints differ");
}

#[test]
fn resume_extends_a_finished_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 24, 16);
    let out = dir.path().join("run");
    train_small(&data, &out, &["--max-steps", "2"]);
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_log(&out).len(), 5);
    // Starting a new run over an existing one is refused, nothing is overwritten.
    let o = run(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        "already holds a run; continue it with `dcgan train --resume`",
    );
    assert_eq!(read_log(&out).len(), 5);
}

/// Real data: Fashion-MNIST from Debian's package (installed by .ci/run), 250 steps of a small
/// 32×32 model (about 20 s). By then G draws light garment shapes on a black background (looked
/// at: docs/images/); the test checks that structure in numbers, and that samples differ.
#[test]
fn trains_on_fashion_mnist() {
    if !std::path::Path::new("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
        .exists()
    {
        return missing(
            "trains_on_fashion_mnist",
            "Fashion-MNIST (apt-get install dataset-fashion-mnist)",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "train",
        "--data",
        "fashion-mnist",
        "--out",
        out.to_str().unwrap(),
        "--image-size",
        "32",
        "--batch-size",
        "64",
        "--max-steps",
        "250",
        "--generator-width",
        "32",
        "--discriminator-width",
        "32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("60000 images, 28×28 grey, IDX"),
        "{}",
        stderr(&o)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["model"]["channels"], 1,
        "grey data gives a grey model"
    );
    let log = read_log(&out);
    assert_eq!(log.len(), 250);
    let mean = |k: &str| {
        log[200..]
            .iter()
            .map(|r| r[k].as_f64().unwrap())
            .sum::<f64>()
            / 50.0
    };
    assert!(
        mean("d_real") > mean("d_fake"),
        "D(x) {} D(G(z)) {}",
        mean("d_real"),
        mean("d_fake")
    );

    let z = dir.path().join("z.npy");
    let g = dir.path().join("g.npy");
    assert!(
        run(&[
            "sample",
            "--checkpoint",
            out.to_str().unwrap(),
            "--out",
            dir.path().join("s.png").to_str().unwrap(),
            "--save-latents",
            z.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        run(&[
            "generate",
            "--checkpoint",
            out.to_str().unwrap(),
            "--latent",
            z.to_str().unwrap(),
            "--out",
            g.to_str().unwrap()
        ])
        .status
        .success()
    );
    let imgs = dcgan::io::npy::read(&g).unwrap();
    assert_eq!(imgs.shape, vec![64, 1, 32, 32]);
    let per = 1024;
    let mean_img: Vec<f32> = (0..per)
        .map(|p| (0..64).map(|i| imgs.data[i * per + p]).sum::<f32>() / 64.0)
        .collect();
    // Fashion-MNIST's garments are light on a black background: the mean sample must have a dark
    // border (measured −0.61 at step 250; pure noise gives about 0) and a centre much brighter (0.19).
    let border: Vec<f32> = (0..per)
        .filter(|p| {
            let (y, x) = (p / 32, p % 32);
            !(2..30).contains(&y) || !(2..30).contains(&x)
        })
        .map(|p| mean_img[p])
        .collect();
    let centre: Vec<f32> = (0..per)
        .filter(|p| {
            let (y, x) = (p / 32, p % 32);
            (10..22).contains(&y) && (10..22).contains(&x)
        })
        .map(|p| mean_img[p])
        .collect();
    let avg = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    assert!(avg(&border) < -0.4, "border not dark: {}", avg(&border));
    assert!(
        avg(&centre) > avg(&border) + 0.5,
        "no bright centre: {} vs {}",
        avg(&centre),
        avg(&border)
    );
    let spread = (0..64)
        .map(|i| {
            (0..per)
                .map(|p| (imgs.data[i * per + p] - mean_img[p]).powi(2))
                .sum::<f32>()
                / per as f32
        })
        .sum::<f32>()
        / 64.0;
    assert!(
        spread.sqrt() > 0.15,
        "samples barely differ: rms deviation {}",
        spread.sqrt()
    );
}

/// The authors' layout (dense projection of z, 5×5 kernels, dense output) trains, checkpoints,
/// resumes and samples; `--dataset` is the same flag as `--data`.
#[test]
fn kernel_five_layout_trains_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 32, 16);
    let out = dir.path().join("run");
    let mut args = vec![
        "train",
        "--dataset",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--kernel-size",
        "5",
        "--latent",
        "uniform",
    ];
    args.extend(small_model());
    args.extend(["--max-steps", "3"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = read_log(&out);
    assert_eq!(log.len(), 5);
    assert!(
        log.iter()
            .all(|r| r["loss_g"].as_f64().unwrap().is_finite())
    );
    let ckpt = dcgan::checkpoint::Checkpoint::load(&out).unwrap();
    assert_eq!(ckpt.model().kernel_size, 5);
    assert_eq!(
        ckpt.model().latent_distribution,
        dcgan::config::LatentDistribution::Uniform
    );
    let grid = dir.path().join("g.png");
    let o = run(&[
        "sample",
        "--checkpoint",
        out.to_str().unwrap(),
        "--n",
        "4",
        "--out",
        grid.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Export is for the pytorch/examples layout only, and says so.
    let o = run(&[
        "export-torch",
        "--checkpoint",
        out.to_str().unwrap(),
        "--out",
        dir.path().join("t").to_str().unwrap(),
    ]);
    assert_clean_failure(&o, 2, "this model uses kernel 5");
}

/// The small 16×16 model on 40 images: 5 steps an epoch.
fn small_args(data: &std::path::Path, out: &std::path::Path, steps: &str) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    a.extend(small_model().iter().map(|s| s.to_string()));
    a.extend(
        [
            "--max-steps",
            steps,
            "--epochs",
            "100",
            "--checkpoint-every",
            "3",
            "--sample-every",
            "1000",
        ]
        .map(String::from),
    );
    a
}

#[test]
fn ctrl_c_checkpoints_exits_130_and_the_resume_crosses_epochs_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 16);
    let full = dir.path().join("full");
    let o = dcgan()
        .args(small_args(&data, &full, "300"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let want = read_log(&full);
    assert_eq!(want.len(), 300);

    let stopped = dir.path().join("stopped");
    let child = dcgan()
        .args(small_args(&data, &stopped, "300"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::fs::read_to_string(stopped.join("log.jsonl"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
        < 7
    {
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(1));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("interrupted; the run was checkpointed"),
        "{}",
        stderr(&o)
    );
    let done = read_log(&stopped).len();
    assert!(done < 300, "the run ended before the signal");
    // The checkpoint is of the last step logged: nothing is trained twice or lost.
    let newest = std::fs::read_dir(stopped.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .max()
        .unwrap();
    assert_eq!(newest, format!("step-{done:08}.safetensors"));

    let o = run(&["train", "--resume", stopped.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The log, but for its timing column, is the uninterrupted run's.
    let (got, want) = (without_timing(read_log(&stopped)), without_timing(want));
    assert_eq!(got.len(), 300);
    if let Some(i) = (0..300).find(|&i| got[i] != want[i]) {
        panic!(
            "step {}: resumed {} but uninterrupted {}",
            i + 1,
            got[i],
            want[i]
        );
    }
    let a = std::fs::read(full.join("checkpoints/step-00000300.safetensors")).unwrap();
    let b = std::fs::read(stopped.join("checkpoints/step-00000300.safetensors")).unwrap();
    assert!(a == b, "final checkpoints differ");
}

#[test]
fn resume_refuses_config_edits_that_change_the_run_and_takes_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 16);
    let out = dir.path().join("run");
    let o = dcgan().args(small_args(&data, &out, "4")).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let path = out.join("config.json");
    let original = std::fs::read_to_string(&path).unwrap();
    for (from, to, field) in [
        (
            "\"batch_size\": 8",
            "\"batch_size\": 4",
            "train.batch_size from 8 to 4",
        ),
        ("\"seed\": 1", "\"seed\": 2", "train.seed from 1 to 2"),
        (
            "\"exclude\": null",
            "\"exclude\": \"report.json\"",
            "data.exclude from null to \"report.json\"",
        ),
        (
            "\"generator_width\": 8",
            "\"generator_width\": 16",
            "model.generator_width from 8 to 16",
        ),
    ] {
        assert!(original.contains(from), "{from}");
        let edited = original.replace(from, to);
        std::fs::write(&path, &edited).unwrap();
        let o = run(&[
            "train",
            "--resume",
            out.to_str().unwrap(),
            "--max-steps",
            "6",
        ]);
        assert_clean_failure(&o, 2, &format!("config.json changes {field}"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            edited,
            "a refused resume rewrote config.json"
        );
        assert_eq!(read_log(&out).len(), 4, "a refused resume trained");
    }
    // The learning rate may change (after a divergence, say); the run goes on with it.
    let edited = original.replace("\"learning_rate\": 0.0002", "\"learning_rate\": 0.0001");
    assert_ne!(edited, original);
    std::fs::write(&path, &edited).unwrap();
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "6",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_log(&out).len(), 6);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["optim"]["learning_rate"], 1e-4);
    assert_eq!(saved["train"]["max_steps"], 6);
}

/// A training run's tensors (weights, Adam moments) and log, with `threads` rayon threads.
fn run_with_threads(
    dir: &std::path::Path,
    data: &std::path::Path,
    threads: usize,
) -> (Vec<(String, Vec<f32>)>, Vec<serde_json::Value>) {
    let out = dir.join(format!("threads-{threads}"));
    let mut args: Vec<String> = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    // 32×32 at batch 24: maps from 16×16 down to 4×4, several chunks per layer, an odd batch split.
    args.extend(
        [
            "--image-size",
            "32",
            "--generator-width",
            "8",
            "--discriminator-width",
            "8",
            "--latent-dim",
            "16",
            "--batch-size",
            "24",
            "--max-steps",
            "4",
            "--epochs",
            "2",
        ]
        .map(String::from),
    );
    let o = dcgan()
        .args(&args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let ckpt = out.join("checkpoints/step-00000004.safetensors");
    let content = dcgan::io::safetensors_file::read(&ckpt).unwrap();
    let mut tensors: Vec<(String, Vec<f32>)> = content
        .tensors
        .into_iter()
        .map(|(k, t)| (k, t.data))
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut log = read_log(&out);
    for r in &mut log {
        r.as_object_mut().unwrap().remove("images_per_second");
    }
    (tensors, log)
}

#[test]
fn training_steps_are_bit_identical_whatever_the_thread_count() {
    // A run resumed on a machine with another core count must continue exactly: every sum's
    // order depends on shapes only.
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 48, 32);
    let (want, want_log) = run_with_threads(dir.path(), &data, 1);
    for threads in [2, 3, 8] {
        let (got, got_log) = run_with_threads(dir.path(), &data, threads);
        assert_eq!(
            got_log, want_log,
            "{threads} threads: the losses differ from 1 thread's"
        );
        assert_eq!(got.len(), want.len());
        for ((name, g), (_, w)) in got.iter().zip(&want) {
            let differ = g
                .iter()
                .zip(w)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(
                differ,
                0,
                "{threads} threads: {name} differs in {differ} of {} values",
                w.len()
            );
        }
    }
}

#[test]
fn checkpoints_say_what_wrote_them_and_a_resume_on_changed_data_warns() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 16);
    let out = dir.path().join("run");
    let o = dcgan()
        .args(small_args(&data, &out, "4"))
        .env("RAYON_NUM_THREADS", "3")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let ckpt = dcgan::checkpoint::Checkpoint::load(&out).unwrap();
    let by = ckpt.written_by.as_ref().unwrap();
    assert_eq!(
        (by.threads, by.device.as_str(), by.version.as_str()),
        (3, "flex", env!("CARGO_PKG_VERSION"))
    );
    assert!(!by.commit.is_empty());
    let fp = ckpt.state.data_fingerprint.as_ref().unwrap();
    assert_eq!((fp.items, fp.samples.len()), (40, 40));

    // The same data moved elsewhere: no warning.
    let moved = dir.path().join("moved");
    std::fs::rename(&data, &moved).unwrap();
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "5",
        "--data",
        moved.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // One image replaced by another: the run goes on, and says which item changed.
    std::fs::copy(moved.join("a/0002.png"), moved.join("a/0000.png")).unwrap();
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "6",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("dcgan: warning: ")
            && err.contains(
                "not the data the run started on (1 of 40 sampled items differ, the first item 0 ("
            )
            && err.contains("0000.png"),
        "{err}"
    );
    assert_eq!(read_log(&out).len(), 6);
}
