//! `dcgan export-onnx`: G in inference mode as an ONNX model, batch size left open.
//!
//! The graph mirrors G layer for layer: each transposed convolution (or the authors' dense
//! projection, a `MatMul`), then `BatchNormalization` with the checkpoint's running statistics,
//! `Relu`, and `Tanh` at the end. BatchNorm is kept as its own node rather than folded into the
//! weights: every value of the checkpoint is then in the file under its own name, so the file
//! can be checked against the checkpoint tensor by tensor, and the arithmetic is the same as
//! `dcgan generate`'s ((x − mean)/√(var + ε)·γ + β, in float32); runtimes fuse the pair when
//! they load the model.

use std::path::PathBuf;

use burn::tensor::Device;
use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::config::ModelConfig;
use crate::io::onnx::{self, Axis, NodeProto, TensorProto};
use crate::model::Generator;
use crate::model::layers::{BatchNorm, ConvT};
use crate::tasks::Events;
use crate::{Error, Result};

/// The model's input: latents, `[batch, nz]`.
pub const ONNX_INPUT: &str = "z";
/// The model's output: images, `[batch, nc, size, size]` in [−1, 1].
pub const ONNX_OUTPUT: &str = "image";

#[derive(Clone, Debug)]
/// `dcgan export-onnx`: a checkpoint's G as an ONNX file.
pub struct ExportOnnxConfig {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// The `.onnx` file to write.
    pub out: PathBuf,
    /// The ONNX opset, [`onnx::MIN_OPSET`]..=[`onnx::MAX_OPSET`].
    pub opset: i64,
}

impl ExportOnnxConfig {
    /// The opset in range.
    pub fn validate(&self) -> Result<()> {
        if !(onnx::MIN_OPSET..=onnx::MAX_OPSET).contains(&self.opset) {
            return Err(Error::config(
                "opset",
                self.opset,
                format!(
                    "the exporter writes opsets {} to {}",
                    onnx::MIN_OPSET,
                    onnx::MAX_OPSET
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// What `dcgan export-onnx` wrote.
pub struct ExportOnnxReport {
    /// The file written.
    pub written: PathBuf,
    /// Its opset.
    pub opset: i64,
    /// Its IR (file format) version.
    pub ir_version: i64,
    /// The input's name and shape (`batch` is left open).
    pub input: (String, Vec<String>),
    /// The output's name and shape.
    pub output: (String, Vec<String>),
    /// The checkpoint's training step.
    pub step: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Write the checkpoint's G as ONNX.
pub fn export_onnx(c: ExportOnnxConfig, _events: &mut dyn Events) -> Result<ExportOnnxReport> {
    c.validate()?;
    let ckpt = Checkpoint::load(&c.checkpoint)?;
    let g = ckpt.unconditional_generator(&Device::flex(), "export-onnx")?;
    let m = ckpt.model();
    let doc = format!(
        "DCGAN generator from {} after {} training steps",
        ckpt.path.display(),
        ckpt.state.step
    );
    let model = generator_model(&g, m, c.opset, &doc, ckpt.state.step);
    let bytes = onnx::encode(&model);
    super::write(&c.out, &bytes)?;
    let axes = |what: &[&str]| what.iter().map(|s| s.to_string()).collect();
    let (nz, nc, s) = (m.latent_dim, m.channels, m.image_size);
    Ok(ExportOnnxReport {
        written: c.out,
        opset: c.opset,
        ir_version: model.ir_version,
        input: (ONNX_INPUT.into(), axes(&["batch", &nz.to_string()])),
        output: (
            ONNX_OUTPUT.into(),
            axes(&["batch", &nc.to_string(), &s.to_string(), &s.to_string()]),
        ),
        step: ckpt.state.step,
        bytes: bytes.len() as u64,
    })
}

/// The graph under construction: nodes in order, initialisers, and the name of the value the
/// next layer reads.
struct Builder {
    nodes: Vec<NodeProto>,
    weights: Vec<TensorProto>,
    last: String,
}

impl Builder {
    /// Append `op` reading the current value (and `extra` inputs), making `name`.
    fn push(
        &mut self,
        op: &str,
        name: &str,
        extra: &[&str],
        attributes: Vec<onnx::AttributeProto>,
    ) {
        let mut inputs = vec![self.last.as_str()];
        inputs.extend_from_slice(extra);
        self.nodes
            .push(onnx::node(op, name, &inputs, &[name], attributes));
        self.last = name.to_string();
    }

    fn conv_t(&mut self, name: &str, conv: &ConvT) {
        let w = conv.weight.val();
        let dims = w.dims();
        let weight = format!("{name}.weight");
        self.weights.push(onnx::float_tensor(
            &weight,
            &dims,
            &crate::model::host_vec(w),
        ));
        let (k, s, p, op) = (
            dims[2] as i64,
            conv.stride as i64,
            conv.padding as i64,
            conv.output_padding as i64,
        );
        self.push(
            "ConvTranspose",
            name,
            &[&weight],
            vec![
                onnx::attr_ints("kernel_shape", &[k, k]),
                onnx::attr_ints("strides", &[s, s]),
                onnx::attr_ints("pads", &[p, p, p, p]),
                onnx::attr_ints("output_padding", &[op, op]),
                onnx::attr_ints("dilations", &[1, 1]),
                onnx::attr_int("group", 1),
            ],
        );
    }

    /// BatchNorm with the running statistics, then ReLU.
    fn norm_relu(&mut self, name: &str, bn: &BatchNorm) {
        let params = [
            ("gamma", bn.gamma.val()),
            ("beta", bn.beta.val()),
            ("running_mean", bn.running_mean.value()),
            ("running_var", bn.running_var.value()),
        ];
        let mut names = Vec::new();
        for (what, t) in params {
            let n = format!("{name}.{what}");
            let dims = t.dims();
            self.weights
                .push(onnx::float_tensor(&n, &dims, &crate::model::host_vec(t)));
            names.push(n);
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        self.push(
            "BatchNormalization",
            name,
            &refs,
            vec![onnx::attr_float("epsilon", bn.eps as f32)],
        );
        self.push("Relu", &format!("{name}.relu"), &[], vec![]);
    }

    fn reshape(&mut self, name: &str, shape: &[i64]) {
        let s = format!("{name}.shape");
        self.weights.push(onnx::int64_tensor(&s, shape));
        self.push("Reshape", name, &[&s], vec![]);
    }
}

/// How the model's metadata names z's distribution.
fn latent_name(m: &ModelConfig) -> &'static str {
    match m.latent_distribution {
        crate::config::LatentDistribution::Normal => "normal(0, 1)",
        crate::config::LatentDistribution::Uniform => "uniform(-1, 1)",
    }
}

/// G as an ONNX model at `opset`: input `z` `[batch, nz]`, output `image`
/// `[batch, nc, size, size]`.
pub fn generator_model(
    g: &Generator,
    m: &ModelConfig,
    opset: i64,
    doc: &str,
    step: u64,
) -> onnx::ModelProto {
    let mut b = Builder {
        nodes: Vec::new(),
        weights: Vec::new(),
        last: ONNX_INPUT.into(),
    };
    let nz = m.latent_dim as i64;
    if let Some(conv) = &g.project_conv {
        b.reshape("project.input", &[-1, nz, 1, 1]);
        b.conv_t("project.conv", conv);
        b.norm_relu("project.norm", &g.project_norm);
    } else if let Some(dense) = &g.project_dense {
        let w = dense.weight.val();
        let dims = w.dims();
        b.weights.push(onnx::float_tensor(
            "project.dense.weight",
            &dims,
            &crate::model::host_vec(w),
        ));
        b.push("MatMul", "project.dense", &["project.dense.weight"], vec![]);
        b.norm_relu("project.norm", &g.project_norm);
        b.reshape("project.map", &[-1, g.base_channels as i64, 4, 4]);
    }
    for (i, block) in g.blocks.iter().enumerate() {
        b.conv_t(&format!("blocks.{i}.conv"), &block.conv);
        b.norm_relu(&format!("blocks.{i}.norm"), &block.norm);
    }
    b.conv_t("output.conv", &g.output);
    b.push("Tanh", "output.tanh", &[], vec![]);
    // The last node writes the graph's output under its public name.
    b.nodes.last_mut().expect("G has nodes").output = vec![ONNX_OUTPUT.into()];

    let (nc, s) = (m.channels, m.image_size);
    let graph = onnx::GraphProto {
        node: b.nodes,
        name: "dcgan_generator".into(),
        initializer: b.weights,
        doc_string: doc.into(),
        input: vec![onnx::float_value(
            ONNX_INPUT,
            &[Axis::Named("batch"), Axis::Fixed(m.latent_dim)],
            &format!("latent codes, {} distribution", latent_name(m)),
        )],
        output: vec![onnx::float_value(
            ONNX_OUTPUT,
            &[
                Axis::Named("batch"),
                Axis::Fixed(nc),
                Axis::Fixed(s),
                Axis::Fixed(s),
            ],
            "images, channels first, in [-1, 1]",
        )],
    };
    let meta = |k: &str, v: String| onnx::StringStringEntryProto {
        key: k.into(),
        value: v,
    };
    onnx::ModelProto {
        ir_version: onnx::ir_version(opset),
        opset_import: vec![onnx::OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        producer_name: "dcgan".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: doc.into(),
        graph: Some(graph),
        metadata_props: vec![
            meta("latent_dim", m.latent_dim.to_string()),
            meta("latent_distribution", latent_name(m).to_string()),
            meta("image_size", s.to_string()),
            meta("channels", nc.to_string()),
            meta("output_range", "[-1, 1]".into()),
            meta("step", step.to_string()),
        ],
    }
}
