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
            let ds = data::open(spec).unwrap();
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
    let err = data::open(img.to_str().unwrap()).err().unwrap().to_string();
    assert!(
        err.starts_with(&format!(
            "{}: IDX data is 5 bytes, the header promises 8",
            img.display()
        )),
        "{err}"
    );
    std::fs::write(&img, b"PK\x03\x04 a zip").unwrap();
    let err = data::open(img.to_str().unwrap()).err().unwrap().to_string();
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
    let ds = data::open(dir.path().to_str().unwrap()).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.label(1), Some(9));
    assert_eq!(ds.classes()[3], "cat");
    let img = ds.get(1).unwrap().to_rgb8();
    assert_eq!(img.get_pixel(5, 7).0, [200, 100, 9]);
    // A torn batch file is refused.
    std::fs::write(dir.path().join("data_batch_2.bin"), &batch[..3000]).unwrap();
    let err = data::open(dir.path().to_str().unwrap())
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
    let ds = data::open(root.to_str().unwrap()).unwrap();
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
    let ds: Arc<dyn Dataset> = Arc::from(data::open(dir.path().to_str().unwrap()).unwrap());
    let order = dcgan::rng::permutation(11, 0, 20);
    let t = Transform {
        size: 4,
        channels: 1,
    };
    let loader = Loader::start(ds.clone(), order.clone(), 6, 1, t, 2, 2).unwrap();
    assert_eq!(loader.batches, 3); // 20 / 6, the incomplete last batch dropped
    let batches: Vec<_> = loader.collect();
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
