//! Data sources. `open` resolves a `--data` value to one of them:
//! - a well-known name (`fashion-mnist`, `mnist`): `$DCGAN_DATA_DIR/<name>`, Debian's package
//!   files in `/usr/share/datasets/<name>`, or the download cache (see [`super::download`]);
//! - an IDX image file (`*-images-idx3-ubyte`, optionally `.gz`), or a folder holding
//!   `train-images-idx3-ubyte[.gz]`; labels come from the matching `*-labels-idx1-ubyte` file;
//! - a folder of CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin`);
//! - an LMDB environment (a folder holding `data.mdb`, as LSUN distributes its categories);
//! - any other folder: an image folder, searched recursively.

use std::path::{Path, PathBuf};

use super::dataset::{Dataset, Subset};
use super::source::{Cifar, Idx, ImageFolder};
use crate::error::{Error, IoContext, Result};

/// Open a data source by the rules in the module docs.
pub fn open(spec: &str) -> Result<Box<dyn Dataset>> {
    if let Some(dir) = well_known(spec) {
        return open(&dir?.to_string_lossy());
    }
    let path = Path::new(spec);
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Data(format!(
                "{spec}: no such file or folder (give an image folder, an IDX file, an SVHN .mat file, a CIFAR-10 binary folder, or one of: fashion-mnist, mnist)"
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    if meta.is_file() {
        let is_mat = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mat"));
        if is_mat {
            return Ok(Box::new(super::svhn::SvhnMat::open(path)?));
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
    if super::lmdb::is_lmdb(path) {
        return Ok(Box::new(super::lmdb::Lmdb::open(path)?));
    }
    Ok(Box::new(ImageFolder::open(path)?))
}

/// Where a well-known data set's files are: `$DCGAN_DATA_DIR/<name>`, Debian's
/// `/usr/share/datasets/<name>`, or the download cache (downloaded and verified when missing).
fn well_known(spec: &str) -> Option<Result<PathBuf>> {
    let set = super::download::set(spec)?;
    if Path::new(spec).exists() {
        return None; // a folder of that name in the working directory wins
    }
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("DCGAN_DATA_DIR") {
        candidates.push(PathBuf::from(dir).join(spec));
    }
    candidates.push(PathBuf::from("/usr/share/datasets").join(spec));
    let has_files = |d: &PathBuf| {
        set.files
            .iter()
            .all(|f| d.join(f.name).is_file() || d.join(f.name.trim_end_matches(".gz")).is_file())
    };
    if let Some(found) = candidates.into_iter().find(has_files) {
        return Some(Ok(found));
    }
    let cached = super::download::cache_dir().join(spec);
    Some(super::download::ensure(set, &cached).map(|()| cached))
}

/// The training data a config names: its source, without a de-duplication report's duplicates.
pub fn open_config(data: &crate::config::DataConfig) -> Result<Box<dyn Dataset>> {
    let ds = open(&data.source)?;
    let Some(report_path) = &data.exclude else {
        return Ok(ds);
    };
    let path = Path::new(report_path);
    let text = std::fs::read_to_string(path).at(path)?;
    let report: super::dedup::Report = serde_json::from_str(&text)
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
