//! Bad input: one clear message naming the file or value, a non-zero exit code, no panic trace,
//! and nothing already written is lost.

mod common;

use common::*;

fn train_args<'a>(data: &'a str, out: &'a str) -> Vec<&'a str> {
    let mut a = vec!["train", "--data", data, "--out", out];
    a.extend(small_model());
    a
}

#[test]
fn missing_data_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&train_args("/no/such/folder", out.to_str().unwrap()));
    assert_clean_failure(&o, 2, "/no/such/folder: no such file or folder");
    assert!(
        !out.exists(),
        "a failed start must not leave a run directory"
    );
}

#[test]
fn empty_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not an image").unwrap();
    let o = run(&train_args(
        empty.to_str().unwrap(),
        dir.path().join("run").to_str().unwrap(),
    ));
    assert_clean_failure(&o, 2, &format!("{}: no images found", empty.display()));
}

#[test]
fn image_size_that_is_not_four_times_a_power_of_two() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 8, 16);
    let out = dir.path().join("run");
    let o = run(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--image-size",
        "48",
    ]);
    assert_clean_failure(&o, 2, "invalid image size 48: must be 4·2^k");
}

#[test]
fn corrupt_and_truncated_images_are_skipped_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    // 38 images and 2 bad files: 5 full batches of 8, so every file is read in the epoch.
    let data = image_folder(dir.path(), 38, 16);
    // One file of garbage and one PNG cut in half.
    std::fs::write(data.join("a/garbage.png"), b"this is not a png").unwrap();
    let png = std::fs::read(data.join("a/0000.png")).unwrap();
    std::fs::write(data.join("b/truncated.png"), &png[..png.len() / 2]).unwrap();
    let out = dir.path().join("run");
    let mut args = train_args(data.to_str().unwrap(), out.to_str().unwrap());
    args.extend(["--epochs", "1", "--max-bad-fraction", "0.1"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("skipped 2 unreadable images"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("garbage.png") && err.contains("truncated.png"),
        "{err}"
    );
}

#[test]
fn too_many_unreadable_images_stop_the_run_naming_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 8, 16);
    for i in 0..8 {
        std::fs::write(data.join(format!("a/bad{i}.jpg")), b"\xff\xd8\xff garbage").unwrap();
    }
    let out = dir.path().join("run");
    let o = run(&train_args(data.to_str().unwrap(), out.to_str().unwrap()));
    assert_clean_failure(
        &o,
        2,
        "unreadable images in this epoch, more than the allowed 0 (1.0 % of 16; first: ",
    );
    assert!(stderr(&o).contains("/a/bad"), "{}", stderr(&o));
    assert!(stderr(&o).contains("raise --max-bad-fraction"));
}

#[test]
fn a_diverging_run_stops_and_keeps_its_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 40, 16);
    let out = dir.path().join("run");
    train_small(&data, &out, &["--max-steps", "2"]);
    let ckpt = out.join("checkpoints/step-00000002.safetensors");
    let good = std::fs::read(&ckpt).unwrap();
    // A learning rate of 1e30 sends the weights to ±1e30 in one Adam step; the losses overflow.
    let cfg_path = out.join("config.json");
    let cfg = std::fs::read_to_string(&cfg_path)
        .unwrap()
        .replace("\"learning_rate\": 0.0002", "\"learning_rate\": 1e30");
    std::fs::write(&cfg_path, cfg).unwrap();
    let o = run(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--max-steps",
        "20",
    ]);
    assert_clean_failure(&o, 1, "training diverged at step 3: loss_");
    assert!(
        stderr(&o).contains(&format!("the last good checkpoint is {}", ckpt.display())),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&ckpt).unwrap(),
        good,
        "the good checkpoint changed"
    );
    assert_eq!(
        std::fs::read_dir(out.join("checkpoints")).unwrap().count(),
        1
    );
    // The checkpoint it names loads and samples.
    let grid = dir.path().join("grid.png");
    let s = run(&[
        "sample",
        "--checkpoint",
        out.to_str().unwrap(),
        "--n",
        "4",
        "--out",
        grid.to_str().unwrap(),
    ]);
    assert!(s.status.success(), "{}", stderr(&s));
}

#[test]
fn resume_with_a_checkpoint_of_another_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let out = dir.path().join("run");
    train_small(&data, &out, &["--max-steps", "1"]);
    let cfg_path = out.join("config.json");
    let cfg = std::fs::read_to_string(&cfg_path)
        .unwrap()
        .replace("\"image_size\": 16", "\"image_size\": 32");
    std::fs::write(&cfg_path, cfg).unwrap();
    let o = run(&["train", "--resume", out.to_str().unwrap()]);
    assert_clean_failure(&o, 2, "step-00000001.safetensors: does not match the model");
}

#[test]
fn a_checkpoint_file_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("weights.safetensors");
    std::fs::write(&fake, b"\x05\x00\x00\x00\x00\x00\x00\x00{}").unwrap();
    let o = run(&[
        "sample",
        "--checkpoint",
        fake.to_str().unwrap(),
        "--out",
        dir.path().join("g.png").to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        &format!("{}: not a readable safetensors file", fake.display()),
    );
    let o = run(&[
        "sample",
        "--checkpoint",
        dir.path().join("missing").to_str().unwrap(),
        "--out",
        "x.png",
    ]);
    assert_clean_failure(&o, 2, "missing: ");
}

#[test]
fn model_flags_with_resume_are_refused_not_ignored() {
    let o = run(&["train", "--resume", "/tmp/some-run", "--image-size", "32"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("'--resume <RUN_DIR>' cannot be used with '--image-size <IMAGE_SIZE>'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn latents_of_the_wrong_shape() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let out = dir.path().join("run");
    train_small(&data, &out, &["--max-steps", "1"]);
    // The model's latent size is 16; write (3, 100).
    let z = dir.path().join("z.npy");
    dcgan::io::npy::write(
        &z,
        &dcgan::io::HostTensor::new(vec![3, 100], vec![0.5; 300]),
    )
    .unwrap();
    let o = run(&[
        "generate",
        "--checkpoint",
        out.to_str().unwrap(),
        "--latent",
        z.to_str().unwrap(),
        "--out",
        dir.path().join("o.npy").to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        &format!(
            "{}: latents have shape [3, 100]; the generator needs (N, 16)",
            z.display()
        ),
    );
}

/// The §6 commands: indices off the sheet, a malformed boxes file, an unknown concept.
#[test]
fn exploration_commands_name_the_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let out = dir.path().join("run");
    train_small(&data, &out, &["--max-steps", "1"]);
    let sheet = dir.path().join("sheet.npy");
    let o = run(&[
        "sample",
        "--checkpoint",
        out.to_str().unwrap(),
        "--n",
        "6",
        "--out",
        dir.path().join("s.png").to_str().unwrap(),
        "--save-latents",
        sheet.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (ck, sh, ex) = (
        out.to_str().unwrap(),
        sheet.to_str().unwrap(),
        dir.path().join("ex"),
    );
    let o = run(&[
        "interpolate",
        "--checkpoint",
        ck,
        "--out",
        ex.to_str().unwrap(),
        "--latents",
        sh,
        "--indices",
        "1,9",
    ]);
    assert_clean_failure(
        &o,
        2,
        "invalid index 9: is out of range: the sheet holds 6 latents (0..5)",
    );
    let o = run(&[
        "arithmetic",
        "--checkpoint",
        ck,
        "--out",
        ex.to_str().unwrap(),
        "--latents",
        sh,
        "--concept",
        "A=0,1",
        "--expr",
        "A - B",
    ]);
    assert_clean_failure(&o, 2, "invalid expression B: names no concept");
    let boxes = dir.path().join("boxes.json");
    std::fs::write(&boxes, r#"[{"sample": 2, "box": [4, 4, 40, 8]}]"#).unwrap();
    let o = run(&[
        "forget",
        "--checkpoint",
        ck,
        "--latents",
        sh,
        "--boxes",
        boxes.to_str().unwrap(),
        "--out",
        ex.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        &format!(
            "{}: box 0: [4, 4, 40, 8] is not a rectangle inside the 16×16 image",
            boxes.display()
        ),
    );
    std::fs::write(&boxes, "{not json").unwrap();
    let o = run(&[
        "forget",
        "--checkpoint",
        ck,
        "--latents",
        sh,
        "--boxes",
        boxes.to_str().unwrap(),
        "--out",
        ex.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        2,
        "expected [{\"sample\": N, \"box\": [x0, y0, x1, y1]}, ...]",
    );
}
