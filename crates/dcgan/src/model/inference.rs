//! Running G on latents held on the host: what sampling, FID, the §6 tools and training's sample
//! grids all do. It lives with the model, below training, so none of them depends on the loop.

use burn::tensor::{Device, Tensor, TensorData};

use super::{BnMode, Generator};

/// G's input rows for a conditional G: each latent of `z` (`[n, nz]` row-major) followed by the
/// one-hot code of its label among `classes`. With no classes, `z` itself.
pub fn conditioned(z: &[f32], latent_dim: usize, labels: &[usize], classes: usize) -> Vec<f32> {
    if classes == 0 {
        return z.to_vec();
    }
    let n = z.len() / latent_dim;
    assert_eq!(labels.len(), n, "one label per latent");
    let mut out = Vec::with_capacity(n * (latent_dim + classes));
    for (row, &y) in z.chunks(latent_dim).zip(labels) {
        assert!(y < classes, "label {y} is not below {classes}");
        out.extend_from_slice(row);
        out.extend((0..classes).map(|k| if k == y { 1.0 } else { 0.0 }));
    }
    out
}

/// `labels` as one-hot rows `[n, classes]`, row-major.
pub fn one_hot(labels: &[usize], classes: usize) -> Vec<f32> {
    let mut out = vec![0f32; labels.len() * classes];
    for (i, &y) in labels.iter().enumerate() {
        assert!(y < classes, "label {y} is not below {classes}");
        out[i * classes + y] = 1.0;
    }
    out
}

/// Labels that cycle through the classes, `start`, `start + 1`, … mod `classes`: what a
/// conditional G is scored on (every class equally often); empty without classes.
pub fn cycled_labels(start: usize, n: usize, classes: usize) -> Vec<usize> {
    if classes == 0 {
        return Vec::new();
    }
    (start..start + n).map(|i| i % classes).collect()
}

/// A conditional G's sample grid: one row per class, `cols` columns, column j drawn from the
/// j-th latent of `z` in every row (so a column shows one latent across the classes). Returns
/// the latents and labels of the `classes × cols` images, row by row.
pub fn class_rows(
    z: &[f32],
    latent_dim: usize,
    classes: usize,
    cols: usize,
) -> (Vec<f32>, Vec<usize>) {
    let mut latents = Vec::with_capacity(classes * cols * latent_dim);
    let mut labels = Vec::with_capacity(classes * cols);
    for class in 0..classes {
        latents.extend_from_slice(&z[..cols * latent_dim]);
        labels.extend(std::iter::repeat_n(class, cols));
    }
    (latents, labels)
}

/// G's images of latents `z` (`[n, nz]`), each with its label when G is conditional (`labels`
/// is ignored otherwise): [`conditioned`], then [`generate_chunked`].
pub fn generate_labelled(
    g: &Generator,
    z: &[f32],
    labels: &[usize],
    mode: BnMode,
    chunk: usize,
    device: &Device,
) -> Vec<f32> {
    let input = conditioned(z, g.latent_dim, labels, g.classes);
    generate_chunked(g, &input, g.input_dim(), mode, chunk, device)
}

/// G's images of `z` (`[n, nz]` row-major) on the host, `[n, c, s, s]`, as one batch.
pub fn generate(
    g: &Generator,
    z: &[f32],
    latent_dim: usize,
    mode: BnMode,
    device: &Device,
) -> Vec<f32> {
    let n = z.len() / latent_dim;
    let z = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [n, latent_dim]), device);
    super::host_vec(g.forward(z, mode))
}

/// In inference mode, in batches of `chunk` latents so memory stays bounded (each image depends
/// on its own latent only); with batch statistics the whole set is one batch (its statistics
/// are the point).
pub fn generate_chunked(
    g: &Generator,
    z: &[f32],
    latent_dim: usize,
    mode: BnMode,
    chunk: usize,
    device: &Device,
) -> Vec<f32> {
    if mode != BnMode::Eval {
        return generate(g, z, latent_dim, mode, device);
    }
    z.chunks(chunk.max(1) * latent_dim)
        .flat_map(|c| generate(g, c, latent_dim, mode, device))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conditional_input_is_each_latent_then_its_one_hot_class() {
        let z = [1.0, 2.0, 3.0, 4.0]; // two latents of 2
        assert_eq!(
            conditioned(&z, 2, &[2, 0], 3),
            [1.0, 2.0, 0.0, 0.0, 1.0, 3.0, 4.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(conditioned(&z, 2, &[], 0), z);
        assert_eq!(one_hot(&[1, 0], 2), [0.0, 1.0, 1.0, 0.0]);
        assert_eq!(cycled_labels(4, 5, 3), [1, 2, 0, 1, 2]);
        assert!(cycled_labels(0, 5, 0).is_empty());
    }

    #[test]
    fn the_class_grid_repeats_the_latents_down_its_columns() {
        let z = [1.0, 2.0, 3.0, 9.0]; // three latents of 1, and one unused
        let (latents, labels) = class_rows(&z, 1, 2, 3);
        assert_eq!(latents, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        assert_eq!(labels, [0, 0, 0, 1, 1, 1]);
    }
}
