//! D's features (paper §5.1): size, pooling, BatchNorm re-estimation, labels.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use dcgan::config::ModelConfig;
use dcgan::data::{Dataset, Transform};
use dcgan::eval::features;
use dcgan::model::{BnMode, Discriminator};

fn folder(dir: &std::path::Path, n: u32) -> Arc<dyn Dataset> {
    for class in ["cats", "dogs"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
    }
    for i in 0..n {
        let class = if i % 3 == 0 { "dogs" } else { "cats" };
        image::RgbImage::from_fn(32, 32, |x, y| {
            image::Rgb([(x * 8 + i) as u8, (y * 8) as u8, (i * 13 % 256) as u8])
        })
        .save(dir.join(class).join(format!("{i:03}.png")))
        .unwrap();
    }
    Arc::from(dcgan::data::open(dir.to_str().unwrap(), Default::default()).unwrap())
}

fn model() -> ModelConfig {
    ModelConfig {
        image_size: 32,
        channels: 3,
        discriminator_width: 8,
        generator_width: 8,
        latent_dim: 8,
        ..ModelConfig::default()
    }
}

#[test]
fn features_are_every_layer_pooled_to_four_by_four() {
    let device = Device::flex();
    let d = Discriminator::new(&model(), 2, &device);
    let x = Tensor::<4>::from_data(
        TensorData::new(
            dcgan::rng::normal(
                &mut dcgan::rng::stream(1, dcgan::rng::Purpose::Sample, 0),
                3 * 3072,
                0.0,
                1.0,
            ),
            [3, 3, 32, 32],
        ),
        &device,
    );
    let f = features::pooled(&d, x.clone());
    // Layers of 8, 16, 32 channels at 16², 8², 4²: 16·(8 + 16 + 32) = 896 values an image.
    assert_eq!(f.dims(), [3, 896]);
    let f = f
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let acts = d.features(x, BnMode::Eval);
    // The 4×4 layer is taken as it is; the 16×16 layer's first value is the max of its top-left 4×4 window.
    let last = acts[2]
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    for i in 0..3 {
        assert_eq!(
            &f[i * 896 + 384..(i + 1) * 896],
            &last[i * 512..(i + 1) * 512]
        );
    }
    let first = acts[0]
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let window_max = (0..4)
        .flat_map(|y| (0..4).map(move |x| y * 16 + x))
        .map(|p| first[p])
        .fold(f32::MIN, f32::max);
    assert_eq!(f[0], window_max);
}

#[test]
fn batchnorm_statistics_are_re_estimated_over_the_data_and_labels_kept() {
    let dir = tempfile::tempdir().unwrap();
    let ds = folder(dir.path(), 24);
    let device = Device::flex();
    let d = Discriminator::new(&model(), 2, &device);
    let t = Transform {
        size: 32,
        channels: 3,
    };
    // Three batches of 8: the running mean becomes the mean of the three batch means, which for
    // equal batches is the data's mean of the second conv layer's output.
    let seen = features::reestimate_batchnorm(&d, ds.clone(), t, 8, 100, &device).unwrap();
    assert_eq!(seen, 3);
    let all: Vec<f32> = (0..24).flat_map(|i| t.apply(&ds.get(i).unwrap())).collect();
    let x = Tensor::<4>::from_data(TensorData::new(all, [24, 3, 32, 32]), &device);
    let h = d.blocks[1].conv.forward(crate_leaky(&d, x)); // [24, 16, 8, 8]
    let mean = h
        .swap_dims(0, 1)
        .reshape([16, 24 * 64])
        .mean_dim(1)
        .reshape([16])
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let rm = d.blocks[1]
        .norm
        .as_ref()
        .unwrap()
        .running_mean
        .value()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    for (a, b) in rm.iter().zip(&mean) {
        assert!((a - b).abs() < 1e-4, "running mean {a} vs data mean {b}");
    }
    let (dim, f, labels) = features::extract(
        &d,
        ds.clone(),
        t,
        10,
        &device,
        &mut dcgan::progress::Quiet,
        "images",
    )
    .unwrap();
    assert_eq!((dim, f.len(), labels.len()), (896, 24 * 896, 24));
    for (i, l) in labels.iter().enumerate() {
        assert_eq!(*l, ds.label(i).unwrap() as i64);
    }
    assert!(labels.contains(&0) && labels.contains(&1));
}

/// The first block's output (it has no BatchNorm, so this is exact).
fn crate_leaky(d: &Discriminator, x: Tensor<4>) -> Tensor<4> {
    dcgan::model::leaky_relu(d.blocks[0].conv.forward(x), d.leaky_slope)
}

/// splitmix64, as `scripts/make_prdc_goldens.py` draws its features.
fn splitmix64(x: u64) -> u64 {
    let mut x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `n × dim` values of `seed`, each exact in float32.
fn hashed(seed: u64, n: usize, dim: usize) -> Vec<f32> {
    (0..n * dim)
        .map(|t| {
            let (i, d) = ((t / dim) as u64, (t % dim) as u64);
            let h = splitmix64((seed << 32) + i * 4096 + d);
            ((h >> 40) as f64 / (1u64 << 24) as f64) as f32
        })
        .collect()
}

/// Precision, recall, density and coverage against the prdc package (`tests/golden/prdc`,
/// `scripts/make_prdc_goldens.py`) on 1,000 real and 800 fake 2,048-d features drawn the same
/// way on both sides, whose distances crowd around the radii: every decision must be the
/// package's, so the scores agree exactly (to 1e-12, the float64 sums).
#[test]
fn prdc_matches_the_prdc_package() {
    let dim = 2048;
    let mut real = hashed(1, 1000, dim);
    let mut fake = hashed(2, 800, dim);
    for row in fake.chunks_exact_mut(dim) {
        row[..512].iter_mut().for_each(|v| *v += 0.05);
    }
    fake[..dim].copy_from_slice(&real[..dim]);
    let copy = real[dim..2 * dim].to_vec();
    real[2 * dim..3 * dim].copy_from_slice(&copy);
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/prdc");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("scores.json")).unwrap())
            .unwrap();
    let sum = |x: &[f32]| x.iter().map(|&v| v as f64).sum::<f64>();
    assert!((sum(&real) - want["checksum_real"].as_f64().unwrap()).abs() < 1e-6);
    assert!((sum(&fake) - want["checksum_fake"].as_f64().unwrap()).abs() < 1e-6);
    for k in [3, 5] {
        let got = dcgan::eval::prdc::prdc(&real, &fake, dim, k).unwrap();
        let w = &want[format!("k{k}")];
        for (name, value) in [
            ("precision", got.precision),
            ("recall", got.recall),
            ("density", got.density),
            ("coverage", got.coverage),
        ] {
            let expect = w[name].as_f64().unwrap();
            assert!(
                (value - expect).abs() < 1e-12,
                "k = {k}, {name}: ours {value}, the package's {expect}"
            );
        }
    }
}
