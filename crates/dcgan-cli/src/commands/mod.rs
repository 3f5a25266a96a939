pub mod bench;
pub mod explore;
pub mod interop;
pub mod sample;
pub mod train;
