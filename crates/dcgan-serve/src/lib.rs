//! `dcgan serve`: a read-only local web page that shows training runs live, side by side — the
//! newest sample grid and its history, the curves as `log.jsonl` grows, and the export-web
//! explorer on the newest checkpoint (docs/web.md).
//!
//! - [`site`]: every answer, decided without HTTP machinery so each rule is testable alone (and
//!   fuzzed: `fuzz/fuzz_targets/bodies.rs`), with the page built in (`assets/`);
//! - [`http`]: the HTTP server that carries requests to it (feature `http`, on by default).

#![warn(missing_docs)]

#[cfg(feature = "http")]
pub mod http;
pub mod site;

pub use site::{Reply, Site};
