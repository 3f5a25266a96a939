//! `train --conditional` through the real binary: the classes recorded, exact resume, the
//! per-class sample grid, `sample --class`, `generate --labels`, `fid --per-class`, and bad input
//! refused with one message.

mod common;
use common::*;

use dcgan::io::safetensors_file;

/// A conditional run of the small model, checkpoints every 3 steps.
fn conditional(data: &std::path::Path, out: &std::path::Path, steps: &str) -> Vec<String> {
    train_args(
        data,
        out,
        steps,
        &["--checkpoint-every", "3", "--conditional"],
    )
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The classes are the folder's, D has its embedding, and a run stopped and resumed is the
/// uninterrupted one to the bit.
#[test]
fn a_conditional_run_records_its_classes_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 24, 16);
    let full = dir.path().join("full");
    succeed(conditional(&data, &full, "6"));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model"]["classes"], serde_json::json!(["a", "b"]));
    let last = full.join("checkpoints/step-00000006.safetensors");
    let tensors = safetensors_file::read(&last).unwrap().tensors;
    // K × the last hidden layer's width (16×16 images: ndf 8, then 16).
    assert_eq!(tensors["discriminator.embedding"].shape, vec![2, 16]);
    // G's first layer takes z (16) and the one-hot class (2).
    assert_eq!(tensors["generator.project_conv.weight"].shape[0], 18);
    // The embedding learnt: D's Adam moved it from its initial draw.
    let first = safetensors_file::read(&full.join("checkpoints/step-00000003.safetensors"))
        .unwrap()
        .tensors;
    assert_ne!(
        first["discriminator.embedding"].data,
        tensors["discriminator.embedding"].data
    );

    let part = dir.path().join("part");
    succeed(conditional(&data, &part, "3"));
    succeed([
        "train",
        "--resume",
        part.to_str().unwrap(),
        "--max-steps",
        "6",
    ]);
    assert_eq!(
        without_timing(read_log(&part)),
        without_timing(read_log(&full))
    );
    let b = std::fs::read(part.join("checkpoints/step-00000006.safetensors")).unwrap();
    assert!(
        std::fs::read(&last).unwrap() == b,
        "the resumed run's last checkpoint differs"
    );
}

/// `sample` draws one row per class (the same latent down each column), `--class` one class,
/// `generate --labels` the classes asked for: the grid's rows are `generate`'s images.
#[test]
fn sampling_picks_classes_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 24, 16);
    let out = dir.path().join("run");
    succeed(conditional(&data, &out, "3"));
    let ckpt = out.to_str().unwrap();
    let (grid, z) = (dir.path().join("grid.png"), dir.path().join("z.npy"));
    let o = succeed([
        "sample",
        "--checkpoint",
        ckpt,
        "--out",
        grid.to_str().unwrap(),
        "--n",
        "9",
        "--save-latents",
        z.to_str().unwrap(),
        "--json",
    ]);
    let r = json(&o);
    // ⌈√9⌉ = 3 columns, 2 classes: 6 images, labels row by row.
    assert_eq!(r["n"], 6);
    assert_eq!(r["labels"], serde_json::json!([0, 0, 0, 1, 1, 1]));
    assert_eq!(r["classes"], serde_json::json!(["a", "b"]));
    let (w, h) = image::image_dimensions(&grid).unwrap();
    assert_eq!((w, h), (3 * 18 + 2, 2 * 18 + 2));
    let labels = dir.path().join("z.labels.npy");
    let images = dir.path().join("images.npy");
    succeed([
        "generate",
        "--checkpoint",
        ckpt,
        "--latent",
        z.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--out",
        images.to_str().unwrap(),
    ]);
    let x = dcgan::io::npy::read(&images).unwrap();
    assert_eq!(x.shape, vec![6, 3, 16, 16]);
    let per = 3 * 16 * 16;
    // Rows share latents: column j of row 0 and of row 1 are one latent in two classes.
    let (a, b) = (&x.data[..per], &x.data[3 * per..4 * per]);
    let zs = dcgan::io::npy::read(&z).unwrap();
    assert_eq!(zs.data[..16], zs.data[3 * 16..4 * 16]);
    assert!(
        a.iter().zip(b).any(|(p, q)| (p - q).abs() > 1e-4),
        "the class changes nothing"
    );

    let one = succeed([
        "sample",
        "--checkpoint",
        ckpt,
        "--out",
        grid.to_str().unwrap(),
        "--n",
        "4",
        "--class",
        "1",
        "--json",
    ]);
    assert_eq!(json(&one)["labels"], serde_json::json!([1, 1, 1, 1]));

    let bad = |args: &[&str], code: i32, msg: &str| {
        let o = run(args);
        assert_clean_failure(&o, code, msg);
    };
    let out_png = dir.path().join("x.png");
    let out_png = out_png.to_str().unwrap();
    bad(
        &[
            "sample",
            "--checkpoint",
            ckpt,
            "--out",
            out_png,
            "--class",
            "2",
        ],
        2,
        "invalid class 2: must be below 2, the model's number of classes (a, b)",
    );
    let images_s = images.to_str().unwrap();
    bad(
        &[
            "generate",
            "--checkpoint",
            ckpt,
            "--latent",
            z.to_str().unwrap(),
            "--out",
            images_s,
        ],
        2,
        "is a class-conditional model (2 classes): give --labels, a .npy of one class per latent",
    );
    let few = dir.path().join("few.npy");
    write_labels(&few, &[0, 1]);
    bad(
        &[
            "generate",
            "--checkpoint",
            ckpt,
            "--latent",
            z.to_str().unwrap(),
            "--labels",
            few.to_str().unwrap(),
            "--out",
            images_s,
        ],
        2,
        "few.npy: holds 2 labels; 6 are needed, one per latent",
    );
    let outside = dir.path().join("outside.npy");
    write_labels(&outside, &[0, 1, 0, 5, 0, 0]);
    bad(
        &[
            "generate",
            "--checkpoint",
            ckpt,
            "--latent",
            z.to_str().unwrap(),
            "--labels",
            outside.to_str().unwrap(),
            "--out",
            images_s,
        ],
        2,
        "label 5 at index 3 is not a class of this model (0 to 1)",
    );
    let gif = dir.path().join("walk");
    bad(
        &[
            "interpolate",
            "--checkpoint",
            ckpt,
            "--out",
            gif.to_str().unwrap(),
        ],
        2,
        "is a class-conditional model (2 classes); interpolate draws from latents alone",
    );
    bad(
        &[
            "export-onnx",
            "--checkpoint",
            ckpt,
            "--out",
            dir.path().join("g.onnx").to_str().unwrap(),
        ],
        2,
        "export-onnx draws from latents alone",
    );
}

#[test]
fn conditional_input_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    // A folder of images without class folders.
    let flat = dir.path().join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    for i in 0..8u8 {
        image::RgbImage::from_pixel(16, 16, image::Rgb([i * 30, 0, 0]))
            .save(flat.join(format!("{i}.png")))
            .unwrap();
    }
    let out = dir.path().join("run");
    let o = dcgan()
        .args(conditional(&flat, &out, "2"))
        .output()
        .unwrap();
    assert_clean_failure(&o, 2, "--conditional needs images with classes");
    assert!(!out.exists(), "a refused run wrote {}", out.display());

    // An unconditional run: --class, --labels and --per-class are refused.
    let data = image_folder(dir.path(), 16, 16);
    let plain = dir.path().join("plain");
    succeed(train_args(&data, &plain, "2", &["--checkpoint-every", "3"]));
    let p = plain.to_str().unwrap();
    let png = dir.path().join("g.png");
    let o = run(&[
        "sample",
        "--checkpoint",
        p,
        "--out",
        png.to_str().unwrap(),
        "--class",
        "0",
    ]);
    assert_clean_failure(
        &o,
        2,
        "invalid class 0: this model is not class-conditional",
    );
    let z = dir.path().join("z.npy");
    dcgan::io::npy::write(&z, &dcgan::io::HostTensor::new(vec![2, 16], vec![0.5; 32])).unwrap();
    let y = dir.path().join("y.npy");
    write_labels(&y, &[0, 1]);
    let o = run(&[
        "generate",
        "--checkpoint",
        p,
        "--latent",
        z.to_str().unwrap(),
        "--labels",
        y.to_str().unwrap(),
        "--out",
        dir.path().join("x.npy").to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        "y.npy: labels were given, but this model is not class-conditional",
    );
    let o = run(&[
        "fid",
        "--checkpoint",
        p,
        "--data",
        data.to_str().unwrap(),
        "--per-class",
        "--weights",
        "/nonexistent/weights.pt",
    ]);
    assert_clean_failure(&o, 2, "--per-class needs a class-conditional model");
    // --conditional cannot be added on resume.
    let o = run(&["train", "--resume", p, "--conditional"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // --per-class against data without the model's classes: refused before Inception runs
    // (the weights named here do not exist, and are not what the message is about).
    let cond = dir.path().join("cond");
    succeed(conditional(&data, &cond, "2"));
    let o = run(&[
        "fid",
        "--checkpoint",
        cond.to_str().unwrap(),
        "--data",
        flat.to_str().unwrap(),
        "--per-class",
        "--weights",
        "/nonexistent/weights.pt",
    ]);
    assert_clean_failure(&o, 2, "its classes (none) are not the model's (a, b)");
}

/// `fid --per-class` on a conditional G: each class's FID against that class's real images and
/// the classifier's accuracy, trained on the real images and tested on held-out ones.
#[test]
fn fid_per_class_scores_every_class() {
    let weights = fid_weights();
    if !weights.is_file() {
        return missing(
            "fid_per_class_scores_every_class",
            &format!("the FID weights at {}", weights.display()),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 24, 16);
    let out = dir.path().join("run");
    succeed(conditional(&data, &out, "3"));
    let cache = dir.path().join("cache");
    let o = succeed([
        "--cache-dir",
        cache.to_str().unwrap(),
        "fid",
        "--checkpoint",
        out.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--per-class",
        "--class-test",
        data.to_str().unwrap(),
        "--n",
        "8",
        "--metrics",
        "fid",
        "--weights",
        weights.to_str().unwrap(),
        "--json",
    ]);
    let r = json(&o);
    let pc = &r["per_class"];
    let classes = pc["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    for (k, c) in classes.iter().enumerate() {
        assert_eq!(c["class"], k);
        assert_eq!(c["name"], ["a", "b"][k]);
        assert_eq!(c["real"], 4);
        assert_eq!(c["generated"], 4);
        let fid = c["fid"].as_f64().unwrap();
        assert!(fid.is_finite() && fid > 0.0, "{c}");
        let acc = c["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{c}");
    }
    let mean = (classes[0]["fid"].as_f64().unwrap() + classes[1]["fid"].as_f64().unwrap()) / 2.0;
    assert!((pc["mean_fid"].as_f64().unwrap() - mean).abs() < 1e-9);
    let k = &pc["classifier"];
    assert_eq!(k["trained_on"], 8);
    // The held-out set is the training set here: the classifier separates what it was fit on.
    assert_eq!(k["test_images"], 8);
    assert_eq!(k["train_accuracy"], k["test_accuracy"]);
    assert!(
        k["kind"]
            .as_str()
            .unwrap()
            .starts_with("linear L2-SVM on standardised Inception pool features"),
        "{k}"
    );
    assert!(
        dcgan::eval::per_class::C_GRID.contains(&k["c"].as_f64().unwrap()),
        "{k}"
    );
}
