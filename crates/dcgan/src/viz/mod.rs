//! Pictures: sample grids and training curves.

mod font;
pub mod gif;
pub mod grid;
pub mod plot;

pub use grid::{grid_image, save_grid, save_labelled_rows, save_rows};
pub use plot::save_loss_plot;
