#![no_main]
//! CIFAR-10 binary batches.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::cifar(data));
