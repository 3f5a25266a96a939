//! The numbers behind the §6 tools: walk end points, concept means, dropped maps, guided
//! backpropagation against autodiff, nearest neighbours.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use dcgan::checkpoint::{self, Checkpoint, TrainState};
use dcgan::config::{ModelConfig, RunConfig};
use dcgan::data::{Dataset, Transform};
use dcgan::explore::{self, arithmetic, forget, guided, interpolate, neighbours};
use dcgan::latent::{Expression, Interpolation};
use dcgan::model::{BnMode, Discriminator, Generator};

fn model() -> ModelConfig {
    ModelConfig {
        image_size: 16,
        channels: 1,
        latent_dim: 8,
        generator_width: 8,
        discriminator_width: 8,
        ..ModelConfig::default()
    }
}

/// A checkpoint of freshly initialised networks (the tools' arithmetic does not need training).
fn checkpoint_file(dir: &std::path::Path) -> Checkpoint {
    let device = Device::flex();
    let m = model();
    let cfg = RunConfig {
        model: m.clone(),
        optim: Default::default(),
        recipe: Default::default(),
        data: Default::default(),
        train: Default::default(),
        eval: Default::default(),
        device: "flex".into(),
    };
    let bytes = checkpoint::encode(
        &cfg,
        &TrainState::default(),
        &Generator::new(&m, 3, &device),
        Some(&Discriminator::new(&m, 3, &device)),
        None,
    );
    let p = dir.join("c.safetensors");
    std::fs::write(&p, bytes).unwrap();
    Checkpoint::load(&p).unwrap()
}

fn sheet(n: usize) -> Vec<f32> {
    dcgan::rng::latents(
        &mut dcgan::rng::stream(5, dcgan::rng::Purpose::Sample, 0),
        n,
        8,
        Default::default(),
    )
}

#[test]
fn walk_end_points_are_g_of_the_end_latents() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_file(dir.path());
    let device = Device::flex();
    let pts = sheet(3);
    for how in [Interpolation::Linear, Interpolation::Spherical] {
        let plan = interpolate::WalkPlan {
            given: Some(pts.clone()),
            walks: 1,
            points: 3,
            steps: 5,
            how,
            seed: 0,
        };
        let w = interpolate::walks(&ckpt, &plan, &device).unwrap();
        assert_eq!((w.walks, w.length), (1, 11));
        let g = ckpt.generator(&device).unwrap();
        let ends = explore::render(&g, &[&pts[..8], &pts[16..]].concat(), 8, &device);
        let per = 256;
        assert_eq!(&w.images[..per], &ends[..per], "{how:?}: first image");
        assert_eq!(&w.images[10 * per..], &ends[per..], "{how:?}: last image");
        assert_eq!(
            &w.latents[5 * 8..6 * 8],
            &pts[8..16],
            "the walk passes through its middle point"
        );
        // An image is a function of its latent alone (running statistics): the middle point's image
        // inside the walk equals it rendered alone.
        assert_eq!(
            &w.images[5 * per..6 * per],
            &explore::render(&g, &pts[8..16], 8, &device)[..]
        );
    }
}

#[test]
fn arithmetic_is_on_the_concept_means_with_bounded_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = checkpoint_file(dir.path());
    let device = Device::flex();
    let z = sheet(9);
    let concept = |name: &str, idx: &[usize]| arithmetic::Concept {
        name: name.into(),
        exemplars: idx
            .iter()
            .flat_map(|&i| z[i * 8..(i + 1) * 8].to_vec())
            .collect(),
    };
    let concepts = vec![
        concept("A", &[0, 1, 2]),
        concept("B", &[3, 4, 5]),
        concept("C", &[6, 7, 8]),
    ];
    let expr = Expression::parse("A - B + C").unwrap();
    let r = arithmetic::arithmetic(&ckpt, &concepts, &expr, 8, 0.25, 1, &device).unwrap();
    let mean = |idx: [usize; 3]| {
        (0..8)
            .map(|d| idx.iter().map(|&i| z[i * 8 + d]).sum::<f32>() / 3.0)
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (mean([0, 1, 2]), mean([3, 4, 5]), mean([6, 7, 8]));
    for d in 0..8 {
        assert!((r.concept_means[0].1[d] - a[d]).abs() < 1e-6);
        assert!((r.result[d] - (a[d] - b[d] + c[d])).abs() < 1e-5);
    }
    assert_eq!(r.neighbours.len(), 64);
    for (k, v) in r.neighbours.iter().enumerate() {
        assert!((v - r.result[k % 8]).abs() <= 0.25 + 1e-6);
    }
    // Rows: 3 concepts (3 exemplars + mean), result + 8 neighbours, pixel row (3 means + result).
    let per = r.image_len;
    assert_eq!(
        r.rows.iter().map(|row| row.len() / per).collect::<Vec<_>>(),
        vec![4, 4, 4, 9, 4]
    );
    // The pixel-space result is the same expression on the exemplar images' means.
    let pix = &r.rows[4];
    for p in 0..per {
        let want = (pix[p] - pix[per + p] + pix[2 * per + p]).clamp(-1.0, 1.0);
        assert!((pix[3 * per + p] - want).abs() < 1e-5);
    }
    // The turn vector: mean(left) − mean(right); α = 0 in the middle column is the base itself.
    let (v, images) =
        arithmetic::turn(&ckpt, &z[..16], &z[16..32], &z[32..40], 5, 1.0, &device).unwrap();
    for d in 0..8 {
        assert!((v[d] - ((z[d] + z[8 + d]) / 2.0 - (z[16 + d] + z[24 + d]) / 2.0)).abs() < 1e-6);
    }
    let g = ckpt.generator(&device).unwrap();
    assert_eq!(
        &images[2 * 256..3 * 256],
        &explore::render(&g, &z[32..40], 8, &device)[..]
    );
}

#[test]
fn dropped_feature_maps_are_zero_at_every_position() {
    let device = Device::flex();
    let g = Generator::new(&model(), 4, &device);
    let z = sheet(4);
    // Dropping every map leaves the output layer nothing: tanh(0) = 0 everywhere.
    let all: Vec<usize> = (0..8).collect();
    let out = forget::render_without(&g, &z, 8, &all, 8, &device);
    assert!(out.iter().all(|&v| v == 0.0));
    // Dropping maps 1 and 5 equals running the output layer on the hidden layer with them zeroed.
    let zt = Tensor::<2>::from_data(TensorData::new(z.clone(), [4, 8]), &device);
    let h = g.hidden(zt, BnMode::Eval);
    let mask = Tensor::<1>::from_data(
        TensorData::new(vec![1.0f32, 0., 1., 1., 1., 0., 1., 1.], [8]),
        &device,
    )
    .reshape([1, 8, 1, 1]);
    let hz = h.mul(mask);
    let ch = hz
        .clone()
        .slice([0..4, 1..2, 0..8, 0..8])
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    assert!(ch.iter().all(|&v| v == 0.0));
    let want = dcgan::kernels::tanh(g.output.forward(hz))
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    assert_eq!(forget::render_without(&g, &z, 8, &[1, 5], 8, &device), want);
    // ... and differs from drawing with every map.
    assert_ne!(explore::render(&g, &z, 8, &device), want);
}

#[test]
fn plain_backprop_equals_autodiff_and_guided_keeps_only_positive_paths() {
    let device = Device::flex();
    let m = model();
    let d = Discriminator::new(&m, 6, &device);
    let x = Tensor::<4>::from_data(
        TensorData::new(
            dcgan::rng::normal(
                &mut dcgan::rng::stream(1, dcgan::rng::Purpose::Sample, 1),
                3 * 256,
                0.0,
                1.0,
            ),
            [3, 1, 16, 16],
        ),
        &device,
    );
    let feature = 5;
    let mine = guided::backprop(&d, x.clone(), feature, false)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    // Autodiff: the same feature at each image's strongest position.
    let ad = device.clone().autodiff();
    let d_ad = Discriminator::new(&m, 6, &ad);
    let xa = Tensor::<4>::from_data(x.to_data(), &ad).require_grad();
    let last = d_ad.features(xa.clone(), BnMode::Eval).pop().unwrap(); // [3, 64, 1, 1]
    let [n, c, h, w] = last.dims();
    let vals = last
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let mut mask = vec![0f32; n * c * h * w];
    for i in 0..n {
        let s = &vals[(i * c + feature) * h * w..(i * c + feature + 1) * h * w];
        let p = (0..h * w).fold(0, |b, j| if s[j] > s[b] { j } else { b });
        mask[(i * c + feature) * h * w + p] = 1.0;
    }
    let sel = last
        .mul(Tensor::<4>::from_data(
            TensorData::new(mask, [n, c, h, w]),
            &ad,
        ))
        .sum();
    let grads = sel.backward();
    let want = xa
        .grad(&grads)
        .unwrap()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let scale = want.iter().fold(0f32, |a, v| a.max(v.abs()));
    assert!(scale > 0.0);
    let diff = mine
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        diff <= 1e-5 * scale.max(1.0),
        "max |diff| {diff} (scale {scale})"
    );
    // Guided: different from the plain gradient where some paths are negative ...
    let as_vec = |t: Tensor<4>| {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let g = as_vec(guided::backprop(&d, x.clone(), feature, true));
    assert_ne!(g, mine);
    // ... and equal to it where every path is positive: with |weights| (BatchNorm's fresh running
    // statistics and zero shifts keep signs) and positive images, every pre-activation and every
    // gradient is positive, so neither mask may drop anything.
    let mut positive = dcgan::io::named_tensors(&d);
    for t in positive.values_mut() {
        t.data.iter_mut().for_each(|v| *v = v.abs());
    }
    let d_pos = dcgan::io::load_named(d, &positive, std::path::Path::new("|weights|")).unwrap();
    let x_pos = x.abs();
    let plain = as_vec(guided::backprop(&d_pos, x_pos.clone(), feature, false));
    let guided_pos = as_vec(guided::backprop(&d_pos, x_pos, feature, true));
    // (Pixels outside the chosen position's receptive field get no gradient at all.)
    assert!(plain.iter().all(|v| *v >= 0.0) && plain.iter().filter(|v| **v > 0.0).count() > 100);
    assert_eq!(guided_pos, plain);
}

#[test]
fn nearest_neighbours_of_training_images_are_themselves() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..30u32 {
        image::GrayImage::from_fn(16, 16, |x, y| {
            image::Luma([((x * 7 + y * 3 + i * 29) % 256) as u8])
        })
        .save(dir.path().join(format!("{i:02}.png")))
        .unwrap();
    }
    let ds: Arc<dyn Dataset> =
        Arc::from(dcgan::data::open(dir.path().to_str().unwrap(), Default::default()).unwrap());
    let t = Transform {
        size: 16,
        channels: 1,
    };
    let queries: Vec<f32> = [4usize, 17]
        .iter()
        .flat_map(|&i| t.apply(&ds.get(i).unwrap()))
        .collect();
    let device = Device::flex();
    let d = Discriminator::new(&model(), 1, &device);
    let search = neighbours::Search {
        dataset: ds,
        transform: t,
        k: 3,
        limit: usize::MAX,
    };
    let near = neighbours::nearest(&d, &queries, 2, &search, &device).unwrap();
    for (q, want) in [(0, 4usize), (1, 17)] {
        assert_eq!(near[q].pixel[0], (want, 0.0));
        assert_eq!(near[q].feature[0].0, want);
        // Measured 0 (the same image through D); a bound for hosts whose GEMM rounds
        // differently with the batch an image is in.
        assert!(near[q].feature[0].1 < 1e-6);
        assert_eq!(near[q].pixel.len(), 3);
        assert!(near[q].pixel.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
