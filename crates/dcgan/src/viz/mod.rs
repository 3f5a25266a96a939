//! Pictures: sample grids and training curves.

pub mod grid;
pub mod plot;

pub use grid::{grid_image, save_grid};
pub use plot::save_loss_plot;
