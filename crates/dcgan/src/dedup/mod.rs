//! De-duplication (paper §4.1.1, and the near-duplicate search that is `dcgan data dedup`'s
//! default): an application on top of [`crate::data`], which keeps only the list of items a
//! report excludes ([`crate::data::Exclusions`]).
//!
//! - [`near`]: the near-duplicate search (lined-up thumbnails, multi-index hashing, a threshold
//!   chosen on validation copies);
//! - [`paper`]: the paper's denoising autoencoder and its 128-bit codes;
//! - [`report`](mod@report): the report `dcgan data dedup` writes and `dcgan train --exclude`
//!   reads, and the perceptual-hash baseline;
//! - [`planted`]: planted copies to measure either method and to calibrate the search;
//! - this module: the settings both commands share and the search run on planted data.

pub mod near;
pub mod paper;
pub mod planted;
pub mod report;

use std::sync::Arc;

use serde::Serialize;

pub use planted::{ALTERATIONS, PairScores, Planted, group_pairs, score};
pub use report::{Group, Report, groups, phash_codes, report};

use crate::config::{MAX_IMAGES, at_least_one, at_most};
use crate::data::Dataset;
use crate::progress::Events;
use crate::{Error, Result};

/// The autoencoder settings `dedup` and `dedup-eval` share.
#[derive(Clone, Debug)]
pub struct AutoencoderSettings {
    /// 10 epochs: the reconstruction error has levelled off by then on CIFAR-10.
    pub epochs: usize,
    /// 128 code bits: the paper's (§4.1.1).
    pub bits: usize,
    /// Seed of the autoencoder's initialisation, noise and data order.
    pub seed: u64,
}

impl Default for AutoencoderSettings {
    fn default() -> Self {
        Self {
            epochs: 10,
            bits: 128,
            seed: 1,
        }
    }
}

impl AutoencoderSettings {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        if self.bits == 0 || self.bits > 128 {
            return Err(Error::config("code bits", self.bits, "must be 1 to 128"));
        }
        at_least_one("epochs", self.epochs)?;
        at_most("epochs", self.epochs, 100_000, "passes over the data")?;
        Ok(())
    }

    /// The autoencoder training these settings describe (the rest at the paper's values).
    pub fn training(&self) -> paper::Training {
        paper::Training {
            epochs: self.epochs,
            code_bits: self.bits,
            seed: self.seed,
            ..paper::Training::default()
        }
    }
}

/// Train the autoencoder on `ds` (on Flex) and return the codes and the last reconstruction
/// error.
pub(crate) fn paper_codes(
    ds: Arc<dyn Dataset>,
    cfg: &paper::Training,
    events: &mut dyn Events,
) -> Result<(Vec<Option<u128>>, f32)> {
    let device = burn::tensor::Device::flex();
    paper::codes(ds, cfg, &device, events)
}

/// Which de-duplication: the near-duplicate search (default) or the paper's exact collisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// [`near`]: lined-up thumbnails, threshold chosen for a precision.
    Near,
    /// Paper §4.1.1: equal 128-bit autoencoder codes.
    Paper,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "near" => Ok(Mode::Near),
            "paper" => Ok(Mode::Paper),
            _ => Err(format!("unknown mode '{s}': use near or paper")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Near => "near",
            Mode::Paper => "paper",
        })
    }
}

/// The near-duplicate search's settings.
#[derive(Clone, Debug)]
pub struct NearSearch {
    /// The share of flagged pairs that must be right, measured on the validation copies.
    pub precision: f64,
    /// Validation copies planted to choose the threshold (at most one per image).
    pub validation: usize,
    /// A fixed threshold instead of one chosen on validation copies.
    pub threshold: Option<f32>,
    /// Seed of the validation copies (which images, which alterations).
    pub seed: u64,
}

impl Default for NearSearch {
    fn default() -> Self {
        Self {
            precision: 0.99,
            // 1,000 copies: the precision is then measured on about a thousand pairs.
            validation: 1000,
            threshold: None,
            seed: 1,
        }
    }
}

impl NearSearch {
    /// Check the settings; an error names the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        if !(self.precision > 0.0 && self.precision <= 1.0) {
            return Err(Error::config(
                "precision",
                self.precision,
                "must be above 0 and at most 1",
            ));
        }
        at_least_one("validation", self.validation)?;
        at_most(
            "validation",
            self.validation,
            MAX_IMAGES,
            "copies held in memory",
        )?;
        if let Some(t) = self.threshold
            && !(near::FLOOR..=1.0).contains(&t)
        {
            return Err(Error::config(
                "threshold",
                t,
                "must be a similarity from 0.9 to 1 (pairs below 0.9 are never kept)",
            ));
        }
        Ok(())
    }
}

/// What the near-duplicate search found in `planted` (the data, perhaps evaluation copies, then
/// validation copies): the index, its pairs, and the threshold.
pub(crate) struct Searched {
    pub index: near::Index,
    pub pairs: Vec<near::Pair>,
    pub compared: u64,
    pub calibration: near::Calibration,
}

/// Search `val` (its first `items` the data, perhaps with evaluation copies, the rest validation
/// copies) and choose the threshold. Nothing tells the calibration which of the first `items`
/// copy which: it sees them as a data set's own images.
pub(crate) fn near_search(
    val: &Planted,
    items: usize,
    s: &NearSearch,
    events: &mut dyn Events,
) -> Result<Searched> {
    let index = near::Index::build(val, s.seed, events)?;
    let (pairs, compared) = index.pairs(events);
    let calibration = near::calibrate(
        &pairs,
        items..val.len(),
        |i| if i < items { i } else { val.original(i) },
        items,
        s.precision,
        s.threshold,
    );
    let copies = val.len() - items;
    if s.threshold.is_none() && (copies as f64) * (1.0 - s.precision) < 1.0 {
        events.info(format!(
            "note: with {copies} validation copies one false pair already breaks precision {}; the threshold may be set high (a smaller --precision, or more images, lowers it)",
            s.precision
        ));
    }
    events.info(format!(
        "threshold {:.4}: {} of {} validation copies found, {} false pairs with them (precision {:.3}); {} copies' originals have near-duplicates in the data, {} pairs with those counted neither way",
        calibration.threshold,
        calibration.found,
        calibration.copies,
        calibration.false_pairs,
        calibration.precision,
        calibration.originals_with_duplicates,
        calibration.with_duplicates_of_original,
    ));
    if let Some(w) = calibration.warning() {
        events.emit(crate::progress::Event::Warning(w));
    }
    Ok(Searched {
        index,
        pairs,
        compared,
        calibration,
    })
}
