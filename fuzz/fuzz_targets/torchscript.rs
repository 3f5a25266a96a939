#![no_main]
//! The TorchScript zip and its pickle, behind the FID Inception weights.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::torchscript(data));
