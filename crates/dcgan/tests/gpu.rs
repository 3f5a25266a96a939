//! The GPU path (wgpu or CUDA): burn's own operations instead of this project's CPU kernels. In
//! CI the device is wgpu on Mesa's lavapipe (Vulkan on the CPU), so these check correctness, not
//! speed.
//!
//! - G(z) and D(x), BatchNorm in both modes, against PyTorch within 1e-4;
//! - both half-steps' gradients against PyTorch within 1e-4 of each tensor's largest entry;
//! - a run killed between checkpoints resumes to the same losses and weights, bit for bit;
//! - Flex and the GPU side by side over 20 training steps, the divergence printed and bounded;
//! - a run moves between devices: trained on Flex, resumed on the GPU and back.
//!
//! Built only with a GPU feature. The README's `cargo test --release --workspace` has wgpu: it is
//! the CLI's default feature, and cargo gives the library the same features in the whole build.
//! Alone: `cargo test --release -p dcgan --features wgpu --test gpu`; for CUDA, `--features cuda`
//! and `DCGAN_TEST_GPU=cuda` (`scripts/gpu-check.sh`). Without either feature, one test says so.

mod common;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod golden_checks;

#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
#[test]
fn the_gpu_tests_need_a_gpu_feature() {
    common::not_built(
        "gpu",
        "wgpu",
        "cargo test --release -p dcgan --features wgpu --test gpu",
    );
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod on_gpu {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::AtomicBool;

    use burn::tensor::Device;
    use dcgan::checkpoint::Checkpoint;
    use dcgan::config::{DataConfig, ModelConfig, RunConfig, TrainConfig};
    use dcgan::io::named_tensors;
    use dcgan::model::BnMode;
    use dcgan::model::inference::generate;
    use dcgan::progress::{Event, Quiet};
    use dcgan::train::LogRecord;
    use dcgan::train::run::{ResumeOptions, read_log};

    use super::{common, golden_checks};

    /// The GPU under test: `DCGAN_TEST_GPU` (`wgpu`, `cuda`, `cuda:N`), else wgpu when built in,
    /// else cuda.
    fn gpu_name() -> String {
        std::env::var("DCGAN_TEST_GPU").unwrap_or_else(|_| {
            if cfg!(feature = "wgpu") {
                "wgpu"
            } else {
                "cuda"
            }
            .into()
        })
    }

    /// The GPU device, or `None` (a counted skip; a failure under CI) when it does not answer.
    fn gpu() -> Option<(String, Device)> {
        let name = gpu_name();
        match dcgan::device::by_name(&name) {
            Ok(d) => Some((name, d)),
            Err(e) => {
                common::missing("gpu", &format!("a working {name} device ({e})"));
                None
            }
        }
    }

    /// With no adapter of the kind asked for, `wgpu` is one error naming the device, the reason
    /// and what is built in. In a child process of this test binary: a runtime that failed to
    /// start would stay failed for the tests beside it.
    #[cfg(feature = "wgpu")]
    #[test]
    fn wgpu_without_an_adapter_is_one_clear_error() {
        const TEST: &str = "on_gpu::wgpu_without_an_adapter_is_one_clear_error";
        if std::env::var_os("DCGAN_TEST_NO_ADAPTER").is_some() {
            let err = dcgan::device::by_name("wgpu")
                .expect_err("an adapter of kind Other(7) was found")
                .to_string();
            for part in [
                "invalid device wgpu: no usable wgpu device here (",
                "AdapterUnavailable",
                "); devices built in: flex",
                "Debian package mesa-vulkan-drivers",
            ] {
                assert!(err.contains(part), "{part:?} not in {err}");
            }
            return;
        }
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture"])
            .env("DCGAN_TEST_NO_ADAPTER", "1")
            .env("CUBECL_WGPU_DEFAULT_DEVICE", "Other(7)")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(
            child.status.success() && out.contains("1 passed"),
            "{out}{}",
            String::from_utf8_lossy(&child.stderr)
        );
    }

    #[test]
    fn generator_and_discriminator_outputs_match_pytorch_on_the_gpu() {
        let Some((name, device)) = gpu() else { return };
        for golden in golden_checks::Golden::all("gpu") {
            // Measured on lavapipe: at most 1.2e-6.
            let [ge, gt, de, dt] = golden_checks::outputs_match(&golden, &device, 1e-5);
            eprintln!(
                "{name} vs PyTorch, max |Δ|: G eval {ge:.2e}, G train {gt:.2e}, D eval {de:.2e}, D train {dt:.2e}"
            );
        }
    }

    #[test]
    fn gradients_of_both_half_steps_match_pytorch_on_the_gpu() {
        let Some((name, _)) = gpu() else { return };
        for golden in golden_checks::Golden::all("gpu") {
            // Measured on lavapipe: at most 4.0e-6 of a tensor's largest entry.
            let worst = golden_checks::gradients_match(&golden, &name, 1e-5);
            eprintln!("{name} gradients vs PyTorch: largest max |Δ| / max |g| = {worst:.2e}");
        }
    }

    /// 48 coloured 32×32 patterns: a gradient, a disc and stripes, varied per image.
    fn images(dir: &Path) -> PathBuf {
        let data = dir.join("images");
        std::fs::create_dir_all(&data).unwrap();
        for i in 0..48u32 {
            image::RgbImage::from_fn(32, 32, |x, y| {
                let (dx, dy) = (x as i32 - 16, y as i32 - 16);
                let disc = dx * dx + dy * dy < (4 + i % 9) as i32 * (4 + i % 9) as i32;
                let stripe = (x + y + i) % 8 < 4;
                image::Rgb([
                    (x * 8 + i * 5) as u8,
                    if disc { 230 } else { (y * 7) as u8 },
                    if stripe { (i * 17) as u8 } else { 40 },
                ])
            })
            .save(data.join(format!("{i:02}.png")))
            .unwrap();
        }
        data
    }

    fn config(data: &Path, width: usize, batch: usize, steps: u64, device: &str) -> RunConfig {
        RunConfig {
            model: ModelConfig {
                image_size: 32,
                channels: 3,
                latent_dim: 32,
                generator_width: width,
                discriminator_width: width,
                ..ModelConfig::default()
            },
            optim: Default::default(),
            recipe: Default::default(),
            data: DataConfig {
                source: data.display().to_string(),
                workers: 1,
                ..Default::default()
            },
            train: TrainConfig {
                batch_size: batch,
                epochs: 1000,
                max_steps: Some(steps),
                checkpoint_every: 3,
                sample_every: 1000,
                ..Default::default()
            },
            eval: Default::default(),
            device: device.into(),
        }
    }

    /// A new run in `out`: `steps` steps of [`config`] on `device`.
    fn train(out: &Path, data: &Path, width: usize, batch: usize, steps: u64, device: &str) {
        let config = config(data, width, batch, steps, device);
        dcgan::train::train(config, out, None, &mut Quiet, &AtomicBool::new(false)).unwrap();
    }

    fn log(run: &Path) -> Vec<LogRecord> {
        read_log(&run.join("log.jsonl"))
    }

    fn newest_weights(run: &Path) -> dcgan::io::TensorMap {
        let ckpt = Checkpoint::load(&run.join("checkpoints")).unwrap();
        let flex = Device::flex();
        let mut w = named_tensors(&ckpt.generator(&flex).unwrap());
        w.extend(named_tensors(&ckpt.discriminator(&flex).unwrap()));
        w
    }

    /// The state a SIGKILL after step 5 leaves with checkpoints every 3 steps: the checkpoint of
    /// step 3 and the log up to step 5. The resume trains 4 to 8 again and must repeat the
    /// uninterrupted run exactly: every logged number and every weight.
    #[test]
    fn a_gpu_run_killed_between_checkpoints_resumes_exactly() {
        let Some((name, _)) = gpu() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let data = images(tmp.path());
        let stop = AtomicBool::new(false);
        let whole = tmp.path().join("whole");
        train(&whole, &data, 16, 8, 8, &name);
        let killed = tmp.path().join("killed");
        train(&killed, &data, 16, 8, 5, &name);
        // What a kill at step 5 leaves: no checkpoint of step 5 (it is written only at the end).
        let newest = Checkpoint::load(&killed.join("checkpoints")).unwrap();
        assert_eq!(newest.state.step, 5);
        std::fs::remove_file(&newest.path).unwrap();
        assert_eq!(log(&killed).len(), 5);
        dcgan::train::resume(
            &killed,
            ResumeOptions {
                max_steps: Some(8),
                ..Default::default()
            },
            None,
            &mut Quiet,
            &stop,
        )
        .unwrap();
        let row = |r: &LogRecord| {
            (
                r.step,
                r.loss_d,
                r.loss_g,
                r.d_real,
                r.d_fake,
                r.d_fake_after,
            )
        };
        let (a, b) = (log(&whole), log(&killed));
        assert_eq!(b.len(), 8);
        assert_eq!(
            a.iter().map(row).collect::<Vec<_>>(),
            b.iter().map(row).collect::<Vec<_>>()
        );
        let (wa, wb) = (newest_weights(&whole), newest_weights(&killed));
        assert_eq!(wa.keys().collect::<Vec<_>>(), wb.keys().collect::<Vec<_>>());
        for (k, v) in &wa {
            assert!(v.data == wb[k].data, "{k} differs after the resume");
        }
    }

    /// Largest |Δ| of the logged numbers at each step, and of any weight after the last step
    /// (absolute: BatchNorm's β start at 0, so relative differences mean little there).
    fn divergence(a: &Path, b: &Path) -> (Vec<f32>, f32) {
        let per_step = log(a)
            .iter()
            .zip(log(b))
            .map(|(x, y)| {
                [
                    (x.loss_d - y.loss_d).abs(),
                    (x.loss_g - y.loss_g).abs(),
                    (x.d_real - y.d_real).abs(),
                    (x.d_fake - y.d_fake).abs(),
                    (x.d_fake_after - y.d_fake_after).abs(),
                ]
                .into_iter()
                .fold(0.0, f32::max)
            })
            .collect();
        let (wa, wb) = (newest_weights(a), newest_weights(b));
        let weights = wa
            .iter()
            .filter(|(k, _)| !k.contains("running_"))
            .map(|(k, v)| common::max_abs_diff(&v.data, &wb[k].data))
            .fold(0.0, f32::max);
        (per_step, weights)
    }

    /// How far the two runs may drift apart: the logged numbers by 0.05, any weight by the
    /// learning rate times the steps taken (the size of Adam's first steps, about ±lr each, so
    /// no weight differs by more than training itself could move it). Measured here: about 2.5×
    /// below both (docs/gpu.md).
    const LOSS_BOUND: f32 = 0.05;
    fn weight_bound(steps: u64) -> f32 {
        steps as f32 * dcgan::config::OptimConfig::default().learning_rate as f32
    }

    /// The same run (32×32, the paper's widths, batch 16) on Flex and on the GPU for 20 steps. The
    /// first step computes the same numbers (within 1e-5); after it, rounding differences feed
    /// back through Adam, whose first steps move each weight by about ±lr whatever the
    /// gradient's size, so the runs drift apart slowly, within the bounds above.
    #[test]
    fn flex_and_the_gpu_side_by_side_over_20_steps() {
        let Some((name, _)) = gpu() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let data = images(tmp.path());
        let run = |device: &str| {
            let out = tmp.path().join(device);
            train(&out, &data, 64, 16, 20, device);
            out
        };
        let (flex, gpu) = (run("flex"), run(&name));
        let (per_step, weights) = divergence(&flex, &gpu);
        assert_eq!(per_step.len(), 20);
        for (i, d) in per_step.iter().enumerate() {
            eprintln!(
                "step {:2}: largest |Δ| of losses and D outputs {d:.2e}",
                i + 1
            );
        }
        eprintln!(
            "after 20 steps: largest weight |Δ| {weights:.2e} (bound {:.1e})",
            weight_bound(20)
        );
        assert!(per_step[0] <= 1e-5, "step 1 differs by {}", per_step[0]);
        let worst = per_step.iter().copied().fold(0.0, f32::max);
        assert!(worst <= LOSS_BOUND, "20 steps: losses differ by {worst}");
        assert!(
            weights <= weight_bound(20),
            "20 steps: weights differ by {weights}"
        );
    }

    /// Checkpoints hold host tensors: a run trained on Flex resumes on the GPU (recorded in its
    /// config and the checkpoint's provenance, with a warning that the steps will not repeat
    /// Flex's bit for bit) and comes back to Flex; the steps on the GPU stay within the
    /// side-by-side bounds of an all-Flex run, and its generator draws the same images on both.
    #[test]
    fn a_run_moves_from_flex_to_the_gpu_and_back() {
        let Some((name, device)) = gpu() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let data = images(tmp.path());
        let stop = AtomicBool::new(false);
        let flex_only = tmp.path().join("flex-only");
        train(&flex_only, &data, 16, 8, 9, "flex");
        let moved = tmp.path().join("moved");
        train(&moved, &data, 16, 8, 3, "flex");
        let mut warnings = Vec::new();
        let mut events = |e: Event| {
            if let Event::Warning(w) = e {
                warnings.push(w)
            }
        };
        let to = |device: &str, steps: u64| ResumeOptions {
            max_steps: Some(steps),
            device: Some(device.into()),
            ..Default::default()
        };
        dcgan::train::resume(&moved, to(&name, 6), None, &mut events, &stop).unwrap();
        assert_eq!(
            warnings,
            [format!(
                "resuming on {name} a run trained on flex: the recipe continues, but the two \
                 devices round differently, so the steps will not repeat an uninterrupted run on \
                 flex bit for bit"
            )]
        );
        let on_gpu_ckpt = Checkpoint::load(&moved.join("checkpoints")).unwrap();
        assert_eq!(on_gpu_ckpt.state.step, 6);
        assert_eq!(on_gpu_ckpt.config.device, name);
        assert_eq!(
            on_gpu_ckpt.written_by.as_ref().map(|p| p.device.as_str()),
            Some(name.as_str())
        );
        let config = RunConfig::load(&moved.join("config.json")).unwrap();
        assert_eq!(config.device, name);

        // The generator trained on both draws the same images on both.
        let z: Vec<f32> = (0..4 * 32)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        let flex = Device::flex();
        let on_flex = generate(
            &on_gpu_ckpt.generator(&flex).unwrap(),
            &z,
            32,
            BnMode::Eval,
            &flex,
        );
        let on_gpu = generate(
            &on_gpu_ckpt.generator(&device).unwrap(),
            &z,
            32,
            BnMode::Eval,
            &device,
        );
        let diff = common::max_abs_diff(&on_flex, &on_gpu);
        eprintln!("G after Flex and {name} steps, drawn on both: max |Δ| {diff:.2e}");
        assert!(diff <= 1e-5, "the devices draw different images: {diff}");

        dcgan::train::resume(&moved, to("flex", 9), None, &mut Quiet, &stop).unwrap();
        assert_eq!(
            RunConfig::load(&moved.join("config.json")).unwrap().device,
            "flex"
        );
        let (per_step, weights) = divergence(&flex_only, &moved);
        assert_eq!(per_step.len(), 9);
        assert_eq!(&per_step[..3], [0.0; 3], "steps 1–3 ran on Flex in both");
        let steps: Vec<String> = per_step.iter().map(|d| format!("{d:.1e}")).collect();
        eprintln!(
            "Flex → {name} → Flex against Flex alone: per step [{}], weights {weights:.1e}",
            steps.join(", ")
        );
        let worst = per_step.iter().copied().fold(0.0, f32::max);
        assert!(worst <= LOSS_BOUND, "losses differ by {worst}");
        assert!(weights <= weight_bound(6), "weights differ by {weights}");
    }
}
