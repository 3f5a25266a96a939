#![no_main]
//! `dcgan serve`'s answers to any request target: nothing from outside the runs.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::serve_request(data));
