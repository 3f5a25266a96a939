#![no_main]
//! Image decoding with the size limits every reader uses (PNG, JPEG by libjpeg-turbo, BMP,
//! PNM, WebP, GIF), then the model's transform.
#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::image(data));
