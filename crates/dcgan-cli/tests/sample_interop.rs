//! `sample`, `generate`, `import-torch`, `export-torch`, `grads`, `replay` through the real binary.

mod common;

use common::*;
use dcgan::io::{npy, safetensors_file};

/// `dcgan import-torch` of the golden G and D into `ckpt`, with `flags` added.
fn import_golden(golden: &std::path::Path, ckpt: &std::path::Path, flags: &[&str]) {
    let (g, d) = (
        golden.join("netG.safetensors"),
        golden.join("netD.safetensors"),
    );
    let mut args = vec![
        "import-torch",
        "--generator",
        g.to_str().unwrap(),
        "--discriminator",
        d.to_str().unwrap(),
        "--out",
        ckpt.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn import_generate_and_export_round_trip_the_pytorch_golden_network() {
    let Some(shared) = shared_dir() else {
        return missing(
            "import/export round trip",
            "shared/golden (set DCGAN_SHARED)",
        );
    };
    let golden = shared.join("golden/dcgan64-rgb");
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("imported.safetensors");
    let flags = [
        "--image-size",
        "64",
        "--nz",
        "100",
        "--ngf",
        "64",
        "--ndf",
        "64",
        "--nc",
        "3",
    ];
    import_golden(&golden, &ckpt, &flags);

    // G(z) from the imported checkpoint equals PyTorch's (BatchNorm on running statistics).
    let out = dir.path().join("g.npy");
    let o = run(&[
        "generate",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--latent",
        golden.join("z.npy").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = npy::read(&out).unwrap();
    let want = npy::read(&golden.join("g_eval.npy")).unwrap();
    assert_eq!(got.shape, vec![8, 3, 64, 64]);
    let diff = got
        .data
        .iter()
        .zip(&want.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    // Measured 3.1e-8 in eval mode, 8.3e-7 with batch statistics; the losses 5.7e-7.
    assert!(diff <= 3e-7, "max |diff| {diff}");
    // ... and with batch statistics.
    let o = run(&[
        "generate",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--latent",
        golden.join("z.npy").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--batch-stats",
    ]);
    assert!(o.status.success());
    let want = npy::read(&golden.join("g_train.npy")).unwrap();
    let diff = npy::read(&out)
        .unwrap()
        .data
        .iter()
        .zip(&want.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff <= 8e-6, "batch statistics: max |diff| {diff}");

    // Export gives back PyTorch's state dicts: same keys, same values.
    let exported = dir.path().join("torch");
    let o = run(&[
        "export-torch",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["netG.safetensors", "netD.safetensors"] {
        let a = safetensors_file::read(&golden.join(f)).unwrap();
        let b = safetensors_file::read(&exported.join(f)).unwrap();
        assert_eq!(a.tensors, b.tensors, "{f}");
        let mut ka: Vec<_> = a.integers.keys().collect();
        let mut kb: Vec<_> = b.integers.keys().collect();
        ka.sort();
        kb.sort();
        assert_eq!(ka, kb, "{f}: num_batches_tracked keys");
    }

    // `dcgan grads` on the same network and batch: PyTorch's keys, its losses, no integers
    // (the tensor-by-tensor comparison is the library's parity test).
    let grads = dir.path().join("grads");
    let o = run(&[
        "grads",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--real",
        golden.join("real.npy").to_str().unwrap(),
        "--latent",
        golden.join("z.npy").to_str().unwrap(),
        "--out",
        grads.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let want: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden.join("grads_losses.json")).unwrap()).unwrap();
    for key in ["err_d_real", "err_d_fake", "err_g"] {
        let (a, b) = (report[key].as_f64().unwrap(), want[key].as_f64().unwrap());
        assert!((a - b).abs() <= 5e-6, "{key}: {a} vs PyTorch's {b}");
    }
    for f in ["grads_d.safetensors", "grads_g.safetensors"] {
        let ours = safetensors_file::read(&grads.join(f)).unwrap();
        let theirs = safetensors_file::read(&golden.join(f)).unwrap();
        assert!(ours.integers.is_empty(), "{f}");
        assert_eq!(
            ours.tensors.keys().collect::<Vec<_>>(),
            theirs.tensors.keys().collect::<Vec<_>>(),
            "{f}"
        );
    }
}

/// `dcgan replay` from PyTorch's golden weights on its golden batch: one iteration gives
/// PyTorch's losses and D outputs and, after the first Adam step, PyTorch's weights and running
/// statistics. A weight whose gradient is at rounding level may take the opposite ±lr first
/// step: ≥ 99.9 % of D's weights within 1e-5 as in the library's parity test, and ≥ 99 % of G's,
/// whose step here goes through those D weights (parity.rs pins them; measured 99.39 %). Two
/// iterations of half the batch give two lines and PyTorch's update counts.
#[test]
fn replay_from_the_golden_weights_takes_pytorchs_step() {
    let Some(shared) = shared_dir() else {
        return missing("replay", "shared/golden (set DCGAN_SHARED)");
    };
    let golden = shared.join("golden/dcgan64-rgb");
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("imported.safetensors");
    import_golden(&golden, &ckpt, &[]);
    let replay = |batch: &str, latent: &std::path::Path, out: &std::path::Path| {
        run(&[
            "replay",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--real",
            golden.join("real.npy").to_str().unwrap(),
            "--latent",
            latent.to_str().unwrap(),
            "--batch-size",
            batch,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ])
    };
    let one = dir.path().join("one");
    let o = replay("8", &golden.join("z.npy"), &one);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["steps"], 1);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(one.join("steps.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["step"], 1);
    let want: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden.join("step.json")).unwrap()).unwrap();
    // err_g goes through D weights that took the opposite first step: within 5e-4 (parity.rs).
    for (ours, theirs, tol) in [
        ("loss_d_real", "err_d_real", 1e-4),
        ("loss_d_fake", "err_d_fake", 1e-4),
        ("loss_d", "err_d", 1e-4),
        ("d_real", "d_x", 1e-4),
        ("d_fake", "d_g_z1", 1e-4),
        ("d_fake_after", "d_g_z2", 1e-4),
        ("loss_g", "err_g", 5e-4),
    ] {
        let (a, b) = (
            lines[0][ours].as_f64().unwrap(),
            want[theirs].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= tol,
            "{ours}: {a} vs PyTorch's {theirs} {b}"
        );
        assert_eq!(report["last"][ours], lines[0][ours], "{ours}");
    }
    for (ours, theirs, tracked, share, stat_tol) in [
        ("netG.safetensors", "netG_step.safetensors", 1, 0.99, 1e-6),
        ("netD.safetensors", "netD_step.safetensors", 3, 0.999, 1e-4),
    ] {
        let a = safetensors_file::read(&one.join(ours)).unwrap();
        let b = safetensors_file::read(&golden.join(theirs)).unwrap();
        assert_eq!(
            a.tensors.keys().collect::<Vec<_>>(),
            b.tensors.keys().collect::<Vec<_>>(),
            "{ours}"
        );
        assert!(a.integers.values().all(|v| v == &vec![tracked]), "{ours}");
        let (mut total, mut close, mut worst_stat) = (0usize, 0usize, 0f32);
        for (key, w) in &b.tensors {
            let o = &a.tensors[key];
            if key.contains("running_") {
                // D's third update runs on the fake batch through D's updated weights, a few
                // of which took the opposite first step (parity.rs pins them and holds D's
                // statistics to 1e-4): here an absolute bound, measured 3.4e-5.
                for (x, y) in o.data.iter().zip(&w.data) {
                    worst_stat = worst_stat.max((x - y).abs());
                    assert!((x - y).abs() <= stat_tol, "{ours} {key}: {x} vs {y}");
                }
                continue;
            }
            let diff = o
                .data
                .iter()
                .zip(&w.data)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(diff <= 4.1e-4, "{ours} {key}: max |diff| {diff}");
            total += w.data.len();
            close += o
                .data
                .iter()
                .zip(&w.data)
                .filter(|(x, y)| (*x - *y).abs() <= 1e-5)
                .count();
        }
        eprintln!(
            "{ours}: {close} of {total} within 1e-5; running statistics within {worst_stat:.1e} absolute"
        );
        assert!(
            close as f64 >= share * total as f64,
            "{ours}: {close} of {total} within 1e-5"
        );
    }

    // Two iterations of four: two lines, BatchNorm counts of 2 and 6.
    let two = dir.path().join("two");
    let o = replay("4", &golden.join("z.npy"), &two);
    assert!(o.status.success(), "{}", stderr(&o));
    let steps: Vec<u64> = std::fs::read_to_string(two.join("steps.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(steps, [1, 2]);
    let g = safetensors_file::read(&two.join("netG.safetensors")).unwrap();
    let d = safetensors_file::read(&two.join("netD.safetensors")).unwrap();
    assert!(g.integers.values().all(|v| v == &vec![2]));
    assert!(d.integers.values().all(|v| v == &vec![6]));

    // Fewer latents than images: named, nothing written.
    let z = npy::read(&golden.join("z.npy")).unwrap();
    let half = dir.path().join("z4.npy");
    let mut shape = z.shape.clone();
    shape[0] = 4;
    let data = z.data[..z.data.len() / 2].to_vec();
    npy::write(&half, &dcgan::io::HostTensor::new(shape, data)).unwrap();
    let bad = dir.path().join("bad");
    let o = replay("4", &half, &bad);
    assert_clean_failure(
        &o,
        2,
        &format!(
            "{}: holds 4 latents; {} holds 8 images, one latent each",
            half.display(),
            golden.join("real.npy").display()
        ),
    );
    assert!(!bad.exists());
}

#[test]
fn import_of_another_architecture_names_the_file_and_the_keys() {
    let Some(shared) = shared_dir() else {
        return missing("import mismatch", "shared/golden (set DCGAN_SHARED)");
    };
    let g = shared.join("golden/dcgan64-rgb/netG.safetensors");
    let dir = tempfile::tempdir().unwrap();
    // A 64×64 generator read as a 32×32 one: main.12 is not part of it.
    let o = run(&[
        "import-torch",
        "--generator",
        g.to_str().unwrap(),
        "--image-size",
        "32",
        "--out",
        dir.path().join("c.safetensors").to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        &format!("{}: does not match the model: keys", g.display()),
    );
    let err = stderr(&o);
    assert!(err.contains("main.12.weight"), "{err}");
    // Right depth, wrong width: shapes are reported.
    let o = run(&[
        "import-torch",
        "--generator",
        g.to_str().unwrap(),
        "--ngf",
        "32",
        "--out",
        dir.path().join("c.safetensors").to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        "has shape [100, 512, 4, 4], the model needs [100, 256, 4, 4]",
    );
}

#[test]
fn sample_saves_latents_that_generate_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let out = dir.path().join("run");
    train_small(&data, &out, &["--max-steps", "2"]);

    let grid = dir.path().join("grid.png");
    let z = dir.path().join("z.npy");
    let o = run(&[
        "sample",
        "--checkpoint",
        out.to_str().unwrap(),
        "--n",
        "6",
        "--per-row",
        "3",
        "--out",
        grid.to_str().unwrap(),
        "--save-latents",
        z.to_str().unwrap(),
        "--seed",
        "9",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&grid).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (3 * 18 + 2, 2 * 18 + 2));
    let latents = npy::read(&z).unwrap();
    assert_eq!(latents.shape, vec![6, 16]);

    // generate → .npy: (6, 3, 16, 16) in [-1, 1]; its first image is the grid's first tile.
    let raw = dir.path().join("raw.npy");
    let o = run(&[
        "generate",
        "--checkpoint",
        out.to_str().unwrap(),
        "--latent",
        z.to_str().unwrap(),
        "--out",
        raw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let g = npy::read(&raw).unwrap();
    assert_eq!(g.shape, vec![6, 3, 16, 16]);
    assert!(g.data.iter().all(|v| (-1.0..=1.0).contains(v)));
    let tile = dcgan::data::transform::to_image(&g.data[..768], 3, 16).to_rgb8();
    for y in 0..16 {
        for x in 0..16 {
            assert_eq!(tile.get_pixel(x, y), img.get_pixel(x + 2, y + 2));
        }
    }
    // generate → folder of PNGs.
    let pngs = dir.path().join("pngs/");
    let o = run(&[
        "generate",
        "--checkpoint",
        out.to_str().unwrap(),
        "--latent",
        z.to_str().unwrap(),
        "--out",
        pngs.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&pngs).unwrap().count(), 6);
    assert_eq!(image::open(pngs.join("000005.png")).unwrap().width(), 16);
}

#[test]
fn export_generator_keeps_g_and_its_average_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let run_dir = dir.path().join("run");
    train_small(
        &data,
        &run_dir,
        &["--max-steps", "3", "--ema-decay", "0.8", "--ema-start", "1"],
    );
    let source = run_dir.join("checkpoints/step-00000003.safetensors");
    let out = dir.path().join("models/cifar/g.safetensors");
    let o = succeed([
        "export-generator",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["step"], 3);
    assert_eq!(report["averaged"], true);
    assert_eq!(report["bytes"], std::fs::metadata(&out).unwrap().len());
    assert_eq!(
        report["source_bytes"],
        std::fs::metadata(&source).unwrap().len()
    );

    // The same header (config, counters, provenance), G's and the average's tensors bit for bit,
    // and no D or optimiser moments.
    let (a, b) = (
        safetensors_file::read(&source).unwrap(),
        safetensors_file::read(&out).unwrap(),
    );
    assert_eq!(a.metadata, b.metadata);
    let kept = |k: &String| k.starts_with("generator.") || k.starts_with("generator_ema.");
    let mut want: Vec<_> = a.tensors.keys().filter(|k| kept(k)).collect();
    let mut got: Vec<_> = b.tensors.keys().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(want.iter().any(|k| k.starts_with("generator_ema.")));
    assert!(a.tensors.keys().any(|k| k.starts_with("optimizer.")));
    for k in got {
        assert_eq!(a.tensors[k], b.tensors[k], "{k}");
    }
    assert!(report["bytes"].as_u64() < report["source_bytes"].as_u64());

    // It draws what the checkpoint draws, the average and the trained G alike, to the bit.
    let z = dir.path().join("z.npy");
    npy::write(
        &z,
        &dcgan::io::HostTensor {
            shape: vec![4, 16],
            data: (0..64).map(|i| ((i * 7 % 13) as f32 - 6.0) / 4.0).collect(),
        },
    )
    .unwrap();
    for raw in [false, true] {
        let draw = |ckpt: &std::path::Path, name: &str| {
            let npy_out = dir.path().join(name);
            let mut args = vec![];
            if raw {
                args.push("--raw-generator");
            }
            args.extend([
                "generate",
                "--checkpoint",
                ckpt.to_str().unwrap(),
                "--latent",
                z.to_str().unwrap(),
                "--out",
                npy_out.to_str().unwrap(),
            ]);
            succeed(&args);
            npy::read(&npy_out).unwrap()
        };
        let (from_run, from_export) = (draw(&source, "a.npy"), draw(&out, "b.npy"));
        assert_eq!(from_run.shape, vec![4, 3, 16, 16]);
        assert_eq!(from_run.data, from_export.data, "raw generator: {raw}");
    }

    // Training cannot continue from it, and it cannot overwrite the checkpoint it reads.
    let copy = dir.path().join("copy");
    std::fs::create_dir_all(copy.join("checkpoints")).unwrap();
    std::fs::copy(run_dir.join("config.json"), copy.join("config.json")).unwrap();
    std::fs::copy(&out, copy.join("checkpoints/step-00000003.safetensors")).unwrap();
    let o = run(&[
        "train",
        "--resume",
        copy.to_str().unwrap(),
        "--max-steps",
        "4",
    ]);
    assert_clean_failure(&o, 2, "holds no optimizer state");
    let before = std::fs::read(&source).unwrap();
    let o = run(&[
        "export-generator",
        "--checkpoint",
        source.to_str().unwrap(),
        "--out",
        run_dir
            .join("checkpoints/../checkpoints/step-00000003.safetensors")
            .to_str()
            .unwrap(),
    ]);
    assert_clean_failure(&o, 2, "is the checkpoint being read");
    assert_eq!(std::fs::read(&source).unwrap(), before);
}

/// The CIFAR-10 generator shipped in `models/`: the recipe its README names, G alone, and 256
/// samples with CIFAR-10's colour statistics, the smoothness of photographs and no two alike.
#[test]
fn the_shipped_cifar10_generator_draws_cifar_like_images() {
    let file = repo().join("models/cifar10-32-30k.safetensors");
    let ckpt = dcgan::checkpoint::Checkpoint::load(&file).unwrap();
    let (m, t) = (&ckpt.config.model, &ckpt.config.train);
    assert_eq!((m.image_size, m.channels, m.latent_dim), (32, 3, 100));
    assert_eq!((t.batch_size, t.seed, ckpt.state.step), (64, 1, 30_000));
    assert_eq!(ckpt.config.optim.learning_rate, 2e-4);
    let keys = safetensors_file::read(&file).unwrap().tensors;
    assert!(keys.keys().all(|k| k.starts_with("generator.")), "G alone");

    let dir = tempfile::tempdir().unwrap();
    let (grid, z, out) = (
        dir.path().join("grid.png"),
        dir.path().join("z.npy"),
        dir.path().join("g.npy"),
    );
    let file = file.to_str().unwrap();
    succeed([
        "sample",
        "--checkpoint",
        file,
        "--n",
        "256",
        "--seed",
        "0",
        "--out",
        grid.to_str().unwrap(),
        "--save-latents",
        z.to_str().unwrap(),
    ]);
    succeed([
        "generate",
        "--checkpoint",
        file,
        "--latent",
        z.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let g = npy::read(&out).unwrap();
    assert_eq!(g.shape, vec![256, 3, 32, 32]);
    assert!(g.data.iter().all(|v| (-1.0..=1.0).contains(v)));
    let plane = 32 * 32;
    // CIFAR-10's channel means and standard deviations (0.4914, 0.4822, 0.4465; 0.2470, 0.2435,
    // 0.2616 on [0, 1]) on G's [-1, 1] scale. Measured: means −0.008, −0.041, −0.084, standard
    // deviations 0.433, 0.431, 0.461 (G draws with a little less contrast than the photographs).
    let (mean, sd) = ([0.4914f64, 0.4822, 0.4465], [0.2470f64, 0.2435, 0.2616]);
    for c in 0..3 {
        let v: Vec<f64> = (0..256)
            .flat_map(|i| &g.data[(i * 3 + c) * plane..(i * 3 + c + 1) * plane])
            .map(|&x| x as f64)
            .collect();
        let mu = v.iter().sum::<f64>() / v.len() as f64;
        let s = (v.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        assert!(
            (mu - (2.0 * mean[c] - 1.0)).abs() < 0.05,
            "channel {c}: mean {mu}"
        );
        assert!(
            (s - 2.0 * sd[c]).abs() < 0.1,
            "channel {c}: standard deviation {s}"
        );
    }
    // Neighbouring pixels differ by 0.10 on average (uniform noise: 0.67).
    let step: f64 = g
        .data
        .chunks(32)
        .flat_map(|row| row.windows(2).map(|w| (w[1] - w[0]).abs() as f64))
        .sum::<f64>()
        / (g.data.len() / 32 * 31) as f64;
    assert!(step < 0.2, "mean neighbour difference {step}");
    // No two samples alike: the closest pair differs by an RMS of 0.21 (the mean pair 0.60).
    let img = 3 * plane;
    let mut closest = f64::MAX;
    for i in 0..256 {
        for j in i + 1..256 {
            let (a, b) = (&g.data[i * img..][..img], &g.data[j * img..][..img]);
            let d = a
                .iter()
                .zip(b)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum::<f64>();
            closest = closest.min((d / img as f64).sqrt());
        }
    }
    assert!(closest > 0.1, "closest pair RMS {closest}");
}
