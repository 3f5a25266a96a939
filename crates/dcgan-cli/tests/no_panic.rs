//! No input makes `dcgan` panic or hang: every command's numeric options at 0, negative, NaN and
//! huge values, and wrong files (missing, empty, truncated, of another type, of another shape),
//! end in exit 2 (bad input) or 1 (a failed job) with a message naming the value or the file,
//! within a time limit. One table; a case that fails is reported with its command line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// What a case must print on stderr: the value or file it names.
struct Case {
    args: Vec<String>,
    needle: String,
    /// Exit codes accepted: 2 (bad input) unless the case is a job that fails while running.
    codes: &'static [i32],
}

fn case(args: &[&str], needle: &str) -> Case {
    Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        needle: needle.to_string(),
        codes: &[2],
    }
}

/// Run `args`, killing it after `limit`: (exit code or None when killed, stderr).
fn run_limited(args: &[String], limit: Duration) -> (Option<i32>, String) {
    let mut child = dcgan()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dcgan starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code(), err);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, String::new());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Files {
    data: PathBuf,
    one_image: PathBuf,
    run: PathBuf,
    sheet: PathBuf,
    /// G's output on `sheet`, (8, 3, 16, 16) in [-1, 1]: a valid real batch for `grads`.
    batch: PathBuf,
    empty: PathBuf,
    text: PathBuf,
    truncated_ckpt: PathBuf,
    wrong_shape_npy: PathBuf,
    idx_zero_side: PathBuf,
    truncated_png_only: PathBuf,
    /// Copies of `run` with `data.prefetch` edited to 0 and to 100,000 in config.json.
    prefetch_runs: [PathBuf; 2],
    /// A copy of `run` whose checkpoint holds an Adam moment of the wrong length.
    bad_moments_run: PathBuf,
    out: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            copy_dir(&p, &to.join(p.file_name().unwrap()));
        } else {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

fn files(dir: &Path) -> Files {
    let data = image_folder(dir, 24, 16);
    let one_image = dir.join("one");
    std::fs::create_dir_all(&one_image).unwrap();
    std::fs::copy(data.join("a/0000.png"), one_image.join("only.png")).unwrap();
    let run = dir.join("run");
    train_small(&data, &run, &["--max-steps", "2", "--channels", "3"]);
    let sheet = dir.join("sheet.npy");
    let o = common::run(&[
        "sample",
        "--checkpoint",
        run.to_str().unwrap(),
        "--n",
        "8",
        "--out",
        dir.join("sheet.png").to_str().unwrap(),
        "--save-latents",
        sheet.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let batch = dir.join("batch.npy");
    let o = common::run(&[
        "generate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--latent",
        sheet.to_str().unwrap(),
        "--out",
        batch.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "this is not what the command expects\n").unwrap();
    let ckpt = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&ckpt).unwrap();
    let truncated_ckpt = dir.join("truncated.safetensors");
    std::fs::write(&truncated_ckpt, &bytes[..bytes.len() / 2]).unwrap();
    // A float32 (3, 5) .npy: latents must have nz = 16 columns.
    let wrong_shape_npy = dir.join("wrong.npy");
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    npy.extend((header.len() as u16).to_le_bytes());
    npy.extend(header.as_bytes());
    npy.extend(std::iter::repeat_n(0u8, 15 * 4));
    std::fs::write(&wrong_shape_npy, npy).unwrap();
    // IDX images of 0 × 28 pixels.
    let idx_zero_side = dir.join("zero-images-idx3-ubyte");
    let mut idx = vec![0, 0, 8, 3];
    for d in [5u32, 0, 28] {
        idx.extend(d.to_be_bytes());
    }
    std::fs::write(&idx_zero_side, idx).unwrap();
    let truncated_png_only = dir.join("broken");
    std::fs::create_dir_all(&truncated_png_only).unwrap();
    let png = std::fs::read(data.join("a/0000.png")).unwrap();
    std::fs::write(truncated_png_only.join("half.png"), &png[..png.len() / 2]).unwrap();
    let prefetch_runs = [0, 100_000].map(|prefetch| {
        let copy = dir.join(format!("run-prefetch-{prefetch}"));
        copy_dir(&run, &copy);
        let path = copy.join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        config["data"]["prefetch"] = prefetch.into();
        std::fs::write(&path, config.to_string()).unwrap();
        copy
    });
    let bad_moments_run = dir.join("run-bad-moments");
    copy_dir(&run, &bad_moments_run);
    for e in std::fs::read_dir(bad_moments_run.join("checkpoints")).unwrap() {
        let p = e.unwrap().path();
        let mut c = dcgan::io::safetensors_file::read(&p).unwrap();
        let m = c
            .tensors
            .get_mut("optimizer.discriminator.m.output_conv.weight")
            .expect("the checkpoint holds D's Adam moments");
        m.data.truncate(m.data.len() - 1);
        m.shape = vec![m.data.len()];
        let bytes = dcgan::io::safetensors_file::serialize(&c.tensors, &c.integers, c.metadata);
        std::fs::write(&p, bytes).unwrap();
    }
    Files {
        prefetch_runs,
        bad_moments_run,
        data,
        one_image,
        run,
        sheet,
        batch,
        empty,
        text,
        truncated_ckpt,
        wrong_shape_npy,
        idx_zero_side,
        truncated_png_only,
        out: dir.join("out"),
    }
}

/// The table: every command, its numeric options at bad values, its file inputs wrong.
fn cases(f: &Files) -> Vec<Case> {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (data, run, sheet, out) = (s(&f.data), s(&f.run), s(&f.sheet), s(&f.out));
    let (empty, text, trunc) = (s(&f.empty), s(&f.text), s(&f.truncated_ckpt));
    let out_png = format!("{out}/x.png");
    let huge = "18446744073709551615";
    let mut v = Vec::new();

    // train: every numeric option, on the small model with the tested flag left out of it.
    let train = |flag: &str, value: &str| {
        let mut a = vec!["train", "--data", &data, "--out", &out];
        if flag != "--max-steps" {
            a.extend(["--max-steps", "1"]);
        }
        for pair in small_model().chunks(2) {
            if pair[0] != flag {
                a.extend(pair);
            }
        }
        let mut a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        a.push(format!("{flag}={value}"));
        a
    };
    for (flag, value, needle) in [
        ("--image-size", "0", "invalid image size 0"),
        ("--image-size", huge, "invalid image size"),
        ("--image-size", "-16", "'-16'"),
        ("--channels", "2", "invalid channels 2"),
        ("--latent-dim", "0", "invalid latent size 0"),
        ("--latent-dim", "4000000000", "parameters"),
        ("--generator-width", "0", "invalid width 0"),
        ("--generator-width", "100000000", "invalid width 100000000"),
        ("--generator-width", "60000", "parameters"),
        ("--discriminator-width", "1000000", "invalid width 1000000"),
        ("--kernel-size", "3", "invalid kernel size 3"),
        ("--epochs", "0", "invalid epochs 0"),
        ("--max-steps", "0", "invalid max steps 0"),
        ("--batch-size", "0", "invalid batch size 0"),
        ("--batch-size", "1", "invalid batch size 1"),
        ("--batch-size", huge, "invalid batch size"),
        ("--lr", "NaN", "invalid learning rate NaN"),
        ("--lr", "-1", "invalid learning rate -1"),
        ("--lr", "inf", "invalid learning rate inf"),
        ("--beta1", "NaN", "invalid beta1 NaN"),
        ("--beta1", "1.5", "invalid beta1 1.5"),
        ("--sample-every", "0", "invalid interval 0"),
        ("--checkpoint-every", "0", "invalid interval 0"),
        ("--keep-checkpoints", "0", "invalid keep checkpoints 0"),
        ("--workers", huge, "invalid workers"),
        ("--max-bad-fraction", "NaN", "invalid max bad fraction NaN"),
        ("--max-bad-fraction", "2", "invalid max bad fraction 2"),
    ] {
        v.push(Case {
            args: train(flag, value),
            needle: needle.into(),
            codes: &[2],
        });
    }
    v.push(case(&["train", "--data", &empty, "--out", &out], &empty));
    v.push(case(
        &["train", "--data", &s(&f.idx_zero_side), "--out", &out],
        "a side is zero",
    ));
    v.push(case(
        &[
            "train",
            "--data",
            &s(&f.truncated_png_only),
            "--out",
            &out,
            "--batch-size",
            "2",
        ],
        "broken",
    ));
    v.push(case(&["train", "--resume", &data], &data));
    // Resumes from an edited config.json or a damaged checkpoint.
    for (run, needle) in f.prefetch_runs.iter().zip([
        "invalid prefetch 0: must be between 1 and 64 batches decoded ahead",
        "invalid prefetch 100000: must be between 1 and 64 batches decoded ahead",
    ]) {
        v.push(case(&["train", "--resume", &s(run)], needle));
    }
    v.push(case(
        &["train", "--resume", &s(&f.bad_moments_run)],
        "does not match the model: optimizer.discriminator.m.output_conv.weight holds",
    ));
    v.push(case(
        &["train", "--data", &data, "--out", &out, "--exclude", &text],
        &text,
    ));

    // sample / generate
    let sample = |extra: &[&str]| {
        let mut a = vec![
            "sample",
            "--checkpoint",
            run.as_str(),
            "--out",
            out_png.as_str(),
        ];
        a.extend(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for (extra, needle) in [
        (vec!["--n", "0"], "invalid sample count 0"),
        (vec!["--n", huge], "invalid sample count"),
        (vec!["--n=-3"], "'-3'"),
        (vec!["--n", "1", "--batch-stats"], "invalid sample count 1"),
        (vec!["--per-row", huge], "invalid images per row"),
        (
            vec!["--device", "tpu"],
            "invalid device tpu: unknown device",
        ),
        (vec!["--device", "cuda:x"], "invalid device cuda:x"),
    ] {
        v.push(Case {
            args: sample(&extra),
            needle: needle.into(),
            codes: &[2],
        });
    }
    // A run resumed on a device this build lacks, or on no device at all: refused before
    // config.json is rewritten. The binary has the devices the library under test has (cargo
    // builds both with the same features); wgpu is built in by default.
    let mut lacking = vec![("tpu", "invalid device tpu: unknown device")];
    if !dcgan::device::available().contains(&"cuda") {
        lacking.push((
            "cuda:0",
            "build with `cargo build --release -p dcgan-cli --features cuda`",
        ));
    }
    if !dcgan::device::available().contains(&"wgpu") {
        lacking.push((
            "wgpu",
            "invalid device wgpu: this build has no wgpu support",
        ));
    }
    for (device, needle) in lacking {
        v.push(Case {
            args: ["train", "--resume", run.as_str(), "--device", device]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            needle: needle.into(),
            codes: &[2],
        });
    }
    for ckpt in [&empty, &trunc, &text, &data] {
        v.push(case(
            &["sample", "--checkpoint", ckpt, "--out", &out_png],
            ckpt,
        ));
    }
    for latent in [&empty, &text, &s(&f.wrong_shape_npy), "/no/such.npy"] {
        v.push(case(
            &[
                "generate",
                "--checkpoint",
                &run,
                "--latent",
                latent,
                "--out",
                &format!("{out}/g.npy"),
            ],
            latent,
        ));
    }

    // import-torch / export-torch
    for (flag, value, needle) in [
        ("--image-size", "0", "invalid image size 0"),
        ("--nz", "0", "invalid latent size 0"),
        ("--ngf", "0", "invalid width 0"),
        ("--nc", "2", "invalid channels 2"),
    ] {
        v.push(case(
            &[
                "import-torch",
                "--generator",
                &trunc,
                "--out",
                &format!("{out}/i.safetensors"),
                flag,
                value,
            ],
            needle,
        ));
    }
    for g in [&empty, &text, &trunc] {
        v.push(case(
            &[
                "import-torch",
                "--generator",
                g,
                "--out",
                &format!("{out}/i.safetensors"),
            ],
            g,
        ));
    }
    for ckpt in [&empty, &trunc] {
        v.push(case(
            &["export-torch", "--checkpoint", ckpt, "--out", &out],
            ckpt,
        ));
        v.push(case(
            &[
                "export-generator",
                "--checkpoint",
                ckpt,
                "--out",
                &format!("{out}/g.safetensors"),
            ],
            ckpt,
        ));
    }

    // grads: a bad checkpoint, real batch or latents, each named.
    let (batch, wrong) = (s(&f.batch), s(&f.wrong_shape_npy));
    for (ckpt, real, latent, needle) in [
        (&trunc, &batch, &sheet, &trunc),
        (&run, &wrong, &sheet, &wrong),
        (&run, &text, &sheet, &text),
        (&run, &sheet, &sheet, &sheet),
        (&run, &batch, &wrong, &wrong),
        (&run, &batch, &empty, &empty),
    ] {
        v.push(case(
            &[
                "grads",
                "--checkpoint",
                ckpt,
                "--real",
                real,
                "--latent",
                latent,
                "--out",
                &out,
            ],
            needle,
        ));
    }

    // replay: the same inputs as grads, and a batch size that does not divide them.
    for (ckpt, latent, batch_size, needle) in [
        (&trunc, &sheet, "8", trunc.as_str()),
        (&run, &wrong, "8", wrong.as_str()),
        (&run, &sheet, "0", "invalid batch size 0"),
        (
            &run,
            &sheet,
            "3",
            "holds 8 images, not a whole number of batches of 3",
        ),
    ] {
        v.push(case(
            &[
                "replay",
                "--checkpoint",
                ckpt,
                "--real",
                &batch,
                "--latent",
                latent,
                "--batch-size",
                batch_size,
                "--out",
                &out,
            ],
            needle,
        ));
    }

    // features
    let feats = format!("{out}/f.npy");
    v.push(case(
        &[
            "features",
            "--checkpoint",
            &run,
            "--data",
            &data,
            "--out",
            &feats,
            "--batch-size",
            "0",
        ],
        "invalid batch size 0",
    ));
    v.push(case(
        &[
            "features",
            "--checkpoint",
            &run,
            "--data",
            &empty,
            "--out",
            &feats,
        ],
        &empty,
    ));
    v.push(case(
        &[
            "features",
            "--checkpoint",
            &trunc,
            "--data",
            &data,
            "--out",
            &feats,
        ],
        &trunc,
    ));

    // fid: bad values are refused before the weights are read.
    for (flag, value, needle) in [
        ("--n", "0", "invalid n 0"),
        ("--n", "1", "invalid n 1"),
        ("--n", huge, "invalid n"),
        ("--batch-size", "0", "invalid batch size 0"),
        ("--kid-subset-size", "1", "invalid KID subset size 1"),
        ("--kid-subsets", huge, "invalid KID subsets"),
        ("--image-size", "0", "invalid image size 0"),
    ] {
        v.push(case(
            &["fid", "--checkpoint", &run, "--data", &data, flag, value],
            needle,
        ));
    }
    v.push(case(&["fid", &data, &data, "--weights", &text], &text));
    v.push(case(&["fid", &data], "give two image sets"));
    // Statistics files that are not: empty, text, an archive without mu and sigma.
    let empty_npz = format!("{out}-empty.npz");
    std::fs::write(&empty_npz, b"").unwrap();
    v.push(case(
        &["fid", &empty_npz, &empty_npz, "--weights", &text],
        &empty_npz,
    ));
    v.push(case(&["fid", &text, &data, "--weights", &text], &text));
    // Latents with a NaN.
    let nan_npy = format!("{out}-nan.npy");
    let mut bytes = std::fs::read(&sheet).unwrap();
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&nan_npy, bytes).unwrap();
    v.push(case(
        &[
            "generate",
            "--checkpoint",
            &run,
            "--latent",
            &nan_npy,
            "--out",
            &format!("{out}/g.npy"),
        ],
        "is not finite",
    ));

    // eval svm
    let svm = |extra: &[&str]| {
        let mut a = vec![
            "eval",
            "svm",
            "--train-data",
            data.as_str(),
            "--test-data",
            data.as_str(),
        ];
        a.extend(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for (extra, needle) in [
        (vec!["--per-class", "0"], "invalid per class 0"),
        (vec!["--draws", "0"], "invalid draws 0"),
        (vec!["--batch-size", "0"], "invalid batch size 0"),
        (vec!["--kmeans-k", "0"], "invalid K-means K 0"),
        (vec!["--kmeans-k", huge], "invalid K-means K"),
        (vec!["--kmeans-patches", "0"], "invalid K-means patches 0"),
        (
            vec!["--kmeans-iterations", "0"],
            "invalid K-means iterations 0",
        ),
        (vec!["--c-grid", "NaN"], "invalid C NaN"),
        (vec!["--c-grid=-1"], "invalid C -1"),
        (vec!["--train-limit", "0"], "invalid train limit 0"),
        (vec!["--image-size", "0"], "invalid image size 0"),
        (vec!["--methods", "dcgan"], "needs --checkpoint"),
    ] {
        v.push(Case {
            args: svm(&extra),
            needle: needle.into(),
            codes: &[2],
        });
    }

    // data
    v.push(case(
        &["data", "info", &data, "--limit", "0"],
        "invalid limit 0",
    ));
    v.push(case(
        &["data", "info", &s(&f.idx_zero_side)],
        "a side is zero",
    ));
    v.push(case(&["data", "info", &empty], &empty));
    for (extra, needle) in [
        (vec!["--channels", "2"], "invalid channels 2"),
        (vec!["--n", "0"], "invalid n 0"),
        (vec!["--size", "0"], "invalid size 0"),
        (vec!["--size", huge], "invalid size"),
    ] {
        let mut a = vec!["data", "preview", data.as_str(), "--out", out_png.as_str()];
        a.extend(extra);
        v.push(case(&a, needle));
    }
    v.push(case(
        &["data", "export", &data, "--out", &out, "--limit", "0"],
        "invalid limit 0",
    ));
    for (extra, needle) in [
        (vec!["--bits", "0"], "invalid code bits 0"),
        (vec!["--bits", "200"], "invalid code bits 200"),
        (vec!["--epochs", "0"], "invalid epochs 0"),
        (
            vec!["--mode", "fuzzy"],
            "unknown mode 'fuzzy': use near or paper",
        ),
        (vec!["--precision", "0"], "invalid precision 0"),
        (vec!["--precision", "1.5"], "invalid precision 1.5"),
        (vec!["--precision", "NaN"], "invalid precision NaN"),
        (vec!["--validation", "0"], "invalid validation 0"),
        (vec!["--threshold", "0.5"], "invalid threshold 0.5"),
    ] {
        let mut a = vec!["data", "dedup", data.as_str(), "--out", out.as_str()];
        a.extend(extra.iter().copied());
        v.push(case(&a, needle));
        let mut a = vec!["data", "dedup-eval", data.as_str()];
        a.extend(extra);
        v.push(case(&a, needle));
    }
    v.push(case(
        &["data", "dedup-eval", &data, "--plant", huge],
        "invalid plant",
    ));

    // bench
    for (extra, needle) in [
        (vec!["--runs", "0"], "invalid runs 0"),
        (vec!["--batch-size", "0"], "invalid batch size 0"),
        (vec!["--batch-size", "1"], "invalid batch size 1"),
        (vec!["--image-size", "48"], "invalid image size 48"),
        (vec!["--channels", "2"], "invalid channels 2"),
        (vec!["--loader-batches", "0"], "invalid loader batches 0"),
        (
            vec!["--generator-width", "100000000"],
            "invalid width 100000000",
        ),
    ] {
        let mut a = vec!["bench", "--only", "loader", "--data", data.as_str()];
        a.extend(extra);
        v.push(case(&a, needle));
    }
    v.push(case(
        &[
            "bench",
            "--only",
            "loader",
            "--data",
            &s(&f.truncated_png_only),
            "--runs",
            "1",
            "--warmup",
            "0",
        ],
        "could be read",
    ));

    // §6 tools
    let with_model = |cmd: &str, extra: &[&str]| {
        let mut a = vec![cmd, "--checkpoint", run.as_str()];
        a.extend(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for (cmd, extra, needle) in [
        (
            "interpolate",
            vec!["--out", &out, "--points", "0"],
            "invalid points 0",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--points", "1"],
            "invalid points 1",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--walks", "0"],
            "invalid walks 0",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--steps", "0"],
            "invalid steps 0",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--steps", huge],
            "invalid steps",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--gif-scale", "0"],
            "invalid gif scale 0",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--gif-scale", "4000000"],
            "invalid gif scale",
        ),
        (
            "interpolate",
            vec!["--out", &out, "--latents", &empty, "--indices", "1,2"],
            &empty,
        ),
        (
            "interpolate",
            vec!["--out", &out, "--latents", &sheet, "--indices", "1,99"],
            "invalid index 99",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--turn-left",
                "0",
                "--turn-right",
                "1",
                "--turn-steps",
                "0",
            ],
            "invalid turn steps 0",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--turn-left",
                "0",
                "--turn-right",
                "1",
                "--turn-reach",
                "NaN",
            ],
            "invalid turn reach NaN",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--expr",
                "a",
                "--concept",
                "a=0",
                "--noise",
                "NaN",
            ],
            "invalid noise NaN",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--expr",
                "a",
                "--concept",
                "a=0",
                "--noise=-1",
            ],
            "invalid noise -1",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--expr",
                "a",
                "--concept",
                "a=0",
                "--neighbours",
                huge,
            ],
            "invalid neighbours",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--expr",
                "a",
                "--concept",
                "=0",
            ],
            "invalid concept =0",
        ),
        (
            "arithmetic",
            vec![
                "--out",
                &out,
                "--latents",
                &text,
                "--expr",
                "a",
                "--concept",
                "a=0",
            ],
            &text,
        ),
        (
            "visualize-d",
            vec!["--out", &out, "--data", &data, "--features", "0"],
            "invalid features 0",
        ),
        (
            "visualize-d",
            vec!["--out", &out, "--data", &data, "--top", "0"],
            "invalid top 0",
        ),
        (
            "visualize-d",
            vec!["--out", &out, "--data", &data, "--limit", "0"],
            "invalid limit 0",
        ),
        ("visualize-d", vec!["--out", &out, "--data", &empty], &empty),
        (
            "forget",
            vec!["--out", &out, "--latents", &sheet, "--boxes", &text],
            &text,
        ),
        (
            "forget",
            vec!["--out", &out, "--latents", &sheet, "--boxes", &empty],
            &empty,
        ),
        (
            "forget",
            vec![
                "--out",
                &out,
                "--latents",
                &s(&f.wrong_shape_npy),
                "--boxes",
                &text,
            ],
            "wrong.npy",
        ),
        (
            "forget",
            vec![
                "--out",
                &out,
                "--latents",
                &sheet,
                "--boxes",
                &text,
                "--negatives",
                "0",
            ],
            "invalid negatives 0",
        ),
        (
            "neighbours",
            vec!["--out", &out_png, "--data", &data, "--k", "0"],
            "invalid k 0",
        ),
        (
            "neighbours",
            vec!["--out", &out_png, "--data", &data, "--n", "0"],
            "invalid samples 0",
        ),
        (
            "neighbours",
            vec!["--out", &out_png, "--data", &data, "--limit", "0"],
            "invalid limit 0",
        ),
        (
            "neighbours",
            vec!["--out", &out_png, "--data", &s(&f.one_image), "--k=-2"],
            "'-2'",
        ),
    ] {
        v.push(Case {
            args: with_model(cmd, &extra),
            needle: needle.into(),
            codes: &[2],
        });
    }
    // A truncated checkpoint, wherever one is read.
    let feats_out = format!("{out}/t.npy");
    for args in [
        vec!["interpolate", "--out", &out],
        vec!["visualize-d", "--out", &out, "--data", &data],
        vec!["neighbours", "--out", &out_png, "--data", &data],
        vec![
            "forget",
            "--out",
            &out,
            "--latents",
            &sheet,
            "--boxes",
            &text,
        ],
        vec![
            "arithmetic",
            "--out",
            &out,
            "--latents",
            &sheet,
            "--expr",
            "a",
            "--concept",
            "a=0",
        ],
        vec!["features", "--out", &feats_out, "--data", &data],
        vec!["fid", "--data", &data],
    ] {
        let mut a = args.clone();
        a.extend(["--checkpoint", trunc.as_str()]);
        v.push(case(&a, &trunc));
    }
    v
}

#[test]
fn no_input_panics_or_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let table = cases(&f);
    let mut failures = Vec::new();
    for c in &table {
        let (code, err) = run_limited(&c.args, Duration::from_secs(60));
        let line = format!("dcgan {}", c.args.join(" "));
        match code {
            None => failures.push(format!("{line}\n  did not end within 60 s")),
            Some(code) if !c.codes.contains(&code) => failures.push(format!(
                "{line}\n  exit {code}, expected {:?}: {err}",
                c.codes
            )),
            Some(_) if err.contains("panicked") => {
                failures.push(format!("{line}\n  panicked: {err}"))
            }
            Some(_) if !err.contains(&c.needle) => failures.push(format!(
                "{line}\n  stderr does not name {:?}: {err}",
                c.needle
            )),
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
    // A failed command leaves nothing half-written where the run was.
    assert!(f.run.join("config.json").is_file());
}

#[test]
fn bench_measures_a_data_set_smaller_than_one_batch() {
    // Once a panic (exit 101): the loader measurement on a one-image folder.
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 1, 16);
    let o = run(&[
        "bench",
        "--only",
        "loader",
        "--data",
        data.to_str().unwrap(),
        "--image-size",
        "16",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["loader"][0]["timing"]["items"], 1);
}
