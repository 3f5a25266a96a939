//! The dcgan library as the Python extension module `dcgan._dcgan` (PyO3, abi3 for CPython ≥
//! 3.9). The package's Python side (`python/dcgan/__init__.py`) checks arguments, turns arrays
//! into contiguous ones and raises the right exception class; this side runs the library's tasks
//! with the GIL released and reports every failure as `_dcgan.Error(kind, message)`:
//!
//! | kind | from | raised in Python as |
//! | --- | --- | --- |
//! | `input` | bad input (the CLI's exit 2) | `dcgan.InputError` (a `ValueError`) |
//! | `missing` | a file that is not there | `dcgan.MissingFileError` (`InputError` and `FileNotFoundError`) |
//! | `io` | reading or writing failed | `dcgan.IOFailure` (an `OSError`) |
//! | `failed` | a job that failed (divergence, a full disk) | `dcgan.JobError` (a `RuntimeError`) |
//! | `interrupted` | Ctrl-C during `train` (a checkpoint was written) | `KeyboardInterrupt` |
//! | `panic` | a bug: a panic inside the library | `dcgan.InternalError` (a `RuntimeError`) |

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{Device, Tensor, TensorData};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use dcgan::checkpoint::Checkpoint;
use dcgan::config::{ModelConfig, RunConfig};
use dcgan::data::Pixels;
use dcgan::data::download::Locations;
use dcgan::model::BnMode;
use dcgan::progress::{Event, Events, Quiet};

create_exception!(
    _dcgan,
    Error,
    PyException,
    "A failure of the library: args (kind, message); dcgan's Python side re-raises it."
);

/// The library's error as `_dcgan.Error(kind, message)`.
fn to_py(e: dcgan::Error) -> PyErr {
    let kind = match &e {
        dcgan::Error::Interrupted => "interrupted",
        dcgan::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "missing"
        }
        _ if e.exit_code() == dcgan::Error::EXIT_FAILED => "failed",
        dcgan::Error::Io { .. } => "io",
        _ => "input",
    };
    Error::new_err((kind, e.to_string()))
}

/// Run `f` without the GIL, turning the library's errors and any panic into `_dcgan.Error`.
fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> dcgan::Result<T> + Send) -> PyResult<T> {
    py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
        .map_err(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into());
            Error::new_err(("panic", format!("internal error (a bug in dcgan): {what}")))
        })?
        .map_err(to_py)
}

/// The Inception weights: the given file, else `$DCGAN_FID_WEIGHTS`, else the cache's
/// `fid/default_1.pt` (`$DCGAN_CACHE`, else the conventional cache), as the CLI finds them.
fn weights_path(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os("DCGAN_FID_WEIGHTS").map(PathBuf::from))
        .unwrap_or_else(|| locations().fid_weights())
}

fn locations() -> Locations {
    let cache = std::env::var_os("DCGAN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Locations::conventional_cache(
                std::env::var_os("XDG_CACHE_HOME").map(Into::into),
                std::env::var_os("HOME").map(Into::into),
            )
        });
    Locations::with_cache(cache)
}

/// A side of a comparison: a path or name, or a uint8 array `(n, h, w, c)` (C-contiguous; the
/// Python side makes it so).
fn set_input(side: &Bound<'_, PyAny>, what: &str) -> PyResult<dcgan::tasks::fid::SetInput> {
    use dcgan::tasks::fid::SetInput;
    if let Ok(s) = side.extract::<String>() {
        return Ok(SetInput::Named(s));
    }
    let a: PyReadonlyArrayDyn<'_, u8> = side.extract()?;
    let shape: [usize; 4] = a
        .shape()
        .try_into()
        .map_err(|_| Error::new_err(("input", format!("{what}: images must be (N, H, W, C)"))))?;
    let data = a
        .as_slice()
        .map_err(|e| Error::new_err(("input", format!("{what}: {e}"))))?
        .to_vec();
    let pixels = Pixels::new(data, shape, what).map_err(to_py)?;
    Ok(SetInput::Images(Arc::new(pixels)))
}

/// `dcgan fid`: its JSON report. `a` and `b` are two sets (paths, names or uint8 arrays), or,
/// with `generator`, `a` a checkpoint or run directory and `b` the real images
/// (`dcgan fid --checkpoint A --data B`).
#[pyfunction]
#[pyo3(signature = (a, b, generator, n, mode, kid_subsets, kid_subset_size, prdc_k, seed, batch_size, image_size, weights, stats_cache, device))]
#[allow(clippy::too_many_arguments)]
fn fid(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    generator: bool,
    n: usize,
    mode: &str,
    kid_subsets: usize,
    kid_subset_size: usize,
    prdc_k: Option<usize>,
    seed: u64,
    batch_size: usize,
    image_size: Option<usize>,
    weights: Option<PathBuf>,
    stats_cache: bool,
    device: String,
) -> PyResult<String> {
    use dcgan::tasks::fid::{Comparison, FidConfig};
    let comparison = if generator {
        Comparison::Generator {
            checkpoint: a.extract()?,
            data: b.extract()?,
        }
    } else {
        Comparison::Sets {
            a: set_input(a, "array a")?,
            b: set_input(b, "array b")?,
        }
    };
    let config = FidConfig {
        comparison,
        n,
        image_size,
        weights: weights_path(weights),
        stats_cache: stats_cache.then(|| locations().cache.join("fid-stats")),
        kid_subsets,
        kid_subset_size,
        batch_size,
        seed,
        device,
        mode: dcgan::config::FidMode::parse(mode).map_err(to_py)?,
        prdc_k,
        ..Default::default()
    };
    let report = detached(py, || dcgan::tasks::fid::run(config, &mut Quiet))?;
    Ok(serde_json::to_string(&report).expect("a report serialises"))
}

/// Inception's 2048 pool features of each image of a uint8 array `(n, h, w, c)`.
#[pyfunction]
#[pyo3(signature = (images, mode, batch_size, weights, device))]
fn inception_features<'py>(
    py: Python<'py>,
    images: &Bound<'py, PyAny>,
    mode: &str,
    batch_size: usize,
    weights: Option<PathBuf>,
    device: String,
) -> PyResult<Bound<'py, PyAny>> {
    let mode = dcgan::config::FidMode::parse(mode).map_err(to_py)?;
    let dcgan::tasks::fid::SetInput::Images(ds) = set_input(images, "images")? else {
        return Err(Error::new_err((
            "input",
            "images must be an array".to_string(),
        )));
    };
    let n = ds.len();
    let weights = weights_path(weights);
    let feats = detached(py, || {
        dcgan::tasks::fid::inception_features(ds, &weights, mode, batch_size, &device, &mut Quiet)
    })?;
    Ok(PyArray1::from_vec(py, feats)
        .reshape([n, dcgan::eval::inception::FEATURES])?
        .into_any())
}

/// A float32 array's values and shape (C-contiguous: the Python side makes it so).
fn floats(x: &PyReadonlyArrayDyn<'_, f32>, what: &str) -> PyResult<(Vec<f32>, Vec<usize>)> {
    let data = x
        .as_slice()
        .map_err(|e| Error::new_err(("input", format!("{what}: {e}"))))?
        .to_vec();
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::new_err((
            "input",
            format!("{what}: value {} at flat index {i} is not finite", data[i]),
        )));
    }
    Ok((data, x.shape().to_vec()))
}

/// A trained generator, BatchNorm in inference mode.
#[pyclass(frozen)]
struct Generator {
    /// Behind a mutex so the object is shared between threads (burn's modules are `Send`).
    g: std::sync::Mutex<dcgan::model::Generator>,
    model: ModelConfig,
    path: PathBuf,
    step: u64,
}

#[pymethods]
impl Generator {
    /// G of a run directory (its newest checkpoint) or a checkpoint file: its averaged G when
    /// it holds one, unless `raw`.
    #[staticmethod]
    #[pyo3(signature = (path, raw = false))]
    fn load(py: Python<'_>, path: PathBuf, raw: bool) -> PyResult<Self> {
        detached(py, || {
            let ckpt = Checkpoint::load(&path)?;
            let g = if raw {
                ckpt.raw_generator(&Device::flex())?
            } else {
                ckpt.generator(&Device::flex())?
            };
            Ok(Generator {
                g: std::sync::Mutex::new(g),
                model: ckpt.model().clone(),
                path: ckpt.path.clone(),
                step: ckpt.state.step,
            })
        })
    }

    /// Images of latents `z` (n, nz) float32, each of its class in `labels` for a
    /// class-conditional G: (n, nc, size, size) float32 in [-1, 1].
    #[pyo3(signature = (z, labels = None))]
    fn generate<'py>(
        &self,
        py: Python<'py>,
        z: PyReadonlyArrayDyn<'py, f32>,
        labels: Option<Vec<i64>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (z, shape) = floats(&z, "z")?;
        let nz = self.model.latent_dim;
        if shape.len() != 2 || shape[1] != nz || shape[0] == 0 {
            return Err(Error::new_err((
                "input",
                format!("z has shape {shape:?}; this generator takes (N, {nz}) with N ≥ 1"),
            )));
        }
        let labels = match labels_for(&self.model, labels, shape[0], "generator")? {
            Some(y) => y,
            None if self.model.class_count() > 0 => {
                return Err(Error::new_err((
                    "input",
                    format!(
                        "this generator is class-conditional ({} classes): give labels, one class per latent",
                        self.model.class_count()
                    ),
                )));
            }
            None => Vec::new(),
        };
        let images = detached(py, || {
            let g = self.g.lock().unwrap_or_else(|p| p.into_inner());
            Ok(dcgan::model::inference::generate_labelled(
                &g,
                &z,
                &labels,
                BnMode::Eval,
                256,
                &Device::flex(),
            ))
        })?;
        let (c, s) = (self.model.channels, self.model.image_size);
        Ok(PyArray1::from_vec(py, images)
            .reshape([shape[0], c, s, s])?
            .into_any())
    }

    /// `n` latents as `dcgan sample --seed SEED --save-latents` draws them (n, nz).
    fn latents<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> PyResult<Bound<'py, PyAny>> {
        let m = &self.model;
        let z = dcgan::rng::latents(
            &mut dcgan::rng::Stream::SampleLatents.rng(seed),
            n,
            m.latent_dim,
            m.latent_distribution,
        );
        Ok(PyArray1::from_vec(py, z)
            .reshape([n, m.latent_dim])?
            .into_any())
    }

    /// The checkpoint's model configuration, as JSON.
    #[getter]
    fn config_json(&self) -> String {
        serde_json::to_string(&self.model).expect("a config serialises")
    }

    /// The checkpoint file read.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Training steps behind these weights.
    #[getter]
    fn step(&self) -> u64 {
        self.step
    }
}

/// `labels` (one class per item of `n`) checked against a model: None when none were given;
/// an error when given to an unconditional `what`, of the wrong count or out of range.
fn labels_for(
    model: &ModelConfig,
    labels: Option<Vec<i64>>,
    n: usize,
    what: &str,
) -> PyResult<Option<Vec<usize>>> {
    let k = model.class_count();
    let Some(y) = labels else {
        return Ok(None);
    };
    let bad = |m: String| Err(Error::new_err(("input", m)));
    if k == 0 {
        return bad(format!(
            "labels were given, but this {what} is not class-conditional"
        ));
    }
    if y.len() != n {
        return bad(format!("{} labels for {n} inputs", y.len()));
    }
    if let Some((i, v)) = y
        .iter()
        .enumerate()
        .find(|(_, v)| **v < 0 || **v >= k as i64)
    {
        return bad(format!(
            "label {v} at index {i} is not a class of this {what} (0 to {})",
            k - 1
        ));
    }
    Ok(Some(y.into_iter().map(|v| v as usize).collect()))
}

/// A trained discriminator, BatchNorm in inference mode.
#[pyclass(frozen)]
struct Discriminator {
    /// Behind a mutex, as G is.
    d: std::sync::Mutex<dcgan::model::Discriminator>,
    model: ModelConfig,
    path: PathBuf,
}

impl Discriminator {
    /// `x` checked against the model: (n, nc, size, size) float32, as a tensor.
    fn input(&self, x: &PyReadonlyArrayDyn<'_, f32>) -> PyResult<Tensor<4>> {
        let (data, shape) = floats(x, "x")?;
        let (c, s) = (self.model.channels, self.model.image_size);
        if shape.len() != 4 || shape[1..] != [c, s, s] || shape[0] == 0 {
            return Err(Error::new_err((
                "input",
                format!(
                    "x has shape {shape:?}; this discriminator takes (N, {c}, {s}, {s}) with N ≥ 1"
                ),
            )));
        }
        Ok(Tensor::from_data(
            TensorData::new(data, [shape[0], c, s, s]),
            &Device::flex(),
        ))
    }
}

#[pymethods]
impl Discriminator {
    /// D of a run directory (its newest checkpoint) or a checkpoint file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        detached(py, || {
            let ckpt = Checkpoint::load(&path)?;
            Ok(Discriminator {
                d: std::sync::Mutex::new(ckpt.discriminator(&Device::flex())?),
                model: ckpt.model().clone(),
                path: ckpt.path.clone(),
            })
        })
    }

    /// D's probability that each image is real: (n,) float32. A class-conditional D given
    /// `labels` adds its class term; without them it scores the class-agnostic part.
    #[pyo3(signature = (x, labels = None))]
    fn probabilities<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f32>,
        labels: Option<Vec<i64>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let x = self.input(&x)?;
        let n = x.dims()[0];
        let labels = labels_for(&self.model, labels, n, "discriminator")?;
        let k = self.model.class_count();
        let p = detached(py, || {
            let d = self.d.lock().unwrap_or_else(|p| p.into_inner());
            let y = labels.map(|y| {
                let one_hot = dcgan::model::inference::one_hot(&y, k);
                Tensor::<2>::from_data(TensorData::new(one_hot, [n, k]), &Device::flex())
            });
            Ok(host(burn::tensor::activation::sigmoid(d.forward_labelled(
                x,
                BnMode::Eval,
                y,
            ))))
        })?;
        Ok(PyArray1::from_vec(py, p).into_any())
    }

    /// The paper's §5.1 features: every layer max-pooled to 4×4 and concatenated (n, F).
    fn features<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let x = self.input(&x)?;
        let n = x.dims()[0];
        let f = detached(py, || {
            let d = self.d.lock().unwrap_or_else(|p| p.into_inner());
            Ok(host(dcgan::eval::features::pooled(&d, x)))
        })?;
        let dim = f.len() / n;
        Ok(PyArray1::from_vec(py, f).reshape([n, dim])?.into_any())
    }

    /// The checkpoint's model configuration, as JSON.
    #[getter]
    fn config_json(&self) -> String {
        serde_json::to_string(&self.model).expect("a config serialises")
    }

    /// The checkpoint file read.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 values")
}

/// Events to a Python callable (each as its JSON text; the Python side decodes it), checking
/// for Ctrl-C at every event: a KeyboardInterrupt (or one raised by the callable) sets `stop`,
/// and the run checkpoints and ends as the CLI's does on Ctrl-C.
struct PyEvents<'a> {
    callback: Option<Py<PyAny>>,
    stop: &'a AtomicBool,
    /// An exception other than KeyboardInterrupt raised by the callable: re-raised at the end.
    raised: Option<PyErr>,
}

impl Events for PyEvents<'_> {
    fn emit(&mut self, event: Event) {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        let interrupted = Python::attach(|py| {
            let mut result = py.check_signals();
            if result.is_ok()
                && let Some(cb) = &self.callback
            {
                let text = serde_json::to_string(&event).expect("an event serialises");
                result = cb.call1(py, (text,)).map(drop);
            }
            match result {
                Ok(()) => false,
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) => true,
                Err(e) => {
                    self.raised = Some(e);
                    true
                }
            }
        });
        if interrupted {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// `dcgan train`: a new run (`config_json`: a whole RunConfig) in `out`, or the resume of
/// `resume` with `resume_json` (ResumeOptions' fields). Returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (config_json, out, resume, resume_json, weights, stats_cache, on_event, conditional = false))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    config_json: Option<String>,
    out: Option<PathBuf>,
    resume: Option<PathBuf>,
    resume_json: Option<String>,
    weights: Option<PathBuf>,
    stats_cache: bool,
    on_event: Option<Py<PyAny>>,
    conditional: bool,
) -> PyResult<String> {
    use dcgan::tasks::train::{EvalFiles, TrainTask};
    let files = EvalFiles {
        weights: weights_path(weights),
        stats_cache: stats_cache.then(|| locations().cache.join("fid-stats")),
    };
    let task = match (config_json, out, resume) {
        (Some(c), Some(out), None) => {
            let mut config: RunConfig = serde_json::from_str(&c)
                .map_err(|e| Error::new_err(("input", format!("options: {e}"))))?;
            if config.model.channels == 0 {
                // Left to the data: grey data trains a grey model.
                detached(py, || dcgan::tasks::train::resolve_channels(&mut config))?;
            }
            if conditional {
                config.model.classes =
                    detached(py, || dcgan::train::conditional_classes(&config.data))?;
            }
            TrainTask::New {
                config: Box::new(config),
                out,
                files,
            }
        }
        (None, None, Some(run)) => {
            let o: ResumeJson = serde_json::from_str(resume_json.as_deref().unwrap_or("{}"))
                .map_err(|e| Error::new_err(("input", format!("options: {e}"))))?;
            TrainTask::Resume {
                run,
                options: o.into_options().map_err(to_py)?,
                files,
            }
        }
        _ => {
            return Err(Error::new_err((
                "input",
                "give data and out for a new run, or resume for an existing one".to_string(),
            )));
        }
    };
    let stop = AtomicBool::new(false);
    let mut events = PyEvents {
        callback: on_event,
        stop: &stop,
        raised: None,
    };
    let result = py.detach(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dcgan::tasks::train::run(task, &mut events, &stop)
        }))
    });
    if let Some(e) = events.raised.take() {
        return Err(e);
    }
    match result {
        Ok(Ok(report)) => Ok(serde_json::to_string(&report).expect("a report serialises")),
        Ok(Err(e)) => Err(to_py(e)),
        Err(_) => Err(Error::new_err((
            "panic",
            "internal error (a bug in dcgan): training panicked".to_string(),
        ))),
    }
}

/// What a resume may change (`dcgan train --resume`'s options).
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResumeJson {
    epochs: Option<u64>,
    max_steps: Option<u64>,
    data: Option<String>,
    device: Option<String>,
    tensorboard: Option<PathBuf>,
    eval_every: Option<u64>,
    eval_samples: Option<usize>,
    eval_data: Option<String>,
    fid_mode: Option<String>,
    eval_prdc: Option<usize>,
    keep_best: Option<dcgan::config::Metric>,
}

impl ResumeJson {
    fn into_options(self) -> dcgan::Result<dcgan::train::run::ResumeOptions> {
        let fid_mode = self
            .fid_mode
            .map(|m| dcgan::config::FidMode::parse(&m))
            .transpose()?;
        Ok(dcgan::train::run::ResumeOptions {
            epochs: self.epochs,
            max_steps: self.max_steps,
            data: self.data,
            device: self.device,
            tensorboard: self.tensorboard,
            eval: dcgan::config::EvalEdits {
                every: self.eval_every,
                samples: self.eval_samples,
                data: self.eval_data,
                fid_mode,
                prdc_k: self.eval_prdc,
                keep_best: self.keep_best,
            },
        })
    }
}

/// The default run configuration (the paper's recipe), as JSON: the Python side applies the
/// options to it.
#[pyfunction]
fn default_config_json() -> String {
    let mut c = RunConfig::with_model(ModelConfig::default());
    c.model.channels = 0; // left to the data unless given
    serde_json::to_string(&c).expect("a config serialises")
}

/// A panic inside the library, to test that it becomes an exception.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    detached(py, || -> dcgan::Result<()> {
        panic!("deliberate panic for the tests")
    })
}

/// The extension module.
#[pymodule]
fn _dcgan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(fid, m)?)?;
    m.add_function(wrap_pyfunction!(inception_features, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(default_config_json, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_class::<Generator>()?;
    m.add_class::<Discriminator>()?;
    Ok(())
}
