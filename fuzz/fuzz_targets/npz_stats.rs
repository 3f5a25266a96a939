#![no_main]
//! FID statistics (`.npz` with mu and sigma), as `dcgan fid` reads them, and the distance on them.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::npz_stats(data));
