//! "Forgetting to draw" on a synthetic scene data set where the object's position is known: dark
//! 16×16 backgrounds with one bright 5×5 square. G learns to draw the squares; boxes go exactly
//! around the square in each sample (its brightest 5×5 window); after the maps the regression
//! picks are dropped, the object's pixels must change far more than the background's.

mod common;

use common::*;
use dcgan::checkpoint::Checkpoint;

fn scenes(dir: &std::path::Path, n: u32) -> std::path::PathBuf {
    let root = dir.join("scenes");
    std::fs::create_dir_all(&root).unwrap();
    let mut r = dcgan::rng::stream(3, dcgan::rng::Purpose::Sample, 0);
    for i in 0..n {
        use rand::Rng;
        let (ox, oy) = (r.random_range(0..12u32), r.random_range(0..12u32));
        let base = r.random_range(10..50u32);
        let img = image::GrayImage::from_fn(16, 16, |x, y| {
            let inside = x >= ox && x < ox + 5 && y >= oy && y < oy + 5;
            image::Luma([if inside { 235 } else { (base + x * 2) as u8 }])
        });
        img.save(root.join(format!("{i:04}.png"))).unwrap();
    }
    root
}

/// The brightest 5×5 window of a 16×16 image in [−1, 1]: (x0, y0, mean).
fn brightest(img: &[f32]) -> (usize, usize, f32) {
    let mut best = (0, 0, f32::MIN);
    for y in 0..12 {
        for x in 0..12 {
            let m = (0..25)
                .map(|k| img[(y + k / 5) * 16 + x + k % 5])
                .sum::<f32>()
                / 25.0;
            if m > best.2 {
                best = (x, y, m);
            }
        }
    }
    best
}

#[test]
fn forgetting_the_object_changes_its_pixels_far_more_than_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = scenes(dir.path(), 512);
    let out = dir.path().join("run");
    let o = run(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--image-size",
        "16",
        "--generator-width",
        "32",
        "--discriminator-width",
        "16",
        "--latent-dim",
        "16",
        "--batch-size",
        "32",
        "--epochs",
        "60",
        "--sample-every",
        "100000",
        "--checkpoint-every",
        "100000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let device = dcgan::device::by_name("flex").unwrap();
    let ckpt = Checkpoint::load(&out).unwrap();
    let g = ckpt.generator(&device).unwrap();
    let z = dcgan::rng::latents(
        &mut dcgan::rng::stream(9, dcgan::rng::Purpose::Sample, 0),
        48,
        16,
        Default::default(),
    );
    let before = dcgan::explore::render(&g, &z, 16, &device);
    // Boxes exactly around the square each sample draws (samples without a clear one are left out).
    let mut boxes = Vec::new();
    for s in 0..48 {
        let (x, y, m) = brightest(&before[s * 256..(s + 1) * 256]);
        if m > 0.25 {
            boxes.push(dcgan::explore::forget::ObjectBox {
                sample: s,
                rect: [x as u32, y as u32, x as u32 + 5, y as u32 + 5],
            });
        }
    }
    assert!(
        boxes.len() >= 24,
        "G draws a clear square in only {} of 48 samples",
        boxes.len()
    );
    let examples = dcgan::explore::forget::Examples {
        latents: &z,
        latent_dim: 16,
        boxes: &boxes,
        image_size: 16,
        negatives_per_positive: 1,
        seed: 0,
    };
    let model = dcgan::explore::forget::fit(&g, &examples, &device).unwrap();
    assert!(
        !model.dropped.is_empty() && model.dropped.len() < 32,
        "dropped {:?}",
        model.dropped
    );
    assert!(
        model.train_accuracy > 0.8,
        "the regression separates object from background poorly: {}",
        model.train_accuracy
    );
    let after = dcgan::explore::forget::render_without(&g, &z, 16, &model.dropped, 32, &device);
    let (mut inside, mut n_in, mut outside, mut n_out) = (0f32, 0, 0f32, 0);
    for b in &boxes {
        let [x0, y0, x1, y1] = b.rect.map(|v| v as usize);
        for y in 0..16 {
            for x in 0..16 {
                let p = b.sample * 256 + y * 16 + x;
                let d = (after[p] - before[p]).abs();
                if x >= x0 && x < x1 && y >= y0 && y < y1 {
                    inside += d;
                    n_in += 1;
                } else {
                    outside += d;
                    n_out += 1;
                }
            }
        }
    }
    let (inside, outside) = (inside / n_in as f32, outside / n_out as f32);
    eprintln!(
        "mean |change| inside the boxes {inside:.3}, outside {outside:.3}, dropped {} maps",
        model.dropped.len()
    );
    assert!(
        inside > 3.0 * outside,
        "object pixels changed {inside:.3}, the rest {outside:.3}"
    );
}
