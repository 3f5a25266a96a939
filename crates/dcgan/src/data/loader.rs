//! Batches decoded ahead of the training step.
//!
//! One producer thread walks the epoch's order batch by batch; each batch's images are decoded
//! and transformed in parallel on a thread pool of its own (so decoding never waits for the
//! training step's threads, and vice versa), then handed over through a bounded channel of
//! `prefetch` batches. Written here rather than with burn-dataset's `DataLoader` because the
//! training loop needs to start an epoch at a given batch (exact resume), to skip and count
//! unreadable images instead of failing, and to keep its order a pure function of (seed, epoch).

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, bounded};
use rayon::prelude::*;

use super::dataset::{Dataset, ItemError};
use super::transform::Transform;
use crate::error::{Error, Result};

/// One batch, as host data.
#[derive(Debug)]
pub struct Batch {
    /// Position of the batch in its epoch.
    pub index: usize,
    /// `[count, channels, size, size]` values in [−1, 1].
    pub images: Vec<f32>,
    /// Images that decoded (batch size minus `bad.len()`).
    pub count: usize,
    /// Each image's class, for data sets with labels.
    pub labels: Vec<Option<usize>>,
    /// The data set indices of the decoded images, in order.
    pub items: Vec<usize>,
    /// Items that could not be decoded, skipped.
    pub bad: Vec<ItemError>,
}

/// Batches from a data set in a seeded order, decoded by a pool of threads ahead of use.
pub struct Loader {
    rx: Option<Receiver<Result<Batch>>>,
    worker: Option<JoinHandle<()>>,
    /// Batches in the epoch (the last, incomplete one is dropped, so every step sees a full
    /// batch and BatchNorm statistics are comparable between steps).
    pub batches: usize,
    /// Batches still to come; a loader that stops short of them reports why.
    pending: usize,
}

/// Which batches a pass makes: `order`'s items in batches of `batch_size`, from batch
/// `first_batch`, the last short batch dropped (training) or kept.
struct Schedule {
    order: Vec<usize>,
    batch_size: usize,
    first_batch: usize,
    drop_last: bool,
}

impl Loader {
    /// Batches `first_batch..` of the epoch whose item order is `order`.
    pub fn start(
        dataset: Arc<dyn Dataset>,
        order: Vec<usize>,
        batch_size: usize,
        first_batch: usize,
        transform: Transform,
        workers: usize,
        prefetch: usize,
    ) -> Result<Self> {
        let schedule = Schedule {
            order,
            batch_size,
            first_batch,
            drop_last: true,
        };
        Self::spawn(dataset, schedule, transform, (workers, prefetch))
    }

    /// The first `limit` items, each once and in order, the last batch possibly smaller: for
    /// passes over a data set that are not training (features, codes, searches).
    pub(crate) fn sequential(
        dataset: Arc<dyn Dataset>,
        limit: usize,
        batch_size: usize,
        transform: Transform,
    ) -> Result<Self> {
        let order = (0..dataset.len().min(limit)).collect();
        Self::over(dataset, order, batch_size, transform)
    }

    /// The items `order`, each once and in that order, the last batch possibly smaller.
    pub fn over(
        dataset: Arc<dyn Dataset>,
        order: Vec<usize>,
        batch_size: usize,
        transform: Transform,
    ) -> Result<Self> {
        let schedule = Schedule {
            order,
            batch_size: batch_size.max(1),
            first_batch: 0,
            drop_last: false,
        };
        Self::spawn(dataset, schedule, transform, (0, 2))
    }

    /// The loader thread for `schedule`, decoding on `workers` threads (0: all cores) and keeping
    /// `prefetch` batches ready.
    fn spawn(
        dataset: Arc<dyn Dataset>,
        schedule: Schedule,
        transform: Transform,
        (workers, prefetch): (usize, usize),
    ) -> Result<Self> {
        let Schedule {
            order,
            batch_size,
            first_batch,
            drop_last,
        } = schedule;
        let batches = if drop_last {
            order.len() / batch_size
        } else {
            order.len().div_ceil(batch_size)
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("dcgan-decode-{i}"))
            .build()
            .map_err(|e| Error::Data(format!("cannot start decoding threads: {e}")))?;
        let (tx, rx) = bounded(prefetch.max(1));
        let worker = std::thread::Builder::new()
            .name("dcgan-loader".into())
            .spawn(move || {
                for b in first_batch..batches {
                    let items = &order[b * batch_size..((b + 1) * batch_size).min(order.len())];
                    // A reader that panics (a bug in it, or in a decoder) ends the pass with an
                    // error the consumer sees, instead of an epoch that looks finished.
                    let batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        pool.install(|| make_batch(&*dataset, items, b, transform))
                    }))
                    .map_err(|panic| {
                        let why = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "no message".into());
                        Error::Data(format!(
                            "{}: reading batch {b} failed: {why}",
                            dataset.describe()
                        ))
                    });
                    let failed = batch.is_err();
                    if tx.send(batch).is_err() || failed {
                        return; // the consumer is gone, or told why the pass ends here
                    }
                }
            })
            .map_err(|e| Error::Data(format!("cannot start the loader thread: {e}")))?;
        Ok(Self {
            rx: Some(rx),
            worker: Some(worker),
            batches,
            pending: batches.saturating_sub(first_batch),
        })
    }
}

fn make_batch(dataset: &dyn Dataset, items: &[usize], index: usize, t: Transform) -> Batch {
    let decoded: Vec<_> = items
        .par_iter()
        .map(|&i| {
            dataset
                .get(i)
                .map(|img| (i, t.apply(&img), dataset.label(i)))
        })
        .collect();
    let per = t.channels * t.size * t.size;
    let mut images = Vec::with_capacity(items.len() * per);
    let mut labels = Vec::with_capacity(items.len());
    let mut good = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    for r in decoded {
        match r {
            Ok((i, px, label)) => {
                images.extend_from_slice(&px);
                labels.push(label);
                good.push(i);
            }
            Err(e) => bad.push(e),
        }
    }
    Batch {
        index,
        count: labels.len(),
        images,
        labels,
        items: good,
        bad,
    }
}

/// Each batch, or the error that ended the pass early (after which the loader yields nothing).
impl Iterator for Loader {
    type Item = Result<Batch>;
    fn next(&mut self) -> Option<Result<Batch>> {
        if self.pending == 0 {
            return None;
        }
        let got = match self.rx.as_ref()?.recv() {
            Ok(r) => r,
            // The producer ended without a word: it cannot go on (its thread died).
            Err(_) => Err(Error::Data(format!(
                "the data loader stopped with {} batches still to come",
                self.pending
            ))),
        };
        self.pending = if got.is_ok() { self.pending - 1 } else { 0 };
        Some(got)
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.rx.take(); // unblocks a producer waiting to send
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
