//! Benchmarks: training images/s, generator latency and throughput, data-loader images/s and
//! peak memory, each the median and minimum of repeated timings after warm-up.

use std::sync::Arc;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use crate::config::{Layer, ModelConfig, OptimConfig};
use crate::data::{self, Dataset, Loader, Transform};
use crate::model::layers::BatchNorm;
use crate::model::{BnMode, Discriminator, Generator};
use crate::optim::Adam;
use crate::rng::{self, Stream};
use crate::train::Gan;
use crate::{Error, Result};

/// Median and minimum of a set of timings, in seconds, and what they mean per item.
#[derive(Serialize, Clone, Debug)]
pub struct Timing {
    /// Timed runs.
    pub runs: usize,
    /// Median seconds of a run.
    pub median_s: f64,
    /// Fastest run, in seconds.
    pub min_s: f64,
    /// Items (images) per timed run.
    pub items: usize,
    /// items / median_s.
    pub items_per_s_median: f64,
    /// items / min_s.
    pub items_per_s_best: f64,
}

impl Timing {
    /// The timing of runs that took `secs` seconds each, `items` items a run.
    pub fn from(mut secs: Vec<f64>, items: usize) -> Self {
        secs.sort_by(|a, b| a.total_cmp(b));
        let n = secs.len();
        let median = if n % 2 == 1 {
            secs[n / 2]
        } else {
            0.5 * (secs[n / 2 - 1] + secs[n / 2])
        };
        Self {
            runs: n,
            median_s: median,
            min_s: secs[0],
            items,
            items_per_s_median: items as f64 / median,
            items_per_s_best: items as f64 / secs[0],
        }
    }
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn time_runs(warmup: usize, runs: usize, mut f: impl FnMut()) -> Vec<f64> {
    for _ in 0..warmup {
        f();
    }
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect()
}

/// Training iterations (G forward, D step, G step, both Adam updates) on random images.
pub fn train(
    model: &ModelConfig,
    batch: usize,
    warmup: usize,
    runs: usize,
    device: &Device,
) -> Timing {
    let device = device.clone().autodiff();
    let mut gan = Gan::paper(
        Generator::new(model, 1, &device),
        Discriminator::new(model, 1, &device),
        Adam::new(OptimConfig::default()),
        Adam::new(OptimConfig::default()),
    );
    let s = model.image_size;
    let mut step = 0u64;
    let secs = time_runs(warmup, runs, || {
        let mut r = Stream::BenchInputs { step }.rng(7);
        let px: Vec<f32> = (0..batch * model.channels * s * s)
            .map(|_| rand::Rng::random_range(&mut r, -1.0f32..1.0))
            .collect();
        let z = rng::latents(&mut r, batch, model.latent_dim, model.latent_distribution);
        let real =
            Tensor::<4>::from_data(TensorData::new(px, [batch, model.channels, s, s]), &device);
        let z = Tensor::<2>::from_data(TensorData::new(z, [batch, model.latent_dim]), &device);
        let stats = gan.iteration(real, z); // reads the losses back: the step has completed
        assert!(stats.loss_d.is_finite());
        step += 1;
    });
    Timing::from(secs, batch)
}

/// G forward in inference mode, including the copy of the images back to the host.
pub fn generate(
    model: &ModelConfig,
    batch: usize,
    warmup: usize,
    runs: usize,
    device: &Device,
) -> Timing {
    let g = Generator::new(model, 1, device);
    let z = rng::latents(
        &mut Stream::BenchInputs { step: 0 }.rng(7),
        batch,
        model.latent_dim,
        model.latent_distribution,
    );
    let secs = time_runs(warmup, runs, || {
        let out = crate::model::inference::generate(&g, &z, model.latent_dim, BnMode::Eval, device);
        assert_eq!(
            out.len(),
            batch * model.channels * model.image_size * model.image_size
        );
    });
    Timing::from(secs, batch)
}

/// The loader (decode + resize + crop + scale, in parallel) over `batches` batches of a data set.
pub fn loader(
    source: &str,
    transform: Transform,
    batch: usize,
    batches: usize,
    workers: usize,
    runs: usize,
) -> Result<(String, Timing)> {
    let ds: Arc<dyn Dataset> = Arc::from(data::open(source, crate::config::Background::WHITE)?);
    let described = ds.describe();
    let n = ds.len().min(batch.saturating_mul(batches));
    // A data set smaller than one batch is measured as one batch of what it has.
    let batch = batch.min(n).max(1);
    let mut failure = None;
    let secs = time_runs(1, runs, || {
        if failure.is_some() {
            return;
        }
        let order: Vec<usize> = (0..n).collect();
        match Loader::start(ds.clone(), order, batch, 0, transform, workers, 4) {
            Ok(loader) => match loader.map(|b| b.map(|b| b.count)).sum::<Result<usize>>() {
                Ok(0) => {
                    failure = Some(Error::Data(format!(
                        "{source}: none of the {n} items measured could be read"
                    )))
                }
                Ok(_) => {}
                Err(e) => failure = Some(e),
            },
            Err(e) => failure = Some(e),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok((described, Timing::from(secs, n / batch * batch)))
}

/// One operation of the training iteration, timed in isolation.
#[derive(Serialize, Clone, Debug)]
pub struct OpTiming {
    /// The kind of work: convolution, transposed convolution, BatchNorm, activation, loss, optimizer.
    pub category: &'static str,
    /// The layer or op (`D.conv2 fwd`, ...).
    pub name: String,
    /// Median seconds of one call.
    pub seconds: f64,
    /// How often one training iteration runs it.
    pub per_iteration: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median seconds of `f` over `runs` runs after one warm-up; `f` must finish its work (read a
/// value back) before returning.
fn time_median(runs: usize, mut f: impl FnMut()) -> f64 {
    median(time_runs(1, runs, &mut f))
}

fn random4(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
    let n = shape.iter().product();
    Tensor::from_data(
        TensorData::new(
            rng::normal(&mut Stream::BenchInputs { step: seed }.rng(9), n, 0.0, 1.0),
            shape,
        ),
        device,
    )
}

/// Where the training iteration's time goes: every convolution, BatchNorm, activation, the loss and
/// the optimizer updates, each timed alone on the autodiff device (forward, and forward + backward
/// minus forward), multiplied by how often an iteration runs it. The D step runs D on a real and a
/// fake batch (forward, backward with weight gradients); the G step runs D once more (forward,
/// backward to its input only) and G (forward, backward). Input shapes come from the model's
/// layer plan ([`ModelConfig::generator_plan`]).
pub fn profile(model: &ModelConfig, batch: usize, runs: usize, device: &Device) -> Vec<OpTiming> {
    let ad = device.clone().autodiff();
    let mut p = Profiler {
        batch,
        runs,
        device: ad.clone(),
        out: Vec::new(),
    };
    let g = Generator::new(model, 1, &ad);
    let d = Discriminator::new(model, 1, &ad);
    let (g_plan, d_plan) = (model.generator_plan(), model.discriminator_plan());
    p.convolutions(&g, &d, &g_plan, &d_plan);
    p.batch_norms(&g, &d, &g_plan, &d_plan, model.leaky_slope);
    p.activations(&g_plan, &d_plan, model.leaky_slope);
    p.loss();
    p.adam(&g, &d, model);
    p.out
}

/// One convolution-like layer to time: its input shape, how often an iteration runs it forward,
/// whether its backward pass needs the input's gradient, and how many backward passes compute
/// the weight gradient and how many the input gradient only.
struct ConvCase {
    category: &'static str,
    name: String,
    x_shape: [usize; 4],
    forward_count: usize,
    input_gradient: bool,
    backward_counts: (usize, usize),
}

/// The timings of [`profile`], collected part by part.
struct Profiler {
    batch: usize,
    runs: usize,
    device: Device,
    out: Vec<OpTiming>,
}

fn sync(t: Tensor<4>) {
    let _ = t.slice([0..1, 0..1, 0..1, 0..1]).into_data();
}

impl Profiler {
    fn push(&mut self, category: &'static str, name: String, seconds: f64, per_iteration: usize) {
        self.out.push(OpTiming {
            category,
            name,
            seconds,
            per_iteration,
        });
    }

    /// The input `[batch, channels, side, side]` of `layer`, or of what follows it (`output`).
    fn shape(&self, layer: &Layer, output: bool) -> [usize; 4] {
        match output {
            false => [self.batch, layer.in_channels, layer.in_side, layer.in_side],
            true => [
                self.batch,
                layer.out_channels,
                layer.out_side,
                layer.out_side,
            ],
        }
    }

    /// Forward, and forward + backward of one layer.
    fn conv_like(&mut self, case: ConvCase, forward: &dyn Fn(Tensor<4>) -> Tensor<4>) {
        let x = random4(case.x_shape, 1, &self.device);
        let f = time_median(self.runs, || sync(forward(x.clone())));
        let xg = if case.input_gradient {
            x.clone().require_grad()
        } else {
            x.clone()
        };
        let fb = time_median(self.runs, || {
            let y = forward(xg.clone());
            let _ = y.sum().backward();
        });
        let (with_weights, input_only) = case.backward_counts;
        self.push(
            case.category,
            format!("{} fwd", case.name),
            f,
            case.forward_count,
        );
        self.push(
            case.category,
            format!("{} bwd", case.name),
            (fb - f).max(0.0),
            with_weights + input_only,
        );
    }

    /// G's transposed convolutions (its first layer's input, z, needs no gradient; forward once,
    /// backward once), then D's convolutions (3 forwards; backward with weight gradients twice in
    /// the D step, to the input only once in the G step, where D's first layer's input gradient is
    /// G's output gradient).
    fn convolutions(
        &mut self,
        g: &Generator,
        d: &Discriminator,
        g_plan: &[Layer],
        d_plan: &[Layer],
    ) {
        let transposed = "transposed convolution";
        if let Some(conv) = &g.project_conv {
            let c = conv.clone();
            let case = ConvCase {
                category: transposed,
                name: "G.project".into(),
                x_shape: self.shape(&g_plan[0], false),
                forward_count: 1,
                input_gradient: false,
                backward_counts: (1, 0),
            };
            self.conv_like(case, &move |x| c.forward(x));
        }
        for (i, b) in g.blocks.iter().enumerate() {
            let c = b.conv.clone();
            let case = ConvCase {
                category: transposed,
                name: format!("G.block{i}"),
                x_shape: self.shape(&g_plan[i + 1], false),
                forward_count: 1,
                input_gradient: true,
                backward_counts: (1, 0),
            };
            self.conv_like(case, &move |x| c.forward(x));
        }
        let c = g.output.clone();
        let case = ConvCase {
            category: transposed,
            name: "G.output".into(),
            x_shape: self.shape(g_plan.last().expect("G has an output layer"), false),
            forward_count: 1,
            input_gradient: true,
            backward_counts: (1, 0),
        };
        self.conv_like(case, &move |x| c.forward(x));
        for (i, b) in d.blocks.iter().enumerate() {
            let c = b.conv.clone();
            let case = ConvCase {
                category: "convolution",
                name: format!("D.block{i}"),
                x_shape: self.shape(&d_plan[i], false),
                forward_count: 3,
                input_gradient: i > 0,
                backward_counts: (2, 1),
            };
            self.conv_like(case, &move |x| c.forward(x));
        }
        if let Some(c) = &d.output_conv {
            let c = c.clone();
            let case = ConvCase {
                category: "convolution",
                name: "D.output".into(),
                x_shape: self.shape(d_plan.last().expect("D has an output layer"), false),
                forward_count: 3,
                input_gradient: true,
                backward_counts: (2, 1),
            };
            self.conv_like(case, &move |x| c.forward(x));
        }
    }

    /// BatchNorm (train mode) with the activation after it, as the model runs them (one fused
    /// kernel on Flex), on a layer's output: `count` times an iteration.
    fn batch_norm(
        &mut self,
        name: String,
        bn: &BatchNorm,
        shape: [usize; 4],
        count: usize,
        slope: f64,
    ) {
        let x = random4(shape, 2, &self.device);
        let f = time_median(self.runs, || {
            sync(bn.forward_act(x.clone(), BnMode::Train, slope))
        });
        let xg = x.clone().require_grad();
        let fb = time_median(self.runs, || {
            let _ = bn
                .forward_act(xg.clone(), BnMode::Train, slope)
                .sum()
                .backward();
        });
        let category = "batchnorm+activation";
        self.push(category, format!("{name} fwd"), f, count);
        self.push(category, format!("{name} bwd"), (fb - f).max(0.0), count);
    }

    /// G's k BatchNorms once, D's k−1 three times.
    fn batch_norms(
        &mut self,
        g: &Generator,
        d: &Discriminator,
        g_plan: &[Layer],
        d_plan: &[Layer],
        slope: f64,
    ) {
        if g.project_conv.is_some() {
            let shape = self.shape(&g_plan[0], true);
            self.batch_norm("G.project_norm".into(), &g.project_norm, shape, 1, 0.0);
        }
        for (i, b) in g.blocks.iter().enumerate() {
            let shape = self.shape(&g_plan[i + 1], true);
            self.batch_norm(format!("G.block{i}.norm"), &b.norm, shape, 1, 0.0);
        }
        for (i, b) in d.blocks.iter().enumerate() {
            if let Some(n) = &b.norm {
                let shape = self.shape(&d_plan[i], true);
                self.batch_norm(format!("D.block{i}.norm"), n, shape, 3, slope);
            }
        }
    }

    /// The activations that stand alone: tanh at G's output, LeakyReLU after D's first layer.
    fn activations(&mut self, g_plan: &[Layer], d_plan: &[Layer], slope: f64) {
        let act = |p: &mut Self,
                   name: String,
                   shape: [usize; 4],
                   count: usize,
                   f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let x = random4(shape, 3, &p.device);
            let fw = time_median(p.runs, || sync(f(x.clone())));
            let xg = x.clone().require_grad();
            let fb = time_median(p.runs, || {
                let _ = f(xg.clone()).sum().backward();
            });
            p.push("activation", format!("{name} fwd"), fw, count);
            p.push(
                "activation",
                format!("{name} bwd"),
                (fb - fw).max(0.0),
                count,
            );
        };
        let output = self.shape(g_plan.last().expect("G has an output layer"), true);
        act(self, "G tanh".into(), output, 1, &crate::kernels::tanh);
        let first = self.shape(&d_plan[0], true);
        let side = first[2];
        act(
            self,
            format!("D leaky relu {side}x{side}"),
            first,
            3,
            &move |x| crate::model::leaky_relu(x, slope),
        );
    }

    /// The loss on D's logits: three BCE terms per iteration.
    fn loss(&mut self) {
        let logits = Tensor::<1>::from_data(
            TensorData::new(
                rng::normal(
                    &mut Stream::BenchInputs { step: 0 }.rng(4),
                    self.batch,
                    0.0,
                    1.0,
                ),
                [self.batch],
            ),
            &self.device,
        )
        .require_grad();
        let fb = time_median(self.runs, || {
            let _ = crate::train::step::bce_with_logits(logits.clone(), true).backward();
        });
        self.push("loss", "BCE fwd+bwd".into(), fb, 3);
    }

    /// Adam: one update of each network from a full set of gradients (the update alone is timed).
    fn adam(&mut self, g: &Generator, d: &Discriminator, model: &ModelConfig) {
        let z = Tensor::<2>::zeros([2, model.latent_dim], &self.device);
        let g_update = adam_update_seconds(
            g,
            self.runs,
            |g| g.forward(z.clone(), BnMode::Train).sum(),
            |g| g.output.weight.val(),
        );
        self.push("optimizer", "Adam update of G".into(), g_update, 1);
        let s = model.image_size;
        let x = random4([2, model.channels, s, s], 5, &self.device);
        let d_update = adam_update_seconds(
            d,
            self.runs,
            |d| d.forward(x.clone(), BnMode::Train).sum(),
            |d| d.blocks[0].conv.weight.val(),
        );
        self.push("optimizer", "Adam update of D".into(), d_update, 1);
    }
}

/// Median seconds of one Adam update of `module` from the gradients of `loss` (the backward pass
/// is not timed); `read_back` names a tensor of the updated module to wait for.
fn adam_update_seconds<M: burn::module::Module>(
    module: &M,
    runs: usize,
    loss: impl Fn(&M) -> Tensor<1>,
    read_back: impl Fn(&M) -> Tensor<4>,
) -> f64 {
    let mut opt = Adam::new(OptimConfig::default());
    median(
        (0..runs)
            .map(|_| {
                let mut grads =
                    burn::optim::GradientsParams::from_grads(loss(module).backward(), module);
                let t = Instant::now();
                let updated = opt.update(module.clone(), &mut grads);
                let _ = read_back(&updated).into_data();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}
