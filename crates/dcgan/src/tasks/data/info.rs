//! `data info`: what a data set holds.

use crate::Result;
use crate::data::{self, tools};
use crate::tasks::{Events, at_least_one};

/// `data info`.
#[derive(Clone, Debug)]
pub struct InfoConfig {
    /// The data set (a folder, a file or a set's name).
    pub data: String,
    /// What images with transparency are composited over.
    pub background: crate::config::Background,
    /// Examine only the first N items; all by default.
    pub limit: usize,
}

impl Default for InfoConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            background: crate::config::Background::WHITE,
            limit: usize::MAX,
        }
    }
}

/// Describe a data set: items, sizes, channels, classes, unreadable items.
pub fn info(c: InfoConfig, _events: &mut dyn Events) -> Result<tools::Info> {
    at_least_one("limit", c.limit)?;
    let ds = data::open(&c.data, c.background)?;
    Ok(tools::info(&*ds, c.limit))
}
