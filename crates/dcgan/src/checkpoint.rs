//! Checkpoints: one safetensors file per checkpoint holding G, D, both Adam states, and in its
//! metadata the run's config and counters. Self-contained: `sample`, `generate` and
//! `export-torch` need nothing else, and `train --resume` continues from it exactly.
//!
//! Tensor names: `generator.<path>`, `discriminator.<path>`, `optimizer.generator.{m,v}.<path>`,
//! `optimizer.discriminator.{m,v}.<path>`, and with `--ema-decay` the averaged G,
//! `generator_ema.<path>`. Metadata: one entry, `dcgan`, holding the JSON of
//! `{format, config, state}` (RunConfig and TrainState), so a checkpoint's bytes are a function of
//! its content.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config::{ModelConfig, RunConfig};
use crate::error::{Error, IoContext, Result};
use crate::io::safetensors_file;
use crate::io::{TensorMap, load_named, named_tensors};
use crate::model::{Discriminator, Generator};
use crate::optim::Adam;

/// The prefix of the averaged G's tensors.
const AVERAGE: &str = "generator_ema.";

/// Set by `--raw-generator`: commands that sample, score or export use the trained G even where
/// a checkpoint holds an averaged one.
static PREFER_RAW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Make [`Checkpoint::generator`] return the trained G rather than its average, in this process
/// (`dcgan --raw-generator …`).
pub fn prefer_raw_generator(raw: bool) {
    PREFER_RAW.store(raw, std::sync::atomic::Ordering::Relaxed);
}

/// The `format` entry of a checkpoint's metadata.
pub const FORMAT: &str = "dcgan-checkpoint-v1";
const META_KEY: &str = "dcgan";

/// The checkpoint's metadata: what it is, the run's config and its counters, and what wrote it.
#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    config: RunConfig,
    state: TrainState,
    /// Absent in checkpoints written before it was recorded.
    #[serde(default)]
    written_by: Option<Provenance>,
}

/// What wrote a checkpoint: for a person reading it back (the numbers do not depend on it:
/// results are the same on any thread count, see `kernels::conv`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Provenance {
    /// dcgan's version and the git commit it was built from.
    pub version: String,
    /// The git commit (or `unknown`).
    pub commit: String,
    /// Rayon's threads, and the compute device of the run.
    pub threads: usize,
    /// The compute device.
    pub device: String,
}

impl Provenance {
    /// This build, now, for a run on `device`.
    pub fn current(device: &str) -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").into(),
            commit: env!("DCGAN_GIT_COMMIT").into(),
            threads: rayon::current_num_threads(),
            device: device.into(),
        }
    }
}

/// The counters that, with the seed, determine everything still to come in a run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TrainState {
    /// Training iterations done.
    pub step: u64,
    /// The epoch in progress (0-based).
    pub epoch: u64,
    /// The next batch of `epoch` to train on. The epoch's order is `rng::permutation(seed, epoch)`.
    pub batch_in_epoch: u64,
    /// Training images taken so far.
    pub images_seen: u64,
    /// Unreadable images skipped so far.
    pub bad_images: u64,
    /// ... in the epoch in progress.
    #[serde(default)]
    pub bad_in_epoch: u64,
    /// Items in the data set when the run started (a resume on other data is refused).
    pub data_len: u64,
    /// What the data looked like when the run started (a resume on changed data warns).
    #[serde(default)]
    pub data_fingerprint: Option<crate::data::Fingerprint>,
    /// The best score so far of `eval.keep_best` (`checkpoints/best-<metric>.safetensors`).
    #[serde(default)]
    pub best: Option<Best>,
    /// D's updates so far, Adam's step count for D: `step` × `--d-steps`, less at epochs' ends
    /// (absent in checkpoints written before it was recorded, which had one D update a step).
    #[serde(default)]
    pub d_updates: Option<u64>,
}

/// A run's best evaluation so far.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Best {
    /// FID or KID.
    pub metric: crate::config::Metric,
    /// The step it was measured at.
    pub step: u64,
    /// Its value.
    pub value: f64,
}

/// A checkpoint as read from disk.
pub struct Checkpoint {
    /// The file it was read from.
    pub path: PathBuf,
    /// The run's configuration, as saved with it.
    pub config: RunConfig,
    /// Where training was.
    pub state: TrainState,
    /// What wrote it (None for checkpoints from before this was recorded).
    pub written_by: Option<Provenance>,
    tensors: TensorMap,
}

fn section(tensors: &TensorMap, prefix: &str) -> TensorMap {
    tensors
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
        .collect()
}

fn add_section(out: &mut TensorMap, prefix: &str, tensors: TensorMap) {
    for (k, v) in tensors {
        out.insert(format!("{prefix}{k}"), v);
    }
}

/// Serialise G, D and (if present) the optimisers.
pub fn encode(
    config: &RunConfig,
    state: &TrainState,
    generator: &Generator,
    discriminator: Option<&Discriminator>,
    optimizers: Option<(&Adam, &Adam)>,
) -> Vec<u8> {
    encode_with_average(config, state, generator, None, discriminator, optimizers)
}

/// Serialise G, the averaged G if any, D and the optimisers (if present).
pub fn encode_with_average(
    config: &RunConfig,
    state: &TrainState,
    generator: &Generator,
    average: Option<&Generator>,
    discriminator: Option<&Discriminator>,
    optimizers: Option<(&Adam, &Adam)>,
) -> Vec<u8> {
    let mut tensors = TensorMap::new();
    add_section(&mut tensors, "generator.", named_tensors(generator));
    if let Some(a) = average {
        add_section(&mut tensors, AVERAGE, named_tensors(a));
    }
    if let Some(d) = discriminator {
        add_section(&mut tensors, "discriminator.", named_tensors(d));
    }
    if let Some((g, d)) = optimizers {
        add_section(&mut tensors, "optimizer.generator.", g.state_tensors());
        add_section(&mut tensors, "optimizer.discriminator.", d.state_tensors());
    }
    serialize(
        &tensors,
        &Header {
            format: FORMAT.into(),
            config: config.clone(),
            state: state.clone(),
            written_by: Some(Provenance::current(&config.device)),
        },
    )
}

/// A checkpoint file's bytes: `tensors`, and `header` as the one metadata entry (safetensors
/// writes its metadata map in hash order, so several entries would make the same checkpoint
/// serialise to different bytes in different processes).
fn serialize(tensors: &TensorMap, header: &Header) -> Vec<u8> {
    let mut meta = HashMap::new();
    meta.insert(
        META_KEY.to_string(),
        serde_json::to_string(header).expect("header serialises"),
    );
    safetensors_file::serialize(tensors, &HashMap::new(), meta)
}

/// `checkpoints/step-00001234.safetensors`.
pub fn file_name(step: u64) -> String {
    format!("step-{step:08}.safetensors")
}

/// Checkpoints in a folder, oldest first, by step.
pub fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix("step-")
            .and_then(|s| s.strip_suffix(".safetensors"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push((step, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A run directory (its newest checkpoint) or a checkpoint file.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        let dir = if path.join("checkpoints").is_dir() {
            path.join("checkpoints")
        } else {
            path.to_path_buf()
        };
        return list(&dir)?
            .pop()
            .map(|(_, p)| p)
            .ok_or_else(|| Error::format(path, "no checkpoint (step-*.safetensors) in this run"));
    }
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    Ok(path.to_path_buf())
}

impl Checkpoint {
    /// Read a checkpoint file or a run's newest checkpoint.
    pub fn load(path: &Path) -> Result<Self> {
        let path = resolve(path)?;
        let content = safetensors_file::read(&path)?;
        let Some(text) = content.metadata.get(META_KEY) else {
            return Err(Error::format(
                &path,
                "not a dcgan checkpoint (no dcgan header in its metadata; to use PyTorch weights, run `dcgan import-torch`)",
            ));
        };
        let header: Header = serde_json::from_str(text)
            .map_err(|e| Error::format(&path, format!("unreadable checkpoint header: {e}")))?;
        if header.format != FORMAT {
            return Err(Error::format(
                &path,
                format!("checkpoint format {} is not {FORMAT}", header.format),
            ));
        }
        header.config.validate()?;
        let (config, state) = (header.config, header.state);
        Ok(Self {
            path,
            config,
            state,
            written_by: header.written_by,
            tensors: content.tensors,
        })
    }

    /// This checkpoint with only its generator(s): G, and the averaged G when there is one, with
    /// the same config, counters and provenance, as safetensors bytes. D and both optimisers are
    /// left out (a quarter of the size for the 32×32 networks), so the result samples, scores and
    /// exports exactly as this checkpoint does but cannot be resumed.
    pub fn generator_only(&self) -> Vec<u8> {
        let tensors: TensorMap = self
            .tensors
            .iter()
            .filter(|(k, _)| k.starts_with("generator.") || k.starts_with(AVERAGE))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serialize(
            &tensors,
            &Header {
                format: FORMAT.into(),
                config: self.config.clone(),
                state: self.state.clone(),
                written_by: self.written_by.clone(),
            },
        )
    }

    pub(crate) fn has_discriminator(&self) -> bool {
        self.tensors.keys().any(|k| k.starts_with("discriminator."))
    }

    pub(crate) fn has_optimizers(&self) -> bool {
        self.tensors.keys().any(|k| k.starts_with("optimizer."))
    }

    /// G's and D's architecture.
    pub fn model(&self) -> &ModelConfig {
        &self.config.model
    }

    /// The G to sample from, on `device`: the averaged G when the checkpoint holds one (unless
    /// [`prefer_raw_generator`]), else the trained G.
    pub fn generator(&self, device: &Device) -> Result<Generator> {
        if self.has_average() && !PREFER_RAW.load(std::sync::atomic::Ordering::Relaxed) {
            return self.average_generator(device);
        }
        self.raw_generator(device)
    }

    /// [`Checkpoint::generator`] for a tool that draws from latents alone (`what` names it): an
    /// error naming the checkpoint for a class-conditional G, which also needs a class.
    pub fn unconditional_generator(&self, device: &Device, what: &str) -> Result<Generator> {
        let k = self.model().class_count();
        if k > 0 {
            return Err(Error::format(
                &self.path,
                format!(
                    "is a class-conditional model ({k} classes); {what} draws from latents alone and does not take classes yet (sample --class, generate --labels and fid do)"
                ),
            ));
        }
        self.generator(device)
    }

    /// The trained G (the one optimised), on `device`.
    pub fn raw_generator(&self, device: &Device) -> Result<Generator> {
        let g = Generator::new(&self.config.model, 0, device);
        load_named(g, &section(&self.tensors, "generator."), &self.path)
    }

    /// True when the checkpoint holds an averaged G (`--ema-decay`).
    pub fn has_average(&self) -> bool {
        self.tensors.keys().any(|k| k.starts_with(AVERAGE))
    }

    /// The averaged G, on `device` (an error for checkpoints without one).
    pub fn average_generator(&self, device: &Device) -> Result<Generator> {
        let t = section(&self.tensors, AVERAGE);
        if t.is_empty() {
            return Err(Error::format(
                &self.path,
                "this checkpoint holds no averaged generator (the run had no --ema-decay)",
            ));
        }
        load_named(
            Generator::new(&self.config.model, 0, device),
            &t,
            &self.path,
        )
    }

    /// Which G [`Checkpoint::generator`] returns, for reports: `averaged` or `trained`.
    pub fn generator_kind(&self) -> &'static str {
        if self.has_average() && !PREFER_RAW.load(std::sync::atomic::Ordering::Relaxed) {
            "averaged (EMA)"
        } else {
            "trained"
        }
    }

    /// D with the saved weights, on `device` (an error for checkpoints without D).
    pub fn discriminator(&self, device: &Device) -> Result<Discriminator> {
        let d = Discriminator::new(&self.config.model, 0, device);
        let t = section(&self.tensors, "discriminator.");
        if t.is_empty() {
            return Err(Error::format(
                &self.path,
                "this checkpoint holds no discriminator",
            ));
        }
        load_named(d, &t, &self.path)
    }

    /// G's and D's optimisers, to continue training on `device` (an autodiff device) with the
    /// optimiser settings `optim` (the run's config.json, which a user may have changed).
    pub(crate) fn optimizers(
        &self,
        device: &Device,
        optim: &crate::config::OptimConfig,
    ) -> Result<(Adam, Adam)> {
        let inner = device.clone().inner();
        let opt = |name: &str, optim: crate::config::OptimConfig, updates: u64| {
            let moments = section(&self.tensors, &format!("optimizer.{name}."));
            self.check_moments(name, &moments)?;
            Adam::load_state(optim, updates, &moments, &inner, &self.path)
        };
        if !self.has_optimizers() {
            return Err(Error::format(
                &self.path,
                "holds no optimizer state (imported weights, or a generator alone from export-generator); it can be sampled from but not resumed",
            ));
        }
        Ok((
            opt("generator", optim.generator(), self.state.step)?,
            opt(
                "discriminator",
                optim.discriminator(),
                self.state.d_updates.unwrap_or(self.state.step),
            )?,
        ))
    }

    /// Every moment `m.<path>` / `v.<path>` of network `net` belongs to a weight `<net>.<path>`
    /// of the same number of elements: a damaged or hand-made checkpoint is refused here, naming
    /// the tensor, rather than failing inside the first update.
    fn check_moments(&self, net: &str, moments: &TensorMap) -> Result<()> {
        for (key, t) in moments {
            let Some(path) = key.strip_prefix("m.").or_else(|| key.strip_prefix("v.")) else {
                return Err(Error::format(
                    &self.path,
                    format!(
                        "optimizer.{net}.{key} is neither a first (m.) nor a second (v.) moment"
                    ),
                ));
            };
            let Some(weight) = self.tensors.get(&format!("{net}.{path}")) else {
                return Err(Error::mismatch(
                    &self.path,
                    format!("optimizer.{net}.{key} has no weight {net}.{path}"),
                ));
            };
            if t.data.len() != weight.data.len() {
                return Err(Error::mismatch(
                    &self.path,
                    format!(
                        "optimizer.{net}.{key} holds {} values but {net}.{path} has {}",
                        t.data.len(),
                        weight.data.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}
