//! ONNX files: the part of ONNX's protobuf schema a feed-forward network of standard operators
//! needs, declared with prost's derive (field numbers and enum values are `onnx/onnx.proto`'s),
//! and small builders for nodes, attributes and initialisers.
//!
//! Why declared here rather than taken from a crate: the crates that ship ONNX's generated
//! types either pull in protoc at build time (prost-build), an unmaintained protobuf 2 runtime,
//! or a whole inference engine for the sake of its schema. Writing a model needs nine messages;
//! prost (tokio's protobuf runtime, already in the dependency tree) encodes them. Only writing is
//! needed, and every file written is checked by onnx's checker and onnxruntime in the tests.
//!
//! ONNX's schema is proto2: repeated scalars are unpacked on the wire unless the schema says
//! `packed = true`, so they are declared unpacked here (readers accept both). Oneofs with a
//! single member of interest (`TypeProto.tensor_type`, `Dimension.dim_value | dim_param`) are
//! declared as optional fields of the same numbers, which writes the same bytes.

use prost::Message;

/// `TensorProto.DataType.FLOAT`.
pub const FLOAT: i32 = 1;
/// `TensorProto.DataType.INT64`.
pub const INT64: i32 = 7;

/// The first opset this writer emits; each operator it uses has had its present meaning since.
pub const MIN_OPSET: i64 = 9;
/// The newest opset it emits (onnx 1.18's); the operators used are unchanged up to it.
pub const MAX_OPSET: i64 = 23;
/// The opset written unless another is asked for: 17 is read by every maintained runtime
/// (onnxruntime since 1.13, TensorRT 8.6, OpenVINO 2022.3) and is torch.onnx's default.
pub const DEFAULT_OPSET: i64 = 17;

/// The IR version of the onnx release that introduced `opset` (onnx's `VERSION_TABLE`): the
/// oldest file format a reader of that opset understands.
pub fn ir_version(opset: i64) -> i64 {
    match opset {
        ..=8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        12..=14 => 7,
        15..=18 => 8,
        19..=20 => 9,
        21..=22 => 10,
        _ => 11,
    }
}

/// A whole model: one graph and the opsets it uses.
#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    /// The file format's version ([`ir_version`]).
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// The operator sets, one per domain (here the default domain only).
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// The tool that wrote the file.
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// Its version.
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// A free description.
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// The computation.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Named strings a reader can look up (onnxruntime: `get_modelmeta().custom_metadata_map`).
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// One operator set: `domain` ("" is ONNX's own) at `version`.
#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    /// The domain, "" for the default one.
    #[prost(string, tag = "1")]
    pub domain: String,
    /// The opset version.
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// A key and its value.
#[derive(Clone, PartialEq, Message)]
pub struct StringStringEntryProto {
    /// The key.
    #[prost(string, tag = "1")]
    pub key: String,
    /// The value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A graph: nodes in topological order, its constant tensors, its inputs and outputs.
#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    /// The operators, each after those whose outputs it reads.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// The graph's name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Constant tensors (weights), referred to by name.
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// A free description.
    #[prost(string, tag = "10")]
    pub doc_string: String,
    /// The graph's inputs.
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// The graph's outputs.
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

/// One operator application.
#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    /// The names of the values it reads.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// The names of the values it makes.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// The node's name (unique in the graph).
    #[prost(string, tag = "3")]
    pub name: String,
    /// The operator, e.g. `ConvTranspose`.
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// Its attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// `AttributeProto.AttributeType.FLOAT`.
const ATTR_FLOAT: i32 = 1;
/// `AttributeProto.AttributeType.INT`.
const ATTR_INT: i32 = 2;
/// `AttributeProto.AttributeType.INTS`.
const ATTR_INTS: i32 = 7;

/// A named attribute of a node: one float, one integer or a list of integers here.
#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    /// The attribute's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// A float value.
    #[prost(float, tag = "2")]
    pub f: f32,
    /// An integer value.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// A list of integers.
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    /// Which of the value fields holds the value.
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// A constant tensor.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    /// Its shape.
    #[prost(int64, repeated, packed = "false", tag = "1")]
    pub dims: Vec<i64>,
    /// Its element type ([`FLOAT`], [`INT64`]).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// Its name, by which nodes read it.
    #[prost(string, tag = "8")]
    pub name: String,
    /// The values, little-endian, row-major.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

/// A graph input's or output's name and type.
#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    /// The value's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    /// A free description.
    #[prost(string, tag = "3")]
    pub doc_string: String,
}

/// A value's type: a tensor here (`TypeProto.tensor_type`, member 1 of its oneof).
#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    /// The tensor's element type and shape.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

/// `TypeProto.Tensor`: element type and shape.
#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
    /// The element type ([`FLOAT`]).
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// The shape.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// A shape, one entry an axis.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    /// The axes.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// One axis: a fixed size or a named, variable one (the members of its oneof).
#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    /// A fixed size.
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    /// The name of a variable size (e.g. `batch`).
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

/// An axis of a value's shape: fixed, or variable under a name.
#[derive(Clone, Debug)]
pub enum Axis {
    /// A fixed size.
    Fixed(usize),
    /// A size chosen when the model runs, under this name.
    Named(&'static str),
}

/// A float tensor's name and shape, for the graph's inputs and outputs.
pub fn float_value(name: &str, shape: &[Axis], doc: &str) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|a| match a {
            Axis::Fixed(n) => Dimension {
                dim_value: Some(*n as i64),
                dim_param: None,
            },
            Axis::Named(p) => Dimension {
                dim_value: None,
                dim_param: Some(p.to_string()),
            },
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: doc.into(),
    }
}

/// A float32 initialiser of `shape` (row-major `values`).
pub fn float_tensor(name: &str, shape: &[usize], values: &[f32]) -> TensorProto {
    debug_assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
    TensorProto {
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: FLOAT,
        name: name.into(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// A 1-D int64 initialiser (shapes for `Reshape`).
pub fn int64_tensor(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: INT64,
        name: name.into(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// An integer attribute.
pub fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        r#type: ATTR_INT,
        ..Default::default()
    }
}

/// A float attribute.
pub fn attr_float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        f,
        r#type: ATTR_FLOAT,
        ..Default::default()
    }
}

/// An integer-list attribute.
pub fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: ints.to_vec(),
        r#type: ATTR_INTS,
        ..Default::default()
    }
}

/// A node of the default domain.
pub fn node(
    op_type: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: name.into(),
        op_type: op_type.into(),
        attribute,
    }
}

/// The file's bytes.
pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// A model read back (for tests and for checking what was written).
pub fn decode(bytes: &[u8]) -> Result<ModelProto, prost::DecodeError> {
    ModelProto::decode(bytes)
}
