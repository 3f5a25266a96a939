//! Data sources and the loader, on small files the tests write in each format.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use dcgan::data::{self, Dataset, Loader, Transform};

fn write_idx_images(path: &Path, images: &[[u8; 4]], gz: bool) {
    let mut bytes = vec![0, 0, 8, 3];
    for d in [images.len() as u32, 2, 2] {
        bytes.extend(d.to_be_bytes());
    }
    for im in images {
        bytes.extend(im);
    }
    write_maybe_gz(path, &bytes, gz);
}

fn write_idx_labels(path: &Path, labels: &[u8], gz: bool) {
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend((labels.len() as u32).to_be_bytes());
    bytes.extend(labels);
    write_maybe_gz(path, &bytes, gz);
}

fn write_maybe_gz(path: &Path, bytes: &[u8], gz: bool) {
    if gz {
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        e.write_all(bytes).unwrap();
        e.finish().unwrap();
    } else {
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn idx_files_plain_and_gzip_with_labels() {
    for gz in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let ext = if gz { ".gz" } else { "" };
        let img = dir.path().join(format!("train-images-idx3-ubyte{ext}"));
        write_idx_images(
            &img,
            &[[0, 255, 255, 0], [10, 20, 30, 40], [1, 2, 3, 4]],
            gz,
        );
        write_idx_labels(
            &dir.path().join(format!("train-labels-idx1-ubyte{ext}")),
            &[7, 1, 3],
            gz,
        );
        // By folder and by file.
        for spec in [dir.path().to_str().unwrap(), img.to_str().unwrap()] {
            let ds = data::open(spec, Default::default()).unwrap();
            assert_eq!(ds.len(), 3);
            assert_eq!(
                (ds.label(0), ds.label(1), ds.label(2)),
                (Some(7), Some(1), Some(3))
            );
            assert_eq!(ds.classes().len(), 8);
            let px = Transform {
                size: 2,
                channels: 1,
            }
            .apply(&ds.get(0).unwrap());
            assert_eq!(px, vec![-1.0, 1.0, 1.0, -1.0]);
            assert_eq!(data::natural_channels(&*ds), 1);
        }
    }
}

#[test]
fn truncated_idx_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("t10k-images-idx3-ubyte");
    write_idx_images(&img, &[[1, 2, 3, 4], [5, 6, 7, 8]], false);
    let bytes = std::fs::read(&img).unwrap();
    std::fs::write(&img, &bytes[..bytes.len() - 3]).unwrap();
    let err = data::open(img.to_str().unwrap(), Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "{}: IDX data is 5 bytes, the header promises 8",
            img.display()
        )),
        "{err}"
    );
    std::fs::write(&img, b"PK\x03\x04 a zip").unwrap();
    let err = data::open(img.to_str().unwrap(), Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not an IDX file"), "{err}");
}

#[test]
fn cifar_binary_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut batch = Vec::new();
    for label in [3u8, 9] {
        batch.push(label);
        batch.extend(std::iter::repeat_n(200u8, 1024)); // R
        batch.extend(std::iter::repeat_n(100u8, 1024)); // G
        batch.extend(std::iter::repeat_n(label, 1024)); // B
    }
    std::fs::write(dir.path().join("data_batch_1.bin"), &batch).unwrap();
    std::fs::write(dir.path().join("data_batch_2.bin"), &batch[..3073]).unwrap();
    let ds = data::open(dir.path().to_str().unwrap(), Default::default()).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.label(1), Some(9));
    assert_eq!(ds.classes()[3], "cat");
    let img = ds.get(1).unwrap().to_rgb8();
    assert_eq!(img.get_pixel(5, 7).0, [200, 100, 9]);
    // A torn batch file is refused.
    std::fs::write(dir.path().join("data_batch_2.bin"), &batch[..3000]).unwrap();
    let err = data::open(dir.path().to_str().unwrap(), Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(
            "data_batch_2.bin: 3000 bytes is not a whole number of 3073-byte CIFAR-10 records"
        ),
        "{err}"
    );
}

/// CIFAR-10's test batch opens as a file, and as the folder holding it when no training batch
/// is there; a label outside the ten classes (a CIFAR-100 file) is refused, naming the record.
#[test]
fn cifar_test_batch_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut batch = Vec::new();
    for (i, label) in [7u8, 0, 4].into_iter().enumerate() {
        batch.push(label);
        for plane in 0..3u8 {
            batch.extend((0..1024).map(|p| (p as u8).wrapping_add(plane * 50 + i as u8)));
        }
    }
    let test = dir.path().join("test_batch.bin");
    std::fs::write(&test, &batch).unwrap();
    for spec in [&test, dir.path()] {
        let ds = data::open(spec.to_str().unwrap(), Default::default()).unwrap();
        assert_eq!(ds.len(), 3, "{}", spec.display());
        assert_eq!(
            (0..3).map(|i| ds.label(i)).collect::<Vec<_>>(),
            [Some(7), Some(0), Some(4)]
        );
        assert!(
            ds.describe()
                .contains("3 images, 32×32 RGB, CIFAR-10 binary")
        );
        // Pixel (x 5, y 7) of image 2 is plane byte 7·32 + 5 = 229, plus the plane's offset.
        let img = ds.get(2).unwrap().to_rgb8();
        assert_eq!(img.get_pixel(5, 7).0, [231, 25, 75]);
    }
    // With training batches beside it, the folder is the training set.
    std::fs::write(dir.path().join("data_batch_1.bin"), &batch[..3073]).unwrap();
    assert_eq!(
        data::open(dir.path().to_str().unwrap(), Default::default())
            .unwrap()
            .len(),
        1
    );
    batch[2 * 3073] = 42;
    std::fs::write(&test, &batch).unwrap();
    let err = data::open(test.to_str().unwrap(), Default::default())
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: record 2 has label 42; CIFAR-10 labels are 0 to 9 (a CIFAR-100 file?)",
            test.display()
        )
    );
}

#[test]
fn image_folder_is_recursive_and_labels_by_first_level_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("dogs/puppies")).unwrap();
    std::fs::create_dir_all(root.join("cats")).unwrap();
    let save = |p: &str, grey: bool| {
        if grey {
            image::GrayImage::from_pixel(6, 4, image::Luma([9]))
                .save(root.join(p))
                .unwrap();
        } else {
            image::RgbImage::from_pixel(6, 4, image::Rgb([1, 2, 3]))
                .save(root.join(p))
                .unwrap();
        }
    };
    save("cats/a.png", false);
    save("dogs/b.bmp", false);
    save("dogs/puppies/c.PNG", true);
    std::fs::write(root.join("readme.txt"), "x").unwrap();
    let ds = data::open(root.to_str().unwrap(), Default::default()).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.classes(), vec!["cats".to_string(), "dogs".to_string()]);
    let labels: Vec<_> = (0..3).map(|i| ds.label(i)).collect();
    assert_eq!(labels, vec![Some(0), Some(1), Some(1)]);
    // grey → RGB and RGB → grey, resized from 6×4 to 4×4 (shorter side), centre-cropped.
    let g = Transform {
        size: 4,
        channels: 3,
    }
    .apply(&ds.get(2).unwrap());
    assert_eq!(g.len(), 48);
    assert!(g.iter().all(|&v| (v - (9.0 / 127.5 - 1.0)).abs() < 1e-6));
}

#[test]
fn loader_yields_the_epoch_in_order_and_skips_bad_items() {
    let dir = tempfile::tempdir().unwrap();
    // Image i is uniformly grey with value i, so each batch's content tells which items it holds.
    for i in 0..20u8 {
        image::GrayImage::from_pixel(4, 4, image::Luma([i]))
            .save(dir.path().join(format!("{i:02}.png")))
            .unwrap();
    }
    std::fs::write(dir.path().join("07.png"), b"broken").unwrap();
    let ds: Arc<dyn Dataset> =
        Arc::from(data::open(dir.path().to_str().unwrap(), Default::default()).unwrap());
    let order = dcgan::rng::permutation(11, 0, 20);
    let t = Transform {
        size: 4,
        channels: 1,
    };
    let loader = Loader::start(ds.clone(), order.clone(), 6, 1, t, 2, 2).unwrap();
    assert_eq!(loader.batches, 3); // 20 / 6, the incomplete last batch dropped
    let batches: Vec<_> = loader.collect::<dcgan::Result<_>>().unwrap();
    assert_eq!(
        batches.iter().map(|b| b.index).collect::<Vec<_>>(),
        vec![1, 2]
    );
    for b in &batches {
        let items = &order[b.index * 6..(b.index + 1) * 6];
        let expected: Vec<f32> = items
            .iter()
            .filter(|&&i| i != 7)
            .map(|&i| i as f32 / 127.5 - 1.0)
            .collect();
        let got: Vec<f32> = b.images.chunks(16).map(|c| c[0]).collect();
        assert_eq!(got, expected);
        assert_eq!(b.count + b.bad.len(), 6);
        if items.contains(&7) {
            assert!(b.bad[0].to_string().contains("07.png"));
        }
    }
}

// ---- SVHN .mat (MATLAB v5), written here byte by byte as MATLAB lays it out ----

/// One data element: tag (type, byte count), data, padding to 8 bytes.
fn mat_element(data_type: u32, bytes: &[u8], pad: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(data_type.to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out.extend(bytes);
    if pad {
        while out.len() % 8 != 0 {
            out.push(0);
        }
    }
    out
}

/// A numeric matrix variable (miMATRIX): flags, dimensions, name, real part.
fn mat_matrix(name: &str, class: u32, dims: &[i32], data_type: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(mat_element(
        6,
        &[class.to_le_bytes(), 0u32.to_le_bytes()].concat(),
        true,
    ));
    let d: Vec<u8> = dims.iter().flat_map(|v| v.to_le_bytes()).collect();
    body.extend(mat_element(5, &d, true));
    body.extend(mat_element(1, name.as_bytes(), true));
    body.extend(mat_element(data_type, data, true));
    mat_element(14, &body, true)
}

fn write_mat(path: &Path, vars: &[Vec<u8>], compressed: bool) {
    let mut out = format!("MATLAB 5.0 MAT-file, written by the dcgan tests{:>70}", "").into_bytes();
    out.truncate(116);
    out.extend([0u8; 8]);
    out.extend(0x0100u16.to_le_bytes());
    out.extend(b"IM");
    for v in vars {
        if compressed {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(v).unwrap();
            out.extend(mat_element(15, &z.finish().unwrap(), false));
        } else {
            out.extend(v);
        }
    }
    std::fs::write(path, out).unwrap();
}

/// Pixel value of image n, channel k, row r, column c in the test files.
fn svhn_pixel(n: usize, k: usize, r: usize, c: usize) -> u8 {
    ((r + 2 * c + 50 * k + 7 * n) % 256) as u8
}

fn svhn_x(count: usize) -> Vec<u8> {
    // Column-major 32×32×3×N: the row index varies fastest.
    let mut x = vec![0u8; 32 * 32 * 3 * count];
    for n in 0..count {
        for k in 0..3 {
            for c in 0..32 {
                for r in 0..32 {
                    x[r + 32 * c + 1024 * k + 3072 * n] = svhn_pixel(n, k, r, c);
                }
            }
        }
    }
    x
}

#[test]
fn svhn_mat_files_read_with_column_major_pixels_and_label_10_as_digit_0() {
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<u8> = [10.0f64, 1.0, 5.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    for compressed in [false, true] {
        let path = dir.path().join(format!("train_32x32_{compressed}.mat"));
        write_mat(
            &path,
            &[
                mat_matrix("X", 9, &[32, 32, 3, 3], 2, &svhn_x(3)),
                mat_matrix("y", 6, &[3, 1], 9, &labels),
            ],
            compressed,
        );
        let ds = data::open(path.to_str().unwrap(), Default::default()).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.classes().len(), 10);
        assert_eq!(
            (0..3).map(|i| ds.label(i)).collect::<Vec<_>>(),
            vec![Some(0), Some(1), Some(5)]
        );
        for n in 0..3 {
            let img = ds.get(n).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (32, 32));
            for (r, c) in [(0, 0), (3, 17), (31, 5), (31, 31)] {
                let px = img.get_pixel(c as u32, r as u32).0;
                let want = [0, 1, 2].map(|k| svhn_pixel(n, k, r, c));
                assert_eq!(
                    px, want,
                    "compressed {compressed}, image {n}, row {r}, column {c}"
                );
            }
        }
    }
}

#[test]
fn svhn_mat_files_with_wrong_contents_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let one = [1.0f64]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>();
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        (
            "no_x.mat",
            vec![mat_matrix("y", 6, &[1, 1], 9, &one)],
            "no variable X",
        ),
        (
            "grey.mat",
            vec![mat_matrix("X", 9, &[32, 32, 1, 1], 2, &[0u8; 1024])],
            "X has size [32, 32, 1, 1]",
        ),
        (
            "label11.mat",
            vec![
                mat_matrix("X", 9, &[32, 32, 3, 1], 2, &svhn_x(1)),
                mat_matrix("y", 6, &[1, 1], 9, &11.0f64.to_le_bytes()),
            ],
            "label 11 of image 0 is not one of SVHN's 1–10",
        ),
        (
            "count.mat",
            vec![
                mat_matrix("X", 9, &[32, 32, 3, 1], 2, &svhn_x(1)),
                mat_matrix("y", 6, &[2, 1], 9, &[one.clone(), one.clone()].concat()),
            ],
            "2 labels in y for 1 images in X",
        ),
    ];
    for (name, vars, want) in cases {
        let path = dir.path().join(name);
        write_mat(&path, &vars, false);
        let err = data::open(path.to_str().unwrap(), Default::default())
            .err()
            .expect(name)
            .to_string();
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
    let garbage = dir.path().join("garbage.mat");
    std::fs::write(&garbage, b"not a mat file at all").unwrap();
    let err = data::open(garbage.to_str().unwrap(), Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("garbage.mat: not a MATLAB v5 .mat file"),
        "{err}"
    );
}

/// A data set whose reader panics on one item (a bug in a decoder, say).
struct PanicsOn(usize);

impl Dataset for PanicsOn {
    fn len(&self) -> usize {
        40
    }
    fn get(&self, i: usize) -> Result<image::DynamicImage, data::ItemError> {
        if i == self.0 {
            panic!("decoder bug on item {i}");
        }
        Ok(image::DynamicImage::ImageLuma8(image::GrayImage::new(4, 4)))
    }
    fn label(&self, _: usize) -> Option<usize> {
        None
    }
    fn classes(&self) -> Vec<String> {
        vec![]
    }
    fn describe(&self) -> String {
        "a reader with a bug".into()
    }
}

#[test]
fn a_reader_that_panics_ends_the_pass_with_an_error_not_a_short_epoch() {
    // Once, a worker's panic closed the channel and the epoch simply looked finished: training
    // would start the same epoch again and again.
    let t = Transform {
        size: 4,
        channels: 1,
    };
    let ds: Arc<dyn Dataset> = Arc::new(PanicsOn(25));
    let order: Vec<usize> = (0..40).collect();
    let got: Vec<_> = Loader::start(ds, order, 10, 0, t, 2, 2).unwrap().collect();
    assert_eq!(
        got.len(),
        3,
        "two good batches, then the error, then nothing"
    );
    assert!(got[0].is_ok() && got[1].is_ok());
    let err = got[2].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("a reader with a bug: reading batch 2 failed: decoder bug on item 25"),
        "{err}"
    );
}

/// Emoji-like images with transparency, whose transparent pixels hold colours: RGBA glyphs (a
/// dark-blue disc) over orange, brown or grey hidden under alpha 0, and grey + alpha ones (a
/// grey-60 disc over hidden grey-200). Returns the folder.
fn transparent_folder(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("glyphs");
    std::fs::create_dir_all(&root).unwrap();
    let hidden = [[255u8, 140, 0], [120, 70, 20], [128, 128, 128]];
    let inside = |x: u32, y: u32| (x as i32 - 8).pow(2) + (y as i32 - 8).pow(2) <= 25;
    for (i, h) in hidden.iter().enumerate() {
        image::RgbaImage::from_fn(16, 16, |x, y| {
            if inside(x, y) {
                image::Rgba([20, 30, 160, 255])
            } else {
                image::Rgba([h[0], h[1], h[2], 0])
            }
        })
        .save(root.join(format!("rgba{i}.png")))
        .unwrap();
    }
    image::GrayAlphaImage::from_fn(16, 16, |x, y| {
        if inside(x, y) {
            image::LumaA([60, 255])
        } else {
            image::LumaA([200, 0])
        }
    })
    .save(root.join("la.png"))
    .unwrap();
    root
}

#[test]
fn transparency_is_composited_over_the_background_wherever_images_are_read() {
    use dcgan::config::{Background, DataConfig};
    let dir = tempfile::tempdir().unwrap();
    let root = transparent_folder(dir.path());
    let spec = root.to_str().unwrap();
    for bg in [
        Background::WHITE,
        Background::BLACK,
        Background([10, 200, 30]),
    ] {
        let ds = data::open(spec, bg).unwrap();
        assert_eq!(ds.background(), Some(bg));
        for i in 0..ds.len() {
            let img = ds.get(i).unwrap();
            assert!(!img.color().has_alpha(), "{}", ds.name(i));
            let corner = img.to_rgb8().get_pixel(0, 0).0;
            let centre = img.to_rgb8().get_pixel(8, 8).0;
            let grey = ds.name(i).ends_with("la.png");
            // The hidden colours are gone: the corner is the background (grey images over a
            // coloured background become RGB).
            assert_eq!(corner, bg.0, "{} over {bg}", ds.name(i));
            assert_eq!(
                centre,
                if grey { [60; 3] } else { [20, 30, 160] },
                "{}",
                ds.name(i)
            );
            assert_eq!(img.color() == image::ColorType::L8, grey && bg.is_grey());
            // As stored: the alpha channel is still there.
            assert!(ds.get_as_stored(i).unwrap().color().has_alpha());
        }
        // The prepared tensor: the corner of every image is the background in [-1, 1].
        let t = Transform {
            size: 16,
            channels: 3,
        };
        let x = t.apply(&ds.get(0).unwrap());
        for c in 0..3 {
            assert_eq!(x[c * 256], bg.0[c] as f32 / 127.5 - 1.0);
        }
        // Training reads the same through its config.
        let config = DataConfig {
            source: spec.to_string(),
            background: bg,
            ..DataConfig::default()
        };
        let ds = data::open_config(&config).unwrap();
        assert_eq!(ds.get(0).unwrap().to_rgb8().get_pixel(0, 0).0, bg.0);
    }
    let info = data::tools::info(&*data::open(spec, Background::BLACK).unwrap(), usize::MAX);
    assert_eq!(info.transparent, 4);
    assert_eq!(info.background.as_deref(), Some("black"));
    assert_eq!(info.channels["rgba8"], 3);
    assert_eq!(info.channels["la8"], 1);
    // The data's fingerprint is of the images as stored: the same over any background.
    assert_eq!(
        data::Fingerprint::of(&*data::open(spec, Background::WHITE).unwrap()),
        data::Fingerprint::of(&*data::open(spec, Background::BLACK).unwrap())
    );
}

#[test]
fn the_fid_cache_key_tells_backgrounds_apart() {
    use dcgan::config::Background;
    let dir = tempfile::tempdir().unwrap();
    let root = transparent_folder(dir.path());
    let weights = dir.path().join("w.bin");
    std::fs::write(&weights, b"weights").unwrap();
    let key = |bg| {
        let ds = data::open(root.to_str().unwrap(), bg).unwrap();
        dcgan::eval::fid_cache::cache_key(
            &*ds,
            16,
            (4, 0),
            dcgan::config::FidMode::LegacyDcgan,
            &weights,
        )
        .unwrap()
    };
    assert_eq!(key(Background::WHITE), key(Background::WHITE));
    assert_ne!(key(Background::WHITE), key(Background::BLACK));
    assert_ne!(key(Background::BLACK), key(Background([0, 0, 1])));
}
