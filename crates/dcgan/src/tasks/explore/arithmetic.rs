//! `arithmetic`: concept vectors and their arithmetic, and the turn vector (paper Figs. 7, 8).

use std::path::PathBuf;

use serde::Serialize;

use super::{Input, read_sheet, rows_of};
use crate::explore::{self, arithmetic};
use crate::latent::Expression;
use crate::rng::Stream;
use crate::tasks::{Events, at_least_one, at_most, in_range};
use crate::{Error, Result};

/// Exemplars of a concept: indices on the sheet, or a `.npy` of latents.
#[derive(Clone, Debug)]
pub enum Exemplars {
    /// Comma-separated indices on the sample sheet.
    Indices(String),
    /// A `.npy` file of latents.
    File(PathBuf),
}

/// A concept named in the expression, with its exemplars.
#[derive(Clone, Debug)]
pub struct ConceptSpec {
    /// Its name, as used in the expression.
    pub name: String,
    /// Its exemplars.
    pub exemplars: Exemplars,
}

impl ConceptSpec {
    /// `NAME=3,7,12` (sheet indices) or `NAME=file.npy` (latents).
    pub fn parse(spec: &str) -> Result<Self> {
        let (name, what) = spec
            .split_once('=')
            .filter(|(n, w)| !n.trim().is_empty() && !w.trim().is_empty())
            .ok_or_else(|| {
                Error::config("concept", spec, "must be NAME=3,7,12 or NAME=file.npy")
            })?;
        let exemplars = if what.ends_with(".npy") {
            Exemplars::File(PathBuf::from(what))
        } else {
            Exemplars::Indices(what.to_string())
        };
        Ok(Self {
            name: name.trim().to_string(),
            exemplars,
        })
    }
}

/// The turn vector: left- and right-facing samples on the sheet, and the samples moved along it.
#[derive(Clone, Debug)]
pub struct TurnSpec {
    /// Sheet indices of left-facing samples.
    pub left: String,
    /// Sheet indices of right-facing samples.
    pub right: String,
    /// Sheet indices of the samples to move; `None`: 4 random latents.
    pub bases: Option<String>,
    /// 9 steps from −reach to +reach: the paper's Fig. 8 shows a few poses each way.
    pub steps: usize,
    /// 1: the whole vector each way.
    pub reach: f32,
}

impl Default for TurnSpec {
    fn default() -> Self {
        Self {
            left: String::new(),
            right: String::new(),
            bases: None,
            steps: 9,
            reach: 1.0,
        }
    }
}

/// Concept arithmetic (Fig. 7) and the turn vector (Fig. 8).
#[derive(Clone, Debug)]
pub struct ArithmeticConfig {
    /// The checkpoint and device.
    pub input: Input,
    /// Folder for `arithmetic.png` and `turn.png`.
    pub out: PathBuf,
    /// The sample sheet's latents (`dcgan sample --save-latents`) that indices refer to.
    pub sheet: Option<PathBuf>,
    /// The concepts the expression names.
    pub concepts: Vec<ConceptSpec>,
    /// Such as `smiling_woman - neutral_woman + neutral_man`.
    pub expression: Option<String>,
    /// 8 neighbours Y + U(−noise, noise): the paper's Fig. 7 shows 8 around each result.
    pub neighbours: usize,
    /// 0.25: the paper's Fig. 7.
    pub noise: f32,
    /// The turn vector to draw, if any.
    pub turn: Option<TurnSpec>,
    /// Seed of the neighbours' noise and of the random samples turned.
    pub seed: u64,
}

impl Default for ArithmeticConfig {
    fn default() -> Self {
        Self {
            input: Input::default(),
            out: PathBuf::new(),
            sheet: None,
            concepts: Vec::new(),
            expression: None,
            neighbours: 8,
            noise: 0.25,
            turn: None,
            seed: 0,
        }
    }
}

impl ArithmeticConfig {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        if self.expression.is_none() && self.turn.is_none() {
            return Err(Error::config(
                "arguments",
                "none",
                "give --expr with --concept, or --turn-left and --turn-right",
            ));
        }
        at_most("neighbours", self.neighbours, 10_000, "images of one row")?;
        in_range("noise", self.noise as f64, 0.0, 1e6)?;
        if let Some(t) = &self.turn {
            at_least_one("turn steps", t.steps)?;
            at_most("turn steps", t.steps, 10_000, "images of one row")?;
            in_range("turn reach", t.reach as f64, -1e6, 1e6)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// The arithmetic's figure and numbers.
pub struct ArithmeticPart {
    /// The expression evaluated.
    pub expression: String,
    /// `arithmetic.png`.
    pub figure: PathBuf,
    /// Concept means, the result and its neighbours.
    pub result: arithmetic::ArithmeticResult,
}

#[derive(Clone, Debug, Serialize)]
/// The turn vector's figure.
pub struct TurnPart {
    /// Mean right-facing latent minus mean left-facing latent.
    pub vector: Vec<f32>,
    /// `turn.png`.
    pub figure: PathBuf,
    /// Images per row.
    pub steps: usize,
    /// How far along the vector each way (1: the whole vector).
    pub reach: f32,
    /// Samples moved along the vector.
    pub samples: usize,
}

#[derive(Clone, Debug, Serialize)]
/// What `explore arithmetic` drew.
pub struct ArithmeticReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The arithmetic, when an expression was given.
    pub arithmetic: Option<ArithmeticPart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The turn, when left and right samples were given.
    pub turn: Option<TurnPart>,
    /// Neighbours shown beside the result.
    #[serde(skip)]
    pub neighbours: usize,
}

/// Draw concept arithmetic (paper Fig. 7) and the turn vector (Fig. 8).
pub fn arithmetic(c: ArithmeticConfig, _events: &mut dyn Events) -> Result<ArithmeticReport> {
    c.validate()?;
    let (ckpt, device) = c.input.open()?;
    let m = ckpt.model().clone();
    let dim = m.latent_dim;
    let sheet = c.sheet.as_ref().map(|p| read_sheet(p, dim)).transpose()?;
    let need_sheet = || {
        sheet
            .as_ref()
            .ok_or_else(|| Error::config("latents", "none", "indices need --latents SHEET.npy"))
    };
    crate::tasks::make_dir(&c.out)?;
    let mut report = ArithmeticReport {
        arithmetic: None,
        turn: None,
        neighbours: c.neighbours,
    };
    if let Some(text) = &c.expression {
        let expr = Expression::parse(text)?;
        let mut concepts = Vec::new();
        for spec in &c.concepts {
            let exemplars = match &spec.exemplars {
                Exemplars::File(p) => read_sheet(p, dim)?,
                Exemplars::Indices(ix) => {
                    let s = need_sheet()?;
                    rows_of(
                        s,
                        dim,
                        &explore::parse_indices(ix, s.len() / dim, "concept index")?,
                    )
                }
            };
            concepts.push(arithmetic::Concept {
                name: spec.name.clone(),
                exemplars,
            });
        }
        let r = arithmetic::arithmetic(
            &ckpt,
            &concepts,
            &expr,
            c.neighbours,
            c.noise,
            c.seed,
            &device,
        )?;
        let figure = c.out.join("arithmetic.png");
        crate::viz::save_rows(&figure, &r.rows, m.channels, m.image_size)?;
        report.arithmetic = Some(ArithmeticPart {
            expression: text.clone(),
            figure,
            result: r,
        });
    }
    if let Some(t) = &c.turn {
        let s = need_sheet()?;
        let count = s.len() / dim;
        let pick = |ix: &str, what| -> Result<Vec<f32>> {
            Ok(rows_of(s, dim, &explore::parse_indices(ix, count, what)?))
        };
        let left = pick(&t.left, "turn-left index")?;
        let right = pick(&t.right, "turn-right index")?;
        let bases = match &t.bases {
            Some(b) => pick(b, "turn-bases index")?,
            None => crate::rng::latents(
                &mut Stream::TurnBases.rng(c.seed),
                4,
                dim,
                m.latent_distribution,
            ),
        };
        let (vector, images) =
            arithmetic::turn(&ckpt, &left, &right, &bases, t.steps, t.reach, &device)?;
        let figure = c.out.join("turn.png");
        let k = bases.len() / dim;
        crate::viz::save_grid(
            &figure,
            &images,
            k * t.steps,
            m.channels,
            m.image_size,
            t.steps,
        )?;
        report.turn = Some(TurnPart {
            vector,
            figure,
            steps: t.steps,
            reach: t.reach,
            samples: k,
        });
    }
    Ok(report)
}
