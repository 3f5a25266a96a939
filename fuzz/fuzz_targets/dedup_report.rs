#![no_main]
//! The de-duplication report that `train --exclude` reads.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::dedup_report(data));
