#![no_main]
//! `.npy` arrays: latents for `generate`, the §6 tools' sheets.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::npy(data));
