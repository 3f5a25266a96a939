//! What each fuzz target does with its input: one function per parser of outside bytes. The
//! fuzz targets call these, and `crates/dcgan-cli/tests/fuzz_regressions.rs` runs every kept crash
//! input and every seed through the same functions. The readers take paths (as the tool does),
//! so an input goes through the same code a user's file would: it is written to a scratch
//! folder first (in memory where the machine has /dev/shm).
#![allow(dead_code)]

use std::path::PathBuf;

/// A fresh folder per process, under /dev/shm when it exists.
pub fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("dcgan-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `bytes` to `name` in this process's scratch folder and return its path.
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    thread_local! {
        static DIR: PathBuf = scratch();
    }
    DIR.with(|d| {
        let p = d.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    })
}

/// Read every item of an opened data set (at most `limit`), as training would.
pub fn read_items(ds: &dyn dcgan::data::Dataset, limit: usize) {
    let t = dcgan::data::Transform {
        size: 16,
        channels: 3,
    };
    for i in 0..ds.len().min(limit) {
        if let Ok(img) = ds.get(i) {
            let _ = t.apply(&img);
        }
        let _ = ds.label(i);
        let _ = ds.name(i);
    }
    let _ = ds.classes();
    let _ = ds.describe();
}

/// MNIST-style IDX files (images, and labels beside them), plain or gzip.
pub fn idx(data: &[u8]) {
    // The first byte chooses: images only, or images with a labels file from the same bytes.
    let (choice, rest) = data.split_first().unwrap_or((&0, &[]));
    let mid = rest.len() / 2;
    let (images, labels) = if choice & 1 == 1 {
        rest.split_at(mid)
    } else {
        (rest, &[][..])
    };
    let dir = file("idx/train-images-idx3-ubyte", images);
    let labels_path = dir.with_file_name("train-labels-idx1-ubyte");
    if choice & 1 == 1 {
        std::fs::write(&labels_path, labels).unwrap();
    } else {
        let _ = std::fs::remove_file(&labels_path);
    }
    if let Ok(ds) = dcgan::data::open(dir.to_str().unwrap(), Default::default()) {
        read_items(&*ds, 64);
    }
}

/// CIFAR-10 binary batches.
pub fn cifar(data: &[u8]) {
    let p = file("cifar/data_batch_1.bin", data);
    if let Ok(ds) = dcgan::data::open(p.parent().unwrap().to_str().unwrap(), Default::default()) {
        read_items(&*ds, 64);
    }
}

/// SVHN's MATLAB files (`train_32x32.mat`).
pub fn svhn_mat(data: &[u8]) {
    // The reader takes a panic inside the matfile crate (its unchecked dimension product) as the
    // file's error; libFuzzer's hook would abort on it before the reader catches it, so that
    // hook is left out for panics located in matfile, and kept for every other.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_matfile = std::backtrace::Backtrace::force_capture()
                .to_string()
                .contains("matfile");
            if !in_matfile {
                fuzzer_hook(info);
            }
        }));
    });
    let p = file("svhn/train_32x32.mat", data);
    if let Ok(ds) = dcgan::data::open(p.to_str().unwrap(), Default::default()) {
        read_items(&*ds, 64);
    }
}

/// LSUN's LMDB environments (`data.mdb`).
pub fn lmdb(data: &[u8]) {
    let p = file("lmdb/data.mdb", data);
    let _ = std::fs::remove_file(p.with_file_name("lock.mdb"));
    if let Ok(ds) = dcgan::data::open(p.parent().unwrap().to_str().unwrap(), Default::default()) {
        read_items(&*ds, 64);
    }
}

/// `.npy` arrays: latents for `generate`, the §6 tools' sheets.
pub fn npy(data: &[u8]) {
    let p = file("x.npy", data);
    let _ = dcgan::io::npy::read(&p);
    let _ = dcgan::io::npy::read_latents(&p, 16);
}

/// FID statistics (`.npz` with mu and sigma), as `dcgan fid` reads them, and the distance on them.
pub fn npz_stats(data: &[u8]) {
    let p = file("stats.npz", data);
    if let Ok(s) = dcgan::eval::fid::Stats::load_npz(&p)
        && s.dim <= 64
    {
        let _ = dcgan::eval::fid::frechet_distance(&s, &s);
    }
}

/// safetensors files: this project's checkpoints and PyTorch state dicts (import-torch).
pub fn safetensors(data: &[u8]) {
    let p = file("x.safetensors", data);
    if let Ok(c) = dcgan::io::safetensors_file::read(&p) {
        // A 16×16 network: two stride-2 layers.
        let model = dcgan::config::ModelConfig {
            image_size: 16,
            ..Default::default()
        };
        for net in [
            dcgan::io::torch::Net::Generator,
            dcgan::io::torch::Net::Discriminator,
        ] {
            let _ = dcgan::io::torch::from_torch(net, &model, &c.tensors, &p);
        }
    }
    if let Ok(ckpt) = dcgan::checkpoint::Checkpoint::load(&p) {
        // A checkpoint whose header parses: its networks are rebuilt from it, as `sample` does.
        let m = ckpt.model();
        if m.weight_count() < 1e6 {
            let device = dcgan::device::Device::flex();
            let _ = ckpt.generator(&device);
            let _ = ckpt.discriminator(&device);
        }
    }
}

/// The TorchScript zip and its pickle, behind the FID Inception weights.
pub fn torchscript(data: &[u8]) {
    let p = file("weights.pt", data);
    let _ = dcgan::io::torchscript::Archive::is_torchscript(&p);
    if let Ok(mut a) = dcgan::io::torchscript::Archive::open(&p) {
        for t in a.tensors.clone().iter().take(8) {
            let _ = a.read_f32(t);
        }
    }
}

/// A run's `config.json`.
pub fn config_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(c) =
            dcgan::config::RunConfig::from_json(text, std::path::Path::new("config.json"))
    {
        // Valid configs serialise back and build nothing absurd.
        let again = dcgan::config::RunConfig::from_json(&c.to_json(), std::path::Path::new("x"));
        assert!(again.is_ok());
    }
}

/// The de-duplication report that `train --exclude` reads.
pub fn dedup_report(data: &[u8]) {
    thread_local! {
        static IMAGES: std::path::PathBuf = {
            // A folder of 8 tiny images for the report to refer to.
            let dir = scratch().join("images");
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..8u8 {
                image::GrayImage::from_pixel(2, 2, image::Luma([i]))
                    .save(dir.join(format!("{i}.png")))
                    .unwrap();
            }
            dir
        };
    }
    let report = file("report.json", data);
    IMAGES.with(|images| {
        let config = dcgan::config::DataConfig {
            source: images.to_string_lossy().into_owned(),
            exclude: Some(report.to_string_lossy().into_owned()),
            ..Default::default()
        };
        if let Ok(ds) = dcgan::data::open_config(&config) {
            read_items(&*ds, 16);
        }
    });
}

/// Image decoding with the size limits every reader uses (PNG, JPEG by libjpeg-turbo, BMP,
/// PNM, WebP, GIF), then the model's transform.
pub fn image(data: &[u8]) {
    let reader = image::ImageReader::new(std::io::Cursor::new(data));
    if let Ok(img) = dcgan::data::dataset::decode_limited(reader, "input".into()) {
        for channels in [1, 3] {
            let t = dcgan::data::Transform { size: 16, channels };
            let _ = t.apply(&img);
        }
    }
}

/// The boxes file of `dcgan forget`.
pub fn boxes_json(data: &[u8]) {
    let p = file("boxes.json", data);
    let _ = dcgan::explore::forget::read_boxes(&p, 16, 64);
}

/// `dcgan serve`'s answers to any request target: never a byte of a file outside the runs (a
/// marker file beside the run, reachable through `..`, a symlink or an absolute path), never a
/// panic.
pub fn serve_request(data: &[u8]) {
    thread_local! {
        static SITE: dcgan_serve::Site = {
            let root = scratch().join("serve");
            let run = root.join("run");
            std::fs::create_dir_all(run.join("samples")).unwrap();
            std::fs::create_dir_all(run.join("checkpoints")).unwrap();
            std::fs::write(run.join("log.jsonl"), "{\"step\":1}\n").unwrap();
            std::fs::write(run.join("samples/step-00000001.png"), "grid").unwrap();
            std::fs::write(root.join("outside.txt"), "OUTSIDE-THE-RUN").unwrap();
            let _ = std::os::unix::fs::symlink(root.join("outside.txt"), run.join("link.txt"));
            let _ = std::os::unix::fs::symlink(&root, run.join("up"));
            dcgan_serve::Site::open(&[run], None).unwrap()
        };
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the target; a second, when present, the Host header.
    let (target, host) = text.split_once('\n').unwrap_or((text, "localhost"));
    SITE.with(|site| {
        let reply = site.respond("GET", target, Some(host));
        let body = String::from_utf8_lossy(&reply.body);
        assert!(
            !body.contains("OUTSIDE-THE-RUN"),
            "{target:?} read outside the run"
        );
    });
}
