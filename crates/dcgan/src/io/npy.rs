//! `.npy` arrays (NumPy's format) through the npyz crate: latents in and out, G's raw output.

use std::io::BufWriter;
use std::path::Path;

use npyz::WriterBuilder;

use super::named::HostTensor;
use crate::error::{Error, IoContext, Result};

/// Refuse what npyz's header parser should never see: a header that is not a flat dict of
/// scalars and one shape tuple. Found by fuzzing: a header of nested braces sent npyz's parser
/// into exponential backtracking (minutes for 400 bytes). A real header has two brackets
/// (`{...(3, 16)...}`); structured dtypes, which this project does not read, have a few more.
pub(crate) fn check_header(bytes: &[u8], path: &Path) -> Result<()> {
    let bad = |m: &str| Err(Error::format(path, format!("not a .npy file ({m})")));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return bad("no NUMPY magic");
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return bad(&format!("format version {v} is not 1, 2 or 3")),
    };
    let Some(header) = bytes.get(start..start.saturating_add(len)) else {
        return bad("the header is truncated");
    };
    let brackets = header
        .iter()
        .filter(|&&c| matches!(c, b'{' | b'(' | b'['))
        .count();
    if brackets > 6 {
        return bad(&format!(
            "its header has {brackets} brackets; an array's has 2"
        ));
    }
    check_shape(header, path)
}

/// Refuse a shape whose element count (or any stride, i.e. the product of its non-zero
/// dimensions) does not fit in 64 bits. Found by fuzzing: npyz multiplies the dimensions
/// unchecked, which overflows on `'shape': (4294967296, 4294967296, 2)`. Only the tuple after
/// `shape` is looked at; anything npyz itself would refuse is left for its message.
fn check_shape(header: &[u8], path: &Path) -> Result<()> {
    let text = String::from_utf8_lossy(header);
    let Some(at) = text.find("shape") else {
        return Ok(());
    };
    let rest = &text[at..];
    let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) else {
        return Ok(());
    };
    if close < open {
        return Ok(());
    }
    let dims: Vec<u64> = rest[open + 1..close]
        .split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect();
    let count = dims
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1u64, |n, &d| n.checked_mul(d));
    match count {
        Some(_) => Ok(()),
        None => Err(Error::format(
            path,
            format!("not a .npy file (its shape {dims:?} has more elements than fit in 64 bits)"),
        )),
    }
}

/// Read a float array (`<f4` or `<f8`, C order).
pub fn read(path: &Path) -> Result<HostTensor> {
    let bytes = std::fs::read(path).at(path)?;
    check_header(&bytes, path)?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| Error::format(path, format!("not a .npy file ({e})")))?;
    if npy.order() != npyz::Order::C {
        return Err(Error::format(
            path,
            "Fortran-ordered arrays are not supported; save with C order",
        ));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let dtype = npy.dtype();
    let data: Vec<f32> = match dtype.descr().trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => npy.into_vec::<f32>(),
        "<f8" => npy
            .into_vec::<f64>()
            .map(|v| v.into_iter().map(|x| x as f32).collect()),
        other => {
            return Err(Error::format(
                path,
                format!("array type {other} is not supported (need float32 or float64)"),
            ));
        }
    }
    .map_err(|e| Error::format(path, format!("truncated or unreadable .npy data ({e})")))?;
    Ok(HostTensor::new(shape, data))
}

/// Write a float32 array in C order, atomically.
pub fn write(path: &Path, tensor: &HostTensor) -> Result<()> {
    let mut buf = Vec::new();
    {
        let shape: Vec<u64> = tensor.shape.iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&shape)
            .writer(BufWriter::new(&mut buf))
            .begin_nd()
            .expect("in-memory writer");
        w.extend(tensor.data.iter().copied())
            .expect("in-memory writer");
        w.finish().expect("in-memory writer");
    }
    super::atomic_write(path, &buf)
}

/// Read latents of shape (N, nz) or (N, nz, 1, 1); returns (N, data).
pub fn read_latents(path: &Path, latent_dim: usize) -> Result<(usize, Vec<f32>)> {
    let t = read(path)?;
    let ok = match t.shape.as_slice() {
        [_, d] => *d == latent_dim,
        [_, d, 1, 1] => *d == latent_dim,
        _ => false,
    };
    if !ok || t.shape[0] == 0 {
        return Err(Error::format(
            path,
            format!(
                "latents have shape {:?}; the generator needs (N, {latent_dim}) or (N, {latent_dim}, 1, 1) with N ≥ 1",
                t.shape
            ),
        ));
    }
    if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(Error::format(
            path,
            format!("latent value {} at index {i} is not finite", t.data[i]),
        ));
    }
    Ok((t.shape[0], t.data))
}

/// Read class labels: a 1-D integer array (`int64`, `int32`, `uint8`, … as NumPy saves them)
/// of `count` entries, each below `classes`; `count` None accepts any length ≥ 1.
pub fn read_labels(path: &Path, count: Option<usize>, classes: usize) -> Result<Vec<usize>> {
    let bytes = std::fs::read(path).at(path)?;
    check_header(&bytes, path)?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| Error::format(path, format!("not a .npy file ({e})")))?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let descr = npy.dtype().descr();
    let descr = descr.trim_matches(|c| c == '\'' || c == '"').to_string();
    let values: Vec<i64> = match descr.as_str() {
        "<i8" => npy.into_vec::<i64>(),
        "<i4" => npy
            .into_vec::<i32>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        "<i2" => npy
            .into_vec::<i16>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        "|i1" => npy
            .into_vec::<i8>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        "|u1" => npy
            .into_vec::<u8>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        "<u2" => npy
            .into_vec::<u16>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        "<u4" => npy
            .into_vec::<u32>()
            .map(|v| v.into_iter().map(i64::from).collect()),
        "<u8" => npy.into_vec::<u64>().map(|v| {
            v.into_iter()
                .map(|x| x.min(i64::MAX as u64) as i64)
                .collect()
        }),
        other => {
            return Err(Error::format(
                path,
                format!("labels must be integers; this array's type is {other}"),
            ));
        }
    }
    .map_err(|e| Error::format(path, format!("truncated or unreadable .npy data ({e})")))?;
    if shape.len() != 1 || shape[0] == 0 {
        return Err(Error::format(
            path,
            format!("labels have shape {shape:?}; they must be one non-empty row (N,)"),
        ));
    }
    if let Some(n) = count
        && values.len() != n
    {
        return Err(Error::format(
            path,
            format!(
                "holds {} labels; {n} are needed, one per latent",
                values.len()
            ),
        ));
    }
    if let Some((i, y)) = values
        .iter()
        .enumerate()
        .find(|(_, y)| **y < 0 || **y as u64 >= classes as u64)
    {
        return Err(Error::format(
            path,
            format!(
                "label {y} at index {i} is not a class of this model (0 to {})",
                classes - 1
            ),
        ));
    }
    Ok(values.into_iter().map(|y| y as usize).collect())
}

/// Write an int64 array (labels) in C order, atomically.
pub(crate) fn write_i64(path: &Path, shape: &[usize], data: &[i64]) -> Result<()> {
    let mut buf = Vec::new();
    {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::<i64>::new()
            .default_dtype()
            .shape(&shape)
            .writer(BufWriter::new(&mut buf))
            .begin_nd()
            .expect("in-memory writer");
        w.extend(data.iter().copied()).expect("in-memory writer");
        w.finish().expect("in-memory writer");
    }
    super::atomic_write(path, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An array of `T` as NumPy saves it.
    fn save<T: npyz::Serialize + npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], v: &[T]) {
        let mut buf = Vec::new();
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend(v.iter().copied()).unwrap();
        w.finish().unwrap();
        std::fs::write(path, buf).unwrap();
    }

    #[test]
    fn labels_read_from_every_integer_type_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("y.npy");
        write_i64(&p, &[3], &[2, 0, 1]).unwrap();
        assert_eq!(read_labels(&p, Some(3), 3).unwrap(), [2, 0, 1]);
        assert_eq!(read_labels(&p, None, 3).unwrap(), [2, 0, 1]);
        save::<i32>(&p, &[2], &[1, 0]);
        assert_eq!(read_labels(&p, Some(2), 2).unwrap(), [1, 0]);
        save::<u8>(&p, &[2], &[4, 9]);
        assert_eq!(read_labels(&p, None, 10).unwrap(), [4, 9]);
        let err = |p: &Path, n, k| read_labels(p, n, k).unwrap_err().to_string();
        assert!(
            err(&p, None, 5).ends_with("label 9 at index 1 is not a class of this model (0 to 4)"),
            "{}",
            err(&p, None, 5)
        );
        assert!(err(&p, Some(3), 10).ends_with("holds 2 labels; 3 are needed, one per latent"));
        save::<i64>(&p, &[1, 2], &[0, 1]);
        assert!(
            err(&p, None, 2)
                .ends_with("labels have shape [1, 2]; they must be one non-empty row (N,)")
        );
        save::<i64>(&p, &[2], &[-1, 0]);
        assert!(
            err(&p, None, 2).ends_with("label -1 at index 0 is not a class of this model (0 to 1)")
        );
        save::<f32>(&p, &[2], &[0.0, 1.0]);
        assert!(err(&p, None, 2).ends_with("labels must be integers; this array's type is <f4"));
    }

    #[test]
    fn round_trip_and_latent_shape_checks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.npy");
        let t = HostTensor::new(vec![2, 3, 1, 1], vec![0.0, 1.0, -2.5, 3.0, 4.0, 5.0]);
        write(&p, &t).unwrap();
        assert_eq!(read(&p).unwrap(), t);
        assert_eq!(read_latents(&p, 3).unwrap(), (2, t.data.clone()));
        let err = read_latents(&p, 100).unwrap_err().to_string();
        assert!(
            err.contains("latents have shape [2, 3, 1, 1]; the generator needs (N, 100)"),
            "{err}"
        );
        assert!(err.starts_with(&p.display().to_string()));
    }

    #[test]
    fn a_non_npy_file_is_rejected_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.npy");
        std::fs::write(&p, b"hello").unwrap();
        let err = read(&p).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: not a .npy file", p.display())),
            "{err}"
        );
    }

    /// A header whose shape overflows 64 bits, with and without a zero dimension (whose
    /// strides would still overflow), is refused by name; a real empty array still reads.
    #[test]
    fn a_shape_past_64_bits_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.npy");
        let npy = |shape: &str| {
            let mut h = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
            while (h.len() + 11) % 64 != 0 {
                h.push(' ');
            }
            h.push('\n');
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend((h.len() as u16).to_le_bytes());
            b.extend(h.as_bytes());
            b
        };
        for shape in ["(4294967296, 4294967296, 2)", "(0, 4294967296, 4294967296)"] {
            std::fs::write(&p, npy(shape)).unwrap();
            let err = read(&p).unwrap_err().to_string();
            assert!(
                err.ends_with("has more elements than fit in 64 bits)"),
                "{shape}: {err}"
            );
            assert!(err.starts_with(&p.display().to_string()), "{err}");
        }
        std::fs::write(&p, npy("(0, 3)")).unwrap();
        assert_eq!(read(&p).unwrap().shape, vec![0, 3]);
    }
}
