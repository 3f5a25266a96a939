#![no_main]
//! MNIST-style IDX files (images, and labels beside them), plain or gzip.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::idx(data));
