pub mod bench;
pub mod data;
pub mod explore;
pub mod features;
pub mod fid;
pub mod interop;
pub mod sample;
pub mod train;
