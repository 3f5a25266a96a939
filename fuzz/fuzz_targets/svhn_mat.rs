#![no_main]
//! SVHN's MATLAB files (`train_32x32.mat`).
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::svhn_mat(data));
