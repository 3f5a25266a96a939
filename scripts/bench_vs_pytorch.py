#!/usr/bin/env python3
"""Side-by-side speed: this project's `dcgan bench` against the identical model and training step
in PyTorch (pytorch/examples' DCGAN generalised to 4·2^k images), on the same machine, in the same
invocation. Not part of the test suite.

    python3 scripts/bench_vs_pytorch.py [--configs 64x64,64x128,32x64,32x128] [--runs 10] [--threads 2]
                                        [--device flex|cuda|cuda:N]

With --device cuda both sides run on the same GPU (PyTorch in float32, TF32 off, synchronised
before each timing ends; dcgan reads its losses and images back, which waits for the GPU).

Each configuration runs in its own process on each side (so peak memory is per configuration):
PyTorch with torch.set_num_threads(THREADS), dcgan with RAYON_NUM_THREADS=THREADS. Reports the
median and minimum seconds per training iteration and per G forward, images/s, peak RSS, and the
ratio dcgan/PyTorch in images/s (above 1: dcgan is faster).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def torch_bench(size, batch, runs, warmup, threads, device="flex", nz=100, ngf=64, ndf=64, nc=3):
    import torch
    import torch.nn as nn
    from torch_dcgan import models

    torch.set_num_threads(threads)
    dev = torch.device("cpu" if device == "flex" else device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    G, D = models(size, nz, ngf, ndf, nc)
    G, D = G.to(dev), D.to(dev)
    oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    ones, zeros = torch.ones(batch, device=dev), torch.zeros(batch, device=dev)

    def iteration():
        real = torch.rand(batch, nc, size, size, device=dev) * 2 - 1
        z = torch.randn(batch, nz, 1, 1, device=dev)
        D.zero_grad()
        err_real = bce(D(real).view(-1), ones)
        err_real.backward()
        fake = G(z)
        err_fake = bce(D(fake.detach()).view(-1), zeros)
        err_fake.backward()
        oD.step()
        G.zero_grad()
        err_g = bce(D(fake).view(-1), ones)
        err_g.backward()
        oG.step()
        return err_g.item()

    def timed(f, n, w):
        for _ in range(w):
            f()
        out = []
        for _ in range(n):
            t = time.perf_counter()
            f()
            out.append(time.perf_counter() - t)
        return out

    G.train(); D.train()
    train = timed(iteration, runs, warmup)
    G.eval()
    with torch.no_grad():
        z1, zb = torch.randn(1, nz, 1, 1, device=dev), torch.randn(batch, nz, 1, 1, device=dev)
        gen1 = timed(lambda: G(z1).cpu().numpy(), runs, warmup)
        genb = timed(lambda: G(zb).cpu().numpy(), runs, warmup)
    summary = lambda s, items: {"median_s": statistics.median(s), "min_s": min(s), "items_per_s_median": items / statistics.median(s)}
    return {
        "train": summary(train, batch),
        "generate_batch1": summary(gen1, 1),
        "generate": summary(genb, batch),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
    }


def dcgan_bench(size, batch, runs, warmup, threads, binary, device="flex"):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(
        [binary, "bench", "--json", "--image-size", str(size), "--batch-size", str(batch), "--runs", str(runs),
         "--warmup", str(warmup), "--only", "train", "--only", "generate", "--device", device],
        env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="64x64,64x128,32x64,32x128", help="SIZExBATCH,...")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/dcgan"))
    ap.add_argument("--device", default="flex", help="flex (CPU), cuda or cuda:N: the same device on both sides")
    ap.add_argument("--json", help="also write all numbers to this file")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one PyTorch configuration
    a = ap.parse_args()
    if a.one:
        size, batch = map(int, a.one.split("x"))
        print(json.dumps(torch_bench(size, batch, a.runs, a.warmup, a.threads, a.device)))
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("PyTorch is not installed: nothing to compare against (see docs/performance.md for how to install it)")
    if not os.path.exists(a.binary):
        sys.exit(f"{a.binary} not found: run `cargo build --release -p dcgan-cli` first")
    results = []
    print(f"device {a.device}")
    print(f"{'config':<12} {'':<8} {'train s/it':>11} {'train img/s':>12} {'G b1 ms':>9} {'G img/s':>9} {'peak MiB':>9}")
    for cfg in a.configs.split(","):
        size, batch = map(int, cfg.split("x"))
        t = json.loads(subprocess.run([sys.executable, __file__, "--one", cfg, "--runs", str(a.runs), "--warmup", str(a.warmup),
                                       "--threads", str(a.threads), "--device", a.device],
                                      check=True, capture_output=True, text=True).stdout)
        d = dcgan_bench(size, batch, a.runs, a.warmup, a.threads, a.binary, a.device)
        for name, r in (("pytorch", t), ("dcgan", d)):
            print(f"{cfg:<12} {name:<8} {r['train']['median_s']:>11.3f} {r['train']['items_per_s_median']:>12.1f} "
                  f"{1000 * r['generate_batch1']['median_s']:>9.2f} {r['generate']['items_per_s_median']:>9.1f} {r['peak_rss_mib']:>9.0f}")
        ratio = {k: d[k]["items_per_s_median"] / t[k]["items_per_s_median"] for k in ("train", "generate", "generate_batch1")}
        print(f"{cfg:<12} {'ratio':<8} train {ratio['train']:.2f}x  G batch {batch} {ratio['generate']:.2f}x  "
              f"G batch 1 {ratio['generate_batch1']:.2f}x  memory {d['peak_rss_mib'] / t['peak_rss_mib']:.2f}x")
        results.append({"config": cfg, "pytorch": t, "dcgan": d, "ratio": ratio})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
