//! Reading and writing named float tensors as safetensors files, with string metadata.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::named::{HostTensor, TensorMap};
use crate::error::{Error, IoContext, Result};

/// The tensors of a safetensors file and its metadata. Float tensors (F32, F16, BF16, F64) are
/// converted to f32; integer tensors (PyTorch's `num_batches_tracked`) are returned separately.
pub struct SafetensorsContent {
    /// Float tensors by name, as f32.
    pub tensors: TensorMap,
    /// Integer tensors by name.
    pub integers: HashMap<String, Vec<i64>>,
    /// The file's `__metadata__` strings.
    pub metadata: HashMap<String, String>,
}

/// Read and parse the safetensors file at `path`.
pub fn read(path: &Path) -> Result<SafetensorsContent> {
    let bytes = std::fs::read(path).at(path)?;
    parse(&bytes, path)
}

/// Parse the bytes of a safetensors file; errors name `path`.
pub fn parse(bytes: &[u8], path: &Path) -> Result<SafetensorsContent> {
    let bad = |e: safetensors::SafeTensorError| {
        Error::format(path, format!("not a readable safetensors file ({e})"))
    };
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let st = SafeTensors::deserialize(bytes).map_err(bad)?;
    let mut tensors = TensorMap::new();
    let mut integers = HashMap::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let shape = view.shape().to_vec();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::I64 => {
                let v = raw
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                integers.insert(name, v);
                continue;
            }
            other => {
                return Err(Error::format(
                    path,
                    format!("tensor {name} has unsupported type {other:?}"),
                ));
            }
        };
        tensors.insert(name, HostTensor::new(shape, data));
    }
    Ok(SafetensorsContent {
        tensors,
        integers,
        metadata: meta.metadata().clone().unwrap_or_default(),
    })
}

/// Serialise float tensors (and optional int64 tensors) with metadata.
pub fn serialize(
    tensors: &TensorMap,
    integers: &HashMap<String, Vec<i64>>,
    metadata: HashMap<String, String>,
) -> Vec<u8> {
    let float_bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(k, t)| {
            let b = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), t.shape.clone(), b)
        })
        .collect();
    let int_bytes: Vec<(String, Vec<usize>, Vec<u8>)> = integers
        .iter()
        .map(|(k, v)| {
            let b = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            (k.clone(), vec![], b)
        })
        .collect();
    let mut views = Vec::new();
    for (k, s, b) in &float_bytes {
        views.push((
            k.as_str(),
            TensorView::new(Dtype::F32, s.clone(), b).expect("sized"),
        ));
    }
    for (k, s, b) in &int_bytes {
        let shape = if b.len() == 8 {
            s.clone()
        } else {
            vec![b.len() / 8]
        };
        views.push((
            k.as_str(),
            TensorView::new(Dtype::I64, shape, b).expect("sized"),
        ));
    }
    safetensors::serialize(views, Some(metadata)).expect("tensors serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_and_bfloat_tensors_read_as_their_f32_values() {
        // 1, −2, 1/3 rounded, the smallest subnormal, +∞ as float16; 1 and −2 as bfloat16.
        let h: Vec<u8> = [0x3c00u16, 0xc000, 0x3555, 0x0001, 0x7c00]
            .iter()
            .flat_map(|b| b.to_le_bytes())
            .collect();
        let bf: Vec<u8> = [0x3f80u16, 0xc000]
            .iter()
            .flat_map(|b| b.to_le_bytes())
            .collect();
        let views = vec![
            ("h", TensorView::new(Dtype::F16, vec![5], &h).unwrap()),
            ("bf", TensorView::new(Dtype::BF16, vec![2], &bf).unwrap()),
        ];
        let bytes = safetensors::serialize(views, None).unwrap();
        let t = parse(&bytes, Path::new("mem")).unwrap().tensors;
        let v = &t["h"].data;
        assert_eq!(&v[..4], &[1.0, -2.0, 0.333_251_95, 5.960_464_5e-8]);
        assert!(v[4].is_infinite() && v[4] > 0.0);
        assert_eq!(t["bf"].data, vec![1.0, -2.0]);
    }

    #[test]
    fn round_trip_keeps_names_shapes_values_and_metadata() {
        let mut t = TensorMap::new();
        t.insert(
            "a.weight".into(),
            HostTensor::new(vec![2, 3], vec![1., 2., 3., 4., 5., -6.]),
        );
        t.insert("b".into(), HostTensor::new(vec![1], vec![0.5]));
        let mut ints = HashMap::new();
        ints.insert("n".to_string(), vec![42i64]);
        let mut meta = HashMap::new();
        meta.insert("k".to_string(), "v".to_string());
        let bytes = serialize(&t, &ints, meta);
        let back = parse(&bytes, Path::new("mem")).unwrap();
        assert_eq!(back.tensors, t);
        assert_eq!(back.integers["n"], vec![42]);
        assert_eq!(back.metadata["k"], "v");
    }

    #[test]
    fn garbage_is_a_format_error_naming_the_file() {
        let err = parse(
            b"\x10\0\0\0\0\0\0\0{not json}",
            Path::new("/x/w.safetensors"),
        )
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .starts_with("/x/w.safetensors: not a readable safetensors file"),
            "{err}"
        );
    }
}
