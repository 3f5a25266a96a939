#!/usr/bin/env python3
"""Check a generator written by `dcgan export-onnx` with onnx's checker and onnxruntime.

    python3 scripts/check_onnx.py g.onnx --latent z.npy --expect images.npy

Runs the model on the latents (all at once, then one at a time, so the open batch size is
exercised) and compares with `dcgan generate`'s output for the same latents. Prints one JSON
object: the opset and IR version, the input and output shapes as the file declares them, the
metadata, and the largest absolute differences. Exit 1 when onnx's full check fails; the
caller judges the differences. Needs `pip install onnx onnxruntime numpy`.
"""
import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("--latent", required=True, help=".npy latents (N, nz)")
    p.add_argument("--expect", required=True, help="`dcgan generate`'s .npy output for them")
    a = p.parse_args()

    model = onnx.load(a.model)
    checked = True
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's own exception types vary between onnx versions
        checked = str(e)
    z = np.load(a.latent).astype(np.float32)
    z = z.reshape(z.shape[0], -1)
    want = np.load(a.expect)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    whole = sess.run(None, {inp.name: z})[0]
    single = np.concatenate([sess.run(None, {inp.name: z[i:i + 1]})[0] for i in range(len(z))])
    report = {
        "checker": checked,
        "opset": [o.version for o in model.opset_import],
        "ir_version": model.ir_version,
        "input": [inp.name, dims(model.graph.input[0])],
        "output": [out.name, dims(model.graph.output[0])],
        "ops": [n.op_type for n in model.graph.node],
        "metadata": sess.get_modelmeta().custom_metadata_map,
        "shape": list(whole.shape),
        "max_abs_diff": float(np.abs(whole - want).max()),
        "max_abs_diff_batch_of_one": float(np.abs(single - want).max()),
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
    }
    print(json.dumps(report))
    return 0 if checked is True else 1


if __name__ == "__main__":
    sys.exit(main())
