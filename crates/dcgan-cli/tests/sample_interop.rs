//! `sample`, `generate`, `import-torch`, `export-torch`, `grads` through the real binary.

mod common;

use common::*;
use dcgan::io::{npy, safetensors_file};

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
    let o = run(&[
        "import-torch",
        "--generator",
        golden.join("netG.safetensors").to_str().unwrap(),
        "--discriminator",
        golden.join("netD.safetensors").to_str().unwrap(),
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
        "--out",
        ckpt.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

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
    assert!(diff <= 1e-4, "max |diff| {diff}");
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
    assert!(diff <= 1e-4, "batch statistics: max |diff| {diff}");

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
        assert!((a - b).abs() <= 1e-4, "{key}: {a} vs PyTorch's {b}");
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
