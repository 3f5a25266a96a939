pub mod bench;
pub mod interop;
pub mod sample;
pub mod train;
