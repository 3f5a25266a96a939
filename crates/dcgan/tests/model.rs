//! Architecture (paper §3) and initialisation (§4), checked by shapes and statistics.

use burn::tensor::{Device, Tensor, TensorData};
use dcgan::config::ModelConfig;
use dcgan::io::named_tensors;
use dcgan::model::layers::BatchNorm;
use dcgan::model::{BnMode, Discriminator, Generator};

fn cfg(size: usize, channels: usize, kernel: usize) -> ModelConfig {
    ModelConfig {
        image_size: size,
        channels,
        kernel_size: kernel,
        generator_width: 8,
        discriminator_width: 8,
        latent_dim: 10,
        ..ModelConfig::default()
    }
}

#[test]
fn shapes_for_every_size_and_both_layouts() {
    let device = Device::flex();
    for kernel in [4, 5] {
        for (size, channels) in [(16, 1), (32, 3), (64, 1), (128, 3)] {
            let c = cfg(size, channels, kernel);
            let g = Generator::new(&c, 1, &device);
            let d = Discriminator::new(&c, 1, &device);
            let z = Tensor::<2>::zeros([2, 10], &device);
            let x = g.forward(z, BnMode::BatchStats);
            assert_eq!(
                x.dims(),
                [2, channels, size, size],
                "kernel {kernel} size {size}"
            );
            let feats = d.features(x.clone(), BnMode::BatchStats);
            let k = c.upsamplings();
            assert_eq!(feats.len(), k);
            for (i, f) in feats.iter().enumerate() {
                assert_eq!(f.dims(), [2, 8 << i, size >> (i + 1), size >> (i + 1)]);
            }
            assert_eq!(d.forward(x, BnMode::BatchStats).dims(), [2]);
            // G's widths halve from ngf·2^(k−1) at 4×4.
            let names = named_tensors(&g);
            let first = if kernel == 4 {
                &names["project_conv.weight"].shape
            } else {
                &names["project_dense.weight"].shape
            };
            let expected_first = if kernel == 4 {
                vec![10, 8 << (k - 1), 4, 4]
            } else {
                vec![10, (8 << (k - 1)) * 16]
            };
            assert_eq!(first, &expected_first);
        }
    }
}

#[test]
fn the_paper_layouts_have_no_biases_and_batchnorm_where_the_guidelines_say() {
    let device = Device::flex();
    let c = ModelConfig::default();
    let g = named_tensors(&Generator::new(&c, 1, &device));
    let d = named_tensors(&Discriminator::new(&c, 1, &device));
    assert!(g.keys().chain(d.keys()).all(|k| !k.ends_with(".bias")));
    // G: BatchNorm after every layer but the output; D: after every conv but the first and last.
    assert!(
        g.contains_key("project_norm.gamma")
            && g.contains_key("blocks.2.norm.gamma")
            && !g.contains_key("output.gamma")
    );
    assert!(
        !d.contains_key("blocks.0.norm.gamma")
            && d.contains_key("blocks.1.norm.gamma")
            && d.contains_key("blocks.3.norm.gamma")
    );
    // 64×64 pytorch/examples sizes: G 3,576,704 and D 2,765,568 trainable parameters.
    let count = |m: &dcgan::io::TensorMap| {
        m.iter()
            .filter(|(k, _)| !k.contains("running"))
            .map(|(_, t)| t.data.len())
            .sum::<usize>()
    };
    assert_eq!(count(&g), 3_576_704);
    assert_eq!(count(&d), 2_765_568);
}

#[test]
fn initial_weights_follow_the_papers_distributions() {
    let device = Device::flex();
    let c = ModelConfig::default();
    let g = named_tensors(&Generator::new(&c, 3, &device));
    let stats = |v: &[f32]| {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let std = (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        (mean, std)
    };
    let (m, s) = stats(&g["blocks.0.conv.weight"].data); // 2M values
    assert!(
        m.abs() < 1e-4 && (s - 0.02).abs() < 1e-4,
        "conv N(0, 0.02): mean {m} std {s}"
    );
    let (m, s) = stats(&g["project_norm.gamma"].data); // 512 values
    assert!(
        (m - 1.0).abs() < 0.005 && (s - 0.02).abs() < 0.004,
        "γ N(1, 0.02): mean {m} std {s}"
    );
    assert!(g["project_norm.beta"].data.iter().all(|&b| b == 0.0));
    assert!(g["project_norm.running_var"].data.iter().all(|&b| b == 1.0));
    // The same seed gives the same network; another seed another one.
    let again = named_tensors(&Generator::new(&c, 3, &device));
    let other = named_tensors(&Generator::new(&c, 4, &device));
    assert_eq!(g["output.weight"], again["output.weight"]);
    assert_ne!(g["output.weight"], other["output.weight"]);
}

#[test]
fn batchnorm_updates_running_variance_with_the_unbiased_estimate() {
    let device = Device::flex();
    let mut rng = dcgan::rng::stream(0, dcgan::rng::Purpose::Init, 0);
    let bn = BatchNorm::new(1, 1e-5, 0.1, &mut rng, &device);
    // One feature, batch of 4: mean 2.5, biased variance 1.25, unbiased 5/3.
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [4, 1]),
        &device,
    );
    let y = bn.forward(x.clone(), BnMode::Train);
    let rm = bn
        .running_mean
        .value()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()[0];
    let rv = bn
        .running_var
        .value()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()[0];
    assert!((rm - 0.25).abs() < 1e-6, "running mean {rm}");
    assert!(
        (rv - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6,
        "running var {rv}"
    );
    // The output is normalised with the biased variance (then scaled by γ ≈ 1).
    let gamma = bn.gamma.val().into_data().try_to_vec::<f32>().unwrap()[0];
    let out = y.into_data().try_to_vec::<f32>().unwrap();
    let expect = (1.0 - 2.5) / (1.25f32 + 1e-5).sqrt() * gamma;
    assert!((out[0] - expect).abs() < 1e-5, "{} vs {expect}", out[0]);
    // BatchStats leaves the running statistics alone; Eval uses them.
    bn.forward(x.clone(), BnMode::BatchStats);
    assert_eq!(
        bn.running_mean
            .value()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()[0],
        rm
    );
    let e = bn
        .forward(x, BnMode::Eval)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!((e[0] - (1.0 - rm) / (rv + 1e-5).sqrt() * gamma).abs() < 1e-5);
}

#[test]
fn weight_count_matches_the_networks() {
    // ModelConfig::validate refuses models past a size by this count; it must be the real one.
    let device = Device::flex();
    for kernel in [4, 5] {
        for (size, channels) in [(16, 1), (32, 3), (64, 3)] {
            let c = cfg(size, channels, kernel);
            let weights: usize = named_tensors(&Generator::new(&c, 1, &device))
                .into_iter()
                .chain(named_tensors(&Discriminator::new(&c, 1, &device)))
                .filter(|(_, t)| t.shape.len() >= 2)
                .map(|(_, t)| t.data.len())
                .sum();
            assert_eq!(
                c.weight_count(),
                weights as f64,
                "kernel {kernel} size {size}"
            );
        }
    }
}
