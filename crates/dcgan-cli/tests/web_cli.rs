//! `dcgan export-web`: the site it writes, loaded in headless Chromium (`web/test/check-page.mjs`,
//! Debian's chromium through playwright-core), draws what `dcgan generate` draws; and its bad
//! input. The page test needs the web bundle (`bash scripts/build-web.sh`), Node with
//! `web/node_modules` (`npm ci --prefix web`) and chromium; `.ci/run` installs all three.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_clean_failure, browser_check, run, shared_dir, stderr, web_bundle};

/// The golden 64×64 G (pytorch/examples layout) imported as a checkpoint.
fn golden_checkpoint(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let golden = shared_dir()?.join("golden/dcgan64-rgb");
    let ckpt = dir.join("golden.safetensors");
    let o = run(&[
        "import-torch",
        "--generator",
        golden.join("netG.safetensors").to_str().unwrap(),
        "--out",
        ckpt.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    Some((ckpt, golden))
}

/// The page tests need the web bundle and playwright; without either, a counted skip (under
/// CI a failure) and false.
fn page_tools_present() -> bool {
    if !web_bundle().join("dcgan_web_bg.wasm").is_file() {
        common::missing(
            "web",
            "the web bundle (target/web; run `bash scripts/build-web.sh`)",
        );
        return false;
    }
    if !common::has_playwright() {
        common::missing("web", "web/node_modules (run `npm ci --prefix web`)");
        return false;
    }
    true
}

#[test]
fn the_exported_page_draws_what_dcgan_generate_draws() {
    if !page_tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some((ckpt, golden)) = golden_checkpoint(tmp.path()) else {
        return common::missing("web", "shared/golden");
    };
    let ckpt = ckpt.to_str().unwrap();
    let z = golden.join("z.npy");
    let want = tmp.path().join("g.npy");
    let o = run(&[
        "generate",
        "--checkpoint",
        ckpt,
        "--latent",
        z.to_str().unwrap(),
        "--out",
        want.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    for precision in ["f32", "f16"] {
        let site = tmp.path().join(format!("site-{precision}"));
        let o = run(&[
            "export-web",
            "--checkpoint",
            ckpt,
            "--out",
            site.to_str().unwrap(),
            "--precision",
            precision,
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for f in [
            "index.html",
            "app.js",
            "dcgan_web.js",
            "dcgan_web_bg.wasm",
            "model.json",
            "generator.safetensors",
        ] {
            assert!(site.join(f).is_file(), "{f} not written");
        }
        let (passed, r) = browser_check(
            precision,
            "check-page.mjs",
            &[site.as_os_str(), z.as_os_str(), want.as_os_str()],
        );
        let diff = r["max_abs_diff"].as_f64().unwrap();
        if precision == "f32" {
            assert!(passed, "{}", r["failed"]);
            // Measured in headless Chromium: 2.9e-8.
            assert!(diff <= 2e-7, "the page's G differs by {diff}");
        } else {
            // f16 weights: half the bytes; the page's pixels move, by what is printed.
            let f32_bytes = std::fs::metadata(tmp.path().join("site-f32/generator.safetensors"))
                .unwrap()
                .len();
            let bytes = report["weights_bytes"].as_u64().unwrap();
            assert!(bytes * 2 <= f32_bytes + 4096, "{bytes} vs {f32_bytes}");
            // Measured: 2.3e-5.
            assert!(diff > 0.0 && diff < 1e-4, "f16 weights: max |diff| {diff}");
            assert_eq!(r["console_errors"], serde_json::json!([]));
        }
        assert_eq!(
            r["info"],
            serde_json::json!({"nz": 100, "nc": 3, "size": 64, "step": 0, "classes": []})
        );
        assert_eq!(r["walk"]["frames"], 10);
    }
}

/// A class-conditional G (the in-repository PyTorch golden pair, 3 classes): the page shows a
/// class picker, and with class 2 picked it draws what `dcgan generate --labels` draws.
#[test]
fn the_exported_page_of_a_conditional_generator_draws_the_picked_class() {
    if !page_tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let golden =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dcgan/tests/golden/dcgan32-rgb");
    let ckpt = tmp.path().join("cond.safetensors");
    let o = run(&[
        "import-torch",
        "--generator",
        golden.join("cond_netG.safetensors").to_str().unwrap(),
        "--image-size",
        "32",
        "--nz",
        "16",
        "--ngf",
        "8",
        "--ndf",
        "8",
        "--classes",
        "a,b,c",
        "--out",
        ckpt.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let z = golden.join("z.npy");
    let (y0, y2) = (tmp.path().join("y0.npy"), tmp.path().join("y2.npy"));
    common::write_labels(&y0, &[0; 8]);
    common::write_labels(&y2, &[2; 8]);
    let mut want = Vec::new();
    for (labels, name) in [(&y0, "g0.npy"), (&y2, "g2.npy")] {
        let out = tmp.path().join(name);
        let o = run(&[
            "generate",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--latent",
            z.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        want.push(out);
    }
    let site = tmp.path().join("site");
    let o = run(&[
        "export-web",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--out",
        site.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (passed, r) = browser_check(
        "conditional",
        "check-page.mjs",
        &[
            site.as_os_str(),
            z.as_os_str(),
            want[0].as_os_str(),
            std::ffi::OsStr::new("2"),
            want[1].as_os_str(),
        ],
    );
    assert!(passed, "{}", r["failed"]);
    assert_eq!(r["info"]["classes"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(r["class_picker_shown"], true);
    assert!(r["class_max_abs_diff"].as_f64().unwrap() <= 2e-7, "{r}");
    assert!(
        r["status"]
            .as_str()
            .unwrap()
            .contains("class-conditional (3 classes)"),
        "{}",
        r["status"]
    );
}

#[test]
fn export_web_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    for f in dcgan::tasks::web::BUNDLE_FILES {
        std::fs::write(bundle.join(f), "stand-in").unwrap();
    }
    let not_ckpt = dir.join("notes.txt");
    std::fs::write(&not_ckpt, "hello").unwrap();
    let cfg = dcgan::config::ModelConfig {
        image_size: 16,
        generator_width: 8,
        discriminator_width: 8,
        latent_dim: 8,
        ..Default::default()
    };
    let ckpt = dir.join("c.safetensors");
    let g = dcgan::model::Generator::new(&cfg, 1, &dcgan::device::Device::flex());
    let config = dcgan::config::RunConfig::with_model(cfg);
    std::fs::write(
        &ckpt,
        dcgan::checkpoint::encode(&config, &Default::default(), &g, None, None),
    )
    .unwrap();
    let occupied = dir.join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("keep.txt"), "mine").unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let export = |ckpt: &str, out: &str, bundle: &str, extra: &[&str]| {
        let mut a = vec![
            "export-web",
            "--checkpoint",
            ckpt,
            "--out",
            out,
            "--bundle",
            bundle,
        ];
        a.extend(extra);
        run(&a)
    };
    let site = s(&dir.join("site"));
    assert_clean_failure(
        &export(&s(&not_ckpt), &site, &s(&bundle), &[]),
        2,
        "notes.txt",
    );
    assert_clean_failure(
        &export(&s(&ckpt), &site, &s(&dir.join("nowhere")), &[]),
        2,
        "the web bundle is not built (no index.html): run `bash scripts/build-web.sh` first",
    );
    assert_clean_failure(
        &export(&s(&ckpt), &s(&occupied), &s(&bundle), &[]),
        2,
        "exists and is not empty (choose another --out, or --force to write into it)",
    );
    assert!(!dir.join("site").exists());
    // --force writes the site's files and leaves the folder's others alone.
    let o = export(&s(&ckpt), &s(&occupied), &s(&bundle), &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(occupied.join("keep.txt")).unwrap(),
        "mine"
    );
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(occupied.join("model.json")).unwrap()).unwrap();
    assert_eq!(model["image_size"], 16);
    assert_eq!(model["latent_dim"], 8);
    assert_eq!(model["format"], "dcgan-web 1");
}
