//! The training loop's evaluation hook (`eval.every`): when it is called, what a failed
//! evaluation does (logged, training goes on), the best checkpoint, and that evaluating does
//! not change training.

use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use dcgan::checkpoint::Checkpoint;
use dcgan::config::{EvalConfig, Metric, ModelConfig, RunConfig, TrainConfig};
use dcgan::model::Generator;
use dcgan::progress::{Event, Events};
use dcgan::train::{Evaluate, Scores};

/// Scores from a script, one per call; `Err` where the script says so.
struct Scripted {
    scores: Vec<Option<f64>>,
    prepared: bool,
    calls: Vec<usize>,
}

impl Evaluate for Scripted {
    fn prepare(&mut self, _events: &mut dyn Events) -> dcgan::Result<()> {
        self.prepared = true;
        Ok(())
    }

    fn evaluate(
        &mut self,
        g: &Generator,
        model: &ModelConfig,
        device: &Device,
        _events: &mut dyn Events,
    ) -> dcgan::Result<Scores> {
        assert!(self.prepared, "prepared before the first evaluation");
        // The generator it is given draws images (inner backend, inference mode).
        let z = vec![0.5; 2 * model.latent_dim];
        let images = dcgan::model::inference::generate(
            g,
            &z,
            model.latent_dim,
            dcgan::model::BnMode::Eval,
            device,
        );
        self.calls.push(images.len());
        match self.scores[self.calls.len() - 1] {
            Some(fid) => Ok(Scores {
                fid,
                kid: Some(fid / 100.0),
                prdc: None,
            }),
            None => Err(dcgan::Error::Data("the scripted evaluation fails".into())),
        }
    }
}

fn config(data: &std::path::Path, every: u64) -> RunConfig {
    RunConfig {
        model: ModelConfig {
            image_size: 16,
            channels: 3,
            latent_dim: 8,
            generator_width: 8,
            discriminator_width: 8,
            ..ModelConfig::default()
        },
        optim: Default::default(),
        recipe: Default::default(),
        data: dcgan::config::DataConfig {
            source: data.display().to_string(),
            workers: 1,
            ..Default::default()
        },
        train: TrainConfig {
            batch_size: 4,
            max_steps: Some(7),
            ..Default::default()
        },
        eval: EvalConfig {
            every,
            keep_best: (every > 0).then_some(Metric::Fid),
            ..Default::default()
        },
        device: "flex".into(),
    }
}

#[test]
fn evaluations_are_logged_failures_do_not_stop_training_and_scores_do_not_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("images");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..16u32 {
        image::RgbImage::from_fn(16, 16, |x, y| {
            image::Rgb([(x * 16 + i) as u8, (y * 16) as u8, (i * 15) as u8])
        })
        .save(data.join(format!("{i:02}.png")))
        .unwrap();
    }
    let stop = AtomicBool::new(false);
    let mut warnings = Vec::new();
    let mut events = |e: Event| {
        if let Event::Warning(w) = e {
            warnings.push(w)
        }
    };
    // Scores at steps 3, 6 and 7 (the last): 5.0, a failure, 2.0.
    let mut ev = Scripted {
        scores: vec![Some(5.0), None, Some(2.0)],
        prepared: false,
        calls: vec![],
    };
    let scored = dir.path().join("scored");
    let s =
        dcgan::train::train(config(&data, 3), &scored, Some(&mut ev), &mut events, &stop).unwrap();
    assert_eq!(s.steps, 7);
    assert_eq!(ev.calls, [2 * 3 * 16 * 16; 3]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("step 6: evaluation failed, training goes on:")
            && warnings[0].ends_with("the scripted evaluation fails"),
        "{warnings:?}"
    );
    let log = dcgan::train::run::read_log(&scored.join("log.jsonl"));
    assert_eq!(log.len(), 7);
    let got: Vec<_> = log
        .iter()
        .map(|r| (r.step, r.fid, r.eval_error.is_some()))
        .filter(|r| r.1.is_some() || r.2)
        .collect();
    assert_eq!(
        got,
        [
            (3, Some(5.0), false),
            (6, None, true),
            (7, Some(2.0), false)
        ]
    );
    assert_eq!(log[2].kid, Some(0.05));
    let best = Checkpoint::load(&scored.join("checkpoints/best-fid.safetensors")).unwrap();
    assert_eq!((best.state.step, s.best.as_ref().unwrap().value), (7, 2.0));

    // The same run without evaluations trains to the same losses.
    let plain = dir.path().join("plain");
    dcgan::train::train(
        config(&data, 0),
        &plain,
        None,
        &mut dcgan::progress::Quiet,
        &stop,
    )
    .unwrap();
    let losses = |p: &std::path::Path| -> Vec<(f32, f32)> {
        dcgan::train::run::read_log(&p.join("log.jsonl"))
            .iter()
            .map(|r| (r.loss_d, r.loss_g))
            .collect()
    };
    assert_eq!(losses(&scored), losses(&plain));

    // Evaluations asked for without an evaluator: refused before anything is written.
    let none = dir.path().join("none");
    let err = dcgan::train::train(
        config(&data, 3),
        &none,
        None,
        &mut dcgan::progress::Quiet,
        &stop,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("evaluations need an evaluator"), "{err}");
    assert!(!none.exists());
}
