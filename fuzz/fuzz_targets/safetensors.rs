#![no_main]
//! safetensors files: this project's checkpoints and PyTorch state dicts (import-torch).
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::safetensors(data));
