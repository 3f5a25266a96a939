//! `dcgan export-onnx`: the file holds the checkpoint's values under their names, onnx's checker
//! accepts it, and onnxruntime (PyPI) draws what `dcgan generate` draws from the same latents,
//! at every batch size, for both layouts and grey images.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use dcgan::io::{HostTensor, npy, onnx};

/// Latents of a fixed seed, written as `.npy` `(n, nz)`.
fn latents(path: &Path, n: usize, nz: usize) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let data = (0..n * nz)
        .map(|_| rng.random_range(-2.0f32..2.0))
        .collect();
    npy::write(path, &HostTensor::new(vec![n, nz], data)).unwrap();
}

/// Export at `opset`, generate, and run `scripts/check_onnx.py`: its JSON report, or `None`
/// when python3 with onnx and onnxruntime is missing (a skip, or a failure under CI).
fn export_and_check(
    dir: &Path,
    run_dir: &Path,
    opset: &str,
    nz: usize,
) -> Option<serde_json::Value> {
    let model = dir.join(format!("g-{opset}.onnx"));
    let o = run(&[
        "export-onnx",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--opset",
        opset,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["opset"], opset.parse::<i64>().unwrap());
    assert_eq!(report["written"], model.to_str().unwrap());
    assert_eq!(report["input"][1][0], "batch");
    assert_eq!(report["input"][1][1], nz.to_string());

    let z = dir.join("z.npy");
    latents(&z, 5, nz);
    let want = dir.join("want.npy");
    let o = run(&[
        "generate",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--latent",
        z.to_str().unwrap(),
        "--out",
        want.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let checked = Command::new("python3")
        .arg(repo().join("scripts/check_onnx.py"))
        .arg(&model)
        .arg("--latent")
        .arg(&z)
        .arg("--expect")
        .arg(&want)
        .output();
    let out = match checked {
        Ok(o) if o.status.success() || !o.stdout.is_empty() => o,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            if err.contains("ModuleNotFoundError") {
                missing(
                    "onnx_export",
                    "python3's onnx or onnxruntime (pip install onnx onnxruntime)",
                );
                return None;
            }
            panic!("check_onnx.py failed: {err}");
        }
        Err(_) => {
            missing("onnx_export", "python3");
            return None;
        }
    };
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("opset {opset}: {r}");
    assert_eq!(r["checker"], true, "onnx's checker: {r}");
    Some(r)
}

#[test]
fn onnxruntime_draws_what_generate_draws_from_the_same_latents() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let run_dir = dir.path().join("run");
    // Two steps, so the running statistics are the run's, not BatchNorm's initial ones.
    train_small(&data, &run_dir, &["--max-steps", "2"]);
    let Some(r) = export_and_check(dir.path(), &run_dir, "17", 16) else {
        return;
    };
    assert_eq!(r["opset"], serde_json::json!([17]));
    assert_eq!(r["ir_version"], 8);
    assert_eq!(r["input"], serde_json::json!(["z", ["batch", 16]]));
    assert_eq!(
        r["output"],
        serde_json::json!(["image", ["batch", 3, 16, 16]])
    );
    assert_eq!(r["shape"], serde_json::json!([5, 3, 16, 16]));
    // Kernel 4 at 16×16: the latent's reshape, then 3 transposed convolutions, BatchNorm and
    // ReLU after each but the last, and tanh.
    let ops: Vec<&str> = r["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "Reshape",
            "ConvTranspose",
            "BatchNormalization",
            "Relu",
            "ConvTranspose",
            "BatchNormalization",
            "Relu",
            "ConvTranspose",
            "Tanh"
        ]
    );
    assert_eq!(r["metadata"]["latent_dim"], "16");
    assert_eq!(r["metadata"]["step"], "2");
    // Measured 8.4e-9 at both batch sizes (float32 rounding in another order); the
    // requirement is 1e-5, the bound 10× the measurement.
    let (whole, single) = (
        r["max_abs_diff"].as_f64().unwrap(),
        r["max_abs_diff_batch_of_one"].as_f64().unwrap(),
    );
    assert!(whole < 1e-7 && single < 1e-7, "{whole} {single}");

    // The oldest and newest opsets the exporter writes load and agree too.
    for opset in ["9", "23"] {
        let r = export_and_check(dir.path(), &run_dir, opset, 16).unwrap();
        assert!(r["max_abs_diff"].as_f64().unwrap() < 1e-7, "{r}");
    }
}

#[test]
fn the_authors_layout_and_grey_images_export_too() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let run_dir = dir.path().join("run");
    // Kernel 5: a dense projection of z (MatMul, BatchNorm over its features, then a reshape).
    train_small(
        &data,
        &run_dir,
        &["--max-steps", "2", "--kernel-size", "5", "--channels", "1"],
    );
    let Some(r) = export_and_check(dir.path(), &run_dir, "17", 16) else {
        return;
    };
    assert_eq!(
        r["output"],
        serde_json::json!(["image", ["batch", 1, 16, 16]])
    );
    let ops: Vec<&str> = r["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        &ops[..4],
        ["MatMul", "BatchNormalization", "Relu", "Reshape"]
    );
    // Measured 1.6e-8.
    assert!(r["max_abs_diff"].as_f64().unwrap() < 2e-7, "{r}");
}

#[test]
fn the_file_holds_every_value_of_g_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = image_folder(dir.path(), 16, 16);
    let run_dir = dir.path().join("run");
    train_small(&data, &run_dir, &["--max-steps", "2"]);
    let model = dir.path().join("g.onnx");
    let o = run(&[
        "export-onnx",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("opset 17"), "{}", stdout(&o));
    let m = onnx::decode(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!((m.ir_version, m.opset_import[0].version), (8, 17));
    let g = m.graph.unwrap();
    // The checkpoint's G, as named tensors.
    let ckpt = dcgan::checkpoint::Checkpoint::load(&run_dir).unwrap();
    let net = ckpt.generator(&burn::tensor::Device::flex()).unwrap();
    let named = dcgan::io::named_tensors(&net);
    let by_name = |n: &str| {
        g.initializer
            .iter()
            .find(|t| t.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let floats = |t: &onnx::TensorProto| -> Vec<f32> {
        t.raw_data
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let mut compared = 0;
    for (ours, theirs) in [
        ("project_conv.weight", "project.conv.weight"),
        ("project_norm.gamma", "project.norm.gamma"),
        ("project_norm.beta", "project.norm.beta"),
        ("project_norm.running_mean", "project.norm.running_mean"),
        ("project_norm.running_var", "project.norm.running_var"),
        ("blocks.0.conv.weight", "blocks.0.conv.weight"),
        ("blocks.0.norm.running_var", "blocks.0.norm.running_var"),
        ("output.weight", "output.conv.weight"),
    ] {
        let t = &named[ours];
        let o = by_name(theirs);
        assert_eq!(
            o.dims,
            t.shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
            "{theirs}"
        );
        assert_eq!(floats(o), t.data, "{theirs}");
        compared += 1;
    }
    assert_eq!(compared, 8);
    // The running variance after two steps is the run's, not BatchNorm's initial ones.
    assert!(
        floats(by_name("project.norm.running_var"))
            .iter()
            .any(|&v| v != 1.0)
    );
}

#[test]
fn export_onnx_refuses_bad_input_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.onnx");
    let o = run(&[
        "export-onnx",
        "--checkpoint",
        "/nonexistent/run",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, 2, "/nonexistent/run");
    let data = image_folder(dir.path(), 16, 16);
    let run_dir = dir.path().join("run");
    train_small(&data, &run_dir, &["--max-steps", "1"]);
    for opset in ["8", "24", "-1"] {
        let o = run(&[
            "export-onnx",
            "--checkpoint",
            run_dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--opset",
            opset,
        ]);
        assert_clean_failure(
            &o,
            2,
            &format!("invalid opset {opset}: the exporter writes opsets 9 to 23"),
        );
    }
    assert!(!out.exists());
}

/// The golden PyTorch generator (64×64, nz 100, ngf 64: the paper's widths), imported and
/// exported: onnxruntime's images equal PyTorch's own output for the golden latents.
#[test]
fn the_pytorch_golden_generator_exported_draws_pytorchs_images() {
    let Some(shared) = shared_dir() else {
        return missing("onnx golden", "shared/golden (set DCGAN_SHARED)");
    };
    let golden = shared.join("golden/dcgan64-rgb");
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("imported.safetensors");
    let (g, model) = (golden.join("netG.safetensors"), dir.path().join("g.onnx"));
    let o = run(&[
        "import-torch",
        "--generator",
        g.to_str().unwrap(),
        "--out",
        ckpt.to_str().unwrap(),
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
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "export-onnx",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new("python3")
        .arg(repo().join("scripts/check_onnx.py"))
        .arg(&model)
        .arg("--latent")
        .arg(golden.join("z.npy"))
        .arg("--expect")
        .arg(golden.join("g_eval.npy"))
        .output();
    let Ok(o) = o.as_ref().map_err(|_| missing("onnx golden", "python3")) else {
        return;
    };
    if String::from_utf8_lossy(&o.stderr).contains("ModuleNotFoundError") {
        return missing("onnx golden", "python3's onnx or onnxruntime");
    }
    let r: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    eprintln!("golden: {r}");
    assert_eq!(r["checker"], true);
    assert_eq!(r["shape"], serde_json::json!([8, 3, 64, 64]));
    // Against PyTorch's eval-mode output (not ours): measured 2.3e-8.
    let diff = r["max_abs_diff"].as_f64().unwrap();
    assert!(diff < 2e-7, "max |onnxruntime - PyTorch| {diff}");
}
