#![no_main]
//! The boxes file of `dcgan forget`.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::boxes_json(data));
