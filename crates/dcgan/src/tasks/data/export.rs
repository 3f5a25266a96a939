//! `data export`: a data set's items as image files.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Result;
use crate::data::{self, tools};
use crate::tasks::{Events, at_least_one};

/// `data export`.
#[derive(Clone, Debug)]
pub struct DataExportConfig {
    /// The data set (a folder, a file or a set's name).
    pub data: String,
    /// Folder the images are written to (an LMDB's stored bytes as they are, other sources as
    /// PNG).
    pub out: PathBuf,
    /// Export only the first N items.
    pub limit: usize,
}

impl Default for DataExportConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            out: PathBuf::new(),
            limit: usize::MAX,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `data export` wrote.
pub struct DataExportReport {
    /// The folder written.
    pub out: PathBuf,
    /// Images written.
    pub written: usize,
    /// Items that could not be read (skipped).
    pub unreadable: usize,
}

/// Write a data set's items as image files.
pub fn export(c: DataExportConfig, _events: &mut dyn Events) -> Result<DataExportReport> {
    at_least_one("limit", c.limit)?;
    let path = Path::new(&c.data);
    // An LMDB environment can be open once per process: use the one handle for both.
    let (written, unreadable) = if data::lmdb::is_lmdb(path) {
        let db = data::lmdb::Lmdb::open(path)?;
        tools::export(&db, Some(&db), &c.out, c.limit)?
    } else {
        tools::export(
            &*data::open(&c.data, crate::config::Background::WHITE)?,
            None,
            &c.out,
            c.limit,
        )?
    };
    Ok(DataExportReport {
        out: c.out,
        written,
        unreadable,
    })
}
