#![no_main]
//! LSUN's LMDB environments (`data.mdb`).
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::lmdb(data));
