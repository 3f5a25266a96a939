//! Data sources. `open` resolves a `--data` value to one of them:
//! - a path only: a well-known name (`fashion-mnist`, `mnist`) is resolved to its folder by the
//!   front end first, with [`super::download::resolve`], so no environment variable or network
//!   access hides in here;
//! - an IDX image file (`*-images-idx3-ubyte`, optionally `.gz`), or a folder holding
//!   `train-images-idx3-ubyte[.gz]`; labels come from the matching `*-labels-idx1-ubyte` file;
//! - a CIFAR-10 binary batch file (`*.bin`, such as `test_batch.bin`), or a folder of them:
//!   its training batches `data_batch_1.bin` … `data_batch_5.bin`, else its `test_batch.bin`;
//! - an LMDB environment (a folder holding `data.mdb`, as LSUN distributes its categories);
//! - any other folder: an image folder, searched recursively.

use std::path::Path;

use super::alpha::{Background, Flattened};
use super::dataset::{Dataset, Subset};
use super::source::{Cifar, Idx, ImageFolder};
use crate::error::{Error, IoContext, Result};

/// Open a data source by the rules in the module docs, its images with transparency
/// composited over `background`.
pub fn open(spec: &str, background: Background) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(Flattened::new(open_source(spec)?, background)))
}

/// The reader of a data source, its images as stored.
fn open_source(spec: &str) -> Result<Box<dyn Dataset>> {
    let path = Path::new(spec);
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && super::download::set(spec).is_some() {
            Error::Data(format!(
                "{spec}: names a data set, not a path; a front end resolves names first (data::download::resolve; the dcgan tool does it for --data)"
            ))
        } else if e.kind() == std::io::ErrorKind::NotFound {
            Error::Data(format!(
                "{spec}: no such file or folder (give an image folder, an IDX file, an SVHN .mat file, a CIFAR-10 binary folder, or one of: fashion-mnist, mnist)"
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    if meta.is_file() {
        if has_extension(path, "mat") {
            return Ok(Box::new(super::svhn::SvhnMat::open(path)?));
        }
        if has_extension(path, "bin") {
            return Ok(Box::new(Cifar::open_file(path)?));
        }
        return Ok(Box::new(Idx::open(path)?));
    }
    for name in [
        "train-images-idx3-ubyte",
        "train-images-idx3-ubyte.gz",
        "train-images.idx3-ubyte",
    ] {
        if path.join(name).is_file() {
            return Ok(Box::new(Idx::open(&path.join(name))?));
        }
    }
    if path.join("data_batch_1.bin").is_file() {
        return Ok(Box::new(Cifar::open(path)?));
    }
    if path.join("test_batch.bin").is_file() {
        return Ok(Box::new(Cifar::open_file(&path.join("test_batch.bin"))?));
    }
    if super::lmdb::is_lmdb(path) {
        return Ok(Box::new(super::lmdb::Lmdb::open(path)?));
    }
    Ok(Box::new(ImageFolder::open(path)?))
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// What `data` needs of a de-duplication report (`crate::dedup::Report`, which has these two
/// fields and more): how many items it covered and which of them to leave out.
#[derive(serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Exclusions {
    /// Items in the data set the report was made for (checked against the data set given).
    pub images: usize,
    /// Indices of the items to leave out.
    pub excluded: Vec<usize>,
}

/// The training data a config names: its source, without a de-duplication report's duplicates.
pub fn open_config(data: &crate::config::DataConfig) -> Result<Box<dyn Dataset>> {
    let ds = open(&data.source, data.background)?;
    let Some(report_path) = &data.exclude else {
        return Ok(ds);
    };
    let path = Path::new(report_path);
    let text = std::fs::read_to_string(path).at(path)?;
    let report: Exclusions = serde_json::from_str(&text)
        .map_err(|e| Error::format(path, format!("not a dcgan de-duplication report: {e}")))?;
    if report.images != ds.len() {
        return Err(Error::mismatch(
            path,
            format!(
                "the report covers {} images, {} holds {}",
                report.images,
                data.source,
                ds.len()
            ),
        ));
    }
    let why = format!(
        "{} duplicates left out by {}",
        report.excluded.len(),
        path.display()
    );
    Ok(Box::new(Subset::excluding(ds, &report.excluded, why)))
}
