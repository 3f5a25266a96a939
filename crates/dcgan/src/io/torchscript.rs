//! The tensors of a TorchScript archive (`torch.jit.save`), read without Python.
//!
//! Written here because burn's `pytorch-reader` refuses TorchScript archives by design: their
//! `data.pkl` pickles `__torch__.*` objects whose attributes hold tensors directly (not a
//! `torch.nn.Module`'s `_parameters` tables), and the reader declines any such object rather
//! than guess. The format is small: a zip whose `<root>/data.pkl` is a protocol-2 pickle of the
//! module tree, where each tensor is a `torch._utils._rebuild_tensor_v2` call on a persistent
//! storage reference `('storage', torch.FloatStorage, key, device, numel)`, and the storage's
//! bytes are the zip entry `<root>/data/<key>`, raw little-endian.
//!
//! Only the opcodes such pickles use are implemented; anything else is a clear error.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// One tensor of the archive: dotted attribute path, storage and layout.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorEntry {
    /// Dotted attribute path (`main.0.weight`).
    pub name: String,
    /// The zip entry holding the storage (`<root>/data/<key>`).
    pub entry: String,
    /// `FloatStorage`, `LongStorage`, ...
    pub storage: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Offset into the storage, in elements.
    pub offset: usize,
    /// Stride of each dimension, in elements.
    pub stride: Vec<usize>,
}

#[derive(Clone, Debug)]
enum Value {
    Mark,
    None,
    /// A bool or float: attributes the tensors do not need.
    Scalar,
    Int(i64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String),
    Object {
        id: usize,
        state: Box<Value>,
    },
    Storage {
        key: String,
        kind: String,
    },
    Tensor {
        key: String,
        kind: String,
        offset: usize,
        shape: Vec<usize>,
        stride: Vec<usize>,
    },
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u32, Value>,
    next_id: usize,
}

impl<'a> Machine<'a> {
    fn bytes(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or("pickle ends early")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> std::result::Result<u16, String> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn line(&mut self) -> std::result::Result<String, String> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("pickle ends early")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
    fn pop(&mut self) -> std::result::Result<Value, String> {
        self.stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".into())
    }
    fn pop_mark(&mut self) -> std::result::Result<Vec<Value>, String> {
        let at = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or("pickle MARK missing")?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }
    fn top(&mut self) -> std::result::Result<&mut Value, String> {
        self.stack
            .last_mut()
            .ok_or_else(|| "pickle stack empty".into())
    }

    fn run(mut self) -> std::result::Result<Value, String> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?; // PROTO
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(format!("{module}.{name}")));
                }
                b'q' => {
                    let k = self.u8()? as u32;
                    let v = self.top()?.clone();
                    self.memo.insert(k, v);
                }
                b'r' => {
                    let k = self.u32()?;
                    let v = self.top()?.clone();
                    self.memo.insert(k, v);
                }
                b'h' | b'j' => {
                    let k = if op == b'h' {
                        self.u8()? as u32
                    } else {
                        self.u32()?
                    };
                    let v = self.memo.get(&k).ok_or("pickle memo key missing")?.clone();
                    self.stack.push(v);
                }
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Scalar),
                0x89 => self.stack.push(Value::Scalar),
                b'(' => self.stack.push(Value::Mark),
                b'K' => {
                    let v = self.u8()? as i64;
                    self.stack.push(Value::Int(v));
                }
                b'M' => {
                    let v = self.u16()? as i64;
                    self.stack.push(Value::Int(v));
                }
                b'J' => {
                    let v = self.u32()? as i32 as i64;
                    self.stack.push(Value::Int(v));
                }
                0x8a => {
                    // LONG1: little-endian two's complement of n bytes.
                    let n = self.u8()? as usize;
                    let b = self.bytes(n)?;
                    if n > 8 {
                        return Err("integer too large".into());
                    }
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= (x as i64) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1 << (8 * n);
                    }
                    self.stack.push(Value::Int(v));
                }
                b'G' => {
                    self.bytes(8)?; // BINFLOAT
                    self.stack.push(Value::Scalar);
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let s = String::from_utf8_lossy(self.bytes(n)?).into_owned();
                    self.stack.push(Value::Str(s));
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err("pickle stack underflow".into());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(Value::Tuple(items));
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    match self.top()? {
                        Value::Dict(d) => d.push((k, v)),
                        _ => return Err("SETITEM on a non-dict".into()),
                    }
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    match self.top()? {
                        Value::Dict(d) => {
                            let mut it = items.into_iter();
                            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                                d.push((k, v));
                            }
                        }
                        _ => return Err("SETITEMS on a non-dict".into()),
                    }
                }
                b'a' => {
                    let v = self.pop()?;
                    match self.top()? {
                        Value::List(l) => l.push(v),
                        _ => return Err("APPEND on a non-list".into()),
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    match self.top()? {
                        Value::List(l) => l.extend(items),
                        _ => return Err("APPENDS on a non-list".into()),
                    }
                }
                0x81 => {
                    let _args = self.pop()?;
                    if !matches!(self.pop()?, Value::Global(_)) {
                        return Err("NEWOBJ on a non-class".into());
                    }
                    self.next_id += 1;
                    self.stack.push(Value::Object {
                        id: self.next_id,
                        state: Box::new(Value::None),
                    });
                }
                b'b' => {
                    let new_state = self.pop()?;
                    let id = match self.top()? {
                        Value::Object { id, state, .. } => {
                            **state = new_state.clone();
                            *id
                        }
                        _ => return Err("BUILD on a non-object".into()),
                    };
                    // The memo holds copies: give them the state too.
                    for v in self.memo.values_mut() {
                        if let Value::Object { id: i, state, .. } = v
                            && *i == id
                        {
                            **state = new_state.clone();
                        }
                    }
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let Value::Tuple(t) = pid else {
                        return Err("persistent id is not a tuple".into());
                    };
                    match t.as_slice() {
                        [Value::Str(tag), Value::Global(kind), Value::Str(key), ..]
                            if tag == "storage" =>
                        {
                            let kind = kind.rsplit('.').next().unwrap_or(kind).to_string();
                            self.stack.push(Value::Storage {
                                key: key.clone(),
                                kind,
                            });
                        }
                        _ => return Err("unknown persistent id".into()),
                    }
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let Value::Global(f) = callable else {
                        return Err("REDUCE on a non-callable".into());
                    };
                    let Value::Tuple(args) = args else {
                        return Err("REDUCE arguments are not a tuple".into());
                    };
                    let v = match f.as_str() {
                        "torch._utils._rebuild_tensor_v2" => match args.as_slice() {
                            [
                                Value::Storage { key, kind },
                                Value::Int(offset),
                                Value::Tuple(size),
                                Value::Tuple(stride),
                                ..,
                            ] => {
                                let ints =
                                    |t: &[Value]| -> std::result::Result<Vec<usize>, String> {
                                        t.iter()
                                            .map(|v| match v {
                                                Value::Int(i) if *i >= 0 => Ok(*i as usize),
                                                _ => Err("bad tensor size".to_string()),
                                            })
                                            .collect()
                                    };
                                Value::Tensor {
                                    key: key.clone(),
                                    kind: kind.clone(),
                                    offset: *offset as usize,
                                    shape: ints(size)?,
                                    stride: ints(stride)?,
                                }
                            }
                            _ => return Err("unexpected _rebuild_tensor_v2 arguments".into()),
                        },
                        "collections.OrderedDict" => Value::Dict(Vec::new()),
                        // Other calls (hooks, dtypes) carry no tensors we need.
                        _ => Value::None,
                    };
                    self.stack.push(v);
                }
                b'.' => return self.pop(),
                other => return Err(format!("unsupported pickle opcode 0x{other:02x}")),
            }
        }
    }
}

fn collect(prefix: &str, v: &Value, root: &str, out: &mut Vec<TensorEntry>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object { state, .. } => collect(prefix, state, root, out),
        Value::Dict(items) => {
            for (k, v) in items {
                if let Value::Str(k) = k {
                    collect(&join(k), v, root, out);
                }
            }
        }
        Value::Tensor {
            key,
            kind,
            offset,
            shape,
            stride,
        } => out.push(TensorEntry {
            name: prefix.to_string(),
            entry: format!("{root}/data/{key}"),
            storage: kind.clone(),
            shape: shape.clone(),
            offset: *offset,
            stride: stride.clone(),
        }),
        _ => {}
    }
}

/// A TorchScript archive opened for reading.
pub struct Archive {
    path: PathBuf,
    zip: zip::ZipArchive<std::io::BufReader<std::fs::File>>,
    /// The tensors, in the pickle's order.
    pub tensors: Vec<TensorEntry>,
}

impl Archive {
    /// Whether `path` is a zip with a TorchScript module (`<root>/code/` entries).
    pub fn is_torchscript(path: &Path) -> bool {
        std::fs::File::open(path)
            .ok()
            .and_then(|f| zip::ZipArchive::new(std::io::BufReader::new(f)).ok())
            .is_some_and(|z| {
                z.file_names()
                    .flatten()
                    .any(|n| n.contains("/code/__torch__/"))
            })
    }

    /// Open the TorchScript archive at `path` and list its tensors.
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).at(path)?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| Error::format(path, format!("not a zip archive ({e})")))?;
        let pkl = zip
            .file_names()
            .flatten()
            .find(|n| n.ends_with("/data.pkl") && n.matches('/').count() == 1)
            .map(|n| n.to_string())
            .ok_or_else(|| Error::format(path, "no <root>/data.pkl: not a TorchScript archive"))?;
        let root = pkl.trim_end_matches("/data.pkl").to_string();
        let mut data = Vec::new();
        zip.by_name(&pkl)
            .map_err(|e| Error::format(path, format!("{pkl}: {e}")))?
            .read_to_end(&mut data)
            .at(path)?;
        let machine = Machine {
            data: &data,
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            next_id: 0,
        };
        let value = machine
            .run()
            .map_err(|e| Error::format(path, format!("{pkl}: {e}")))?;
        let mut tensors = Vec::new();
        collect("", &value, &root, &mut tensors);
        Ok(Archive {
            path: path.to_path_buf(),
            zip,
            tensors,
        })
    }

    /// The values of a `FloatStorage` tensor (contiguous, C order).
    pub fn read_f32(&mut self, t: &TensorEntry) -> Result<Vec<f32>> {
        let bad = |m: String| Error::format(&self.path, format!("{}: {m}", t.name));
        if t.storage != "FloatStorage" {
            return Err(bad(format!("expected a FloatStorage, found {}", t.storage)));
        }
        let mut want = 1;
        for (&d, &s) in t.shape.iter().zip(&t.stride).rev() {
            if d > 1 && s != want {
                return Err(bad("non-contiguous tensors are not supported".into()));
            }
            want *= d;
        }
        let n: usize = t.shape.iter().product();
        let mut bytes = Vec::new();
        self.zip
            .by_name(&t.entry)
            .map_err(|e| bad(format!("{}: {e}", t.entry)))?
            .read_to_end(&mut bytes)
            .at(&self.path)?;
        let start = t.offset * 4;
        let raw = bytes
            .get(start..start + n * 4)
            .ok_or_else(|| bad(format!("{} is shorter than the tensor", t.entry)))?;
        Ok(raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}
