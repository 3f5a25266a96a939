#!/usr/bin/env python3
"""Same start, same batches: does `dcgan train`'s step follow PyTorch's step by step?

pytorch/examples' DCGAN (scripts/torch_dcgan.py) is initialised from SEED and its weights handed
to dcgan (`dcgan import-torch`). Both then train for STEPS iterations on the same real batches
(CIFAR-10 images in a seeded order) and the same latents, with nothing random left
(`dcgan replay`). PyTorch runs twice: in float32, as it trains, and in float64, as the reference
both float32 runs are measured against. If dcgan's step equals PyTorch's, dcgan drifts from the
float64 run no faster than PyTorch's own float32 run does; a defect shows up as a gap from the
first steps on.

    python3 scripts/replay_vs_torch.py --data DIR --out DIR [--steps 200] [--batch 64] [--seed 1]
        [--size 32] [--threads 2]

Writes OUT/summary.json (per-step loss differences and the final weights' differences) and
OUT/replay.png (the differences against the step, log scale). Not part of the test suite.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.dirname(HERE)
DCGAN = os.environ.get("DCGAN", os.path.join(ROOT, "target", "release", "dcgan"))
FIELDS = ["loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake", "d_fake_after"]


def torch_trajectory(G, D, real, z, batch, dtype):
    """PyTorch's training loop on the given batches, in DTYPE; per-step measurements."""
    import torch
    from torch_dcgan import train_step

    G, D = G.to(dtype), D.to(dtype)
    oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rows = []
    for i in range(len(real) // batch):
        x = real[i * batch:(i + 1) * batch].to(dtype)
        noise = z[i * batch:(i + 1) * batch].to(dtype).view(batch, -1, 1, 1)
        out = train_step(G, D, oG, oD, x, noise)
        rows.append({f: (t.mean() if f.startswith("d_") else t).item() for f, t in zip(FIELDS, out)})
    return rows, G.state_dict(), D.state_dict()


def weight_gaps(ours, ref):
    """Per tensor, max |ours − ref| / max |ref| (running statistics included)."""
    gaps = {}
    for k, r in ref.items():
        if not r.is_floating_point():
            continue
        r = r.double()
        gaps[k] = float((ours[k].double() - r).abs().max() / r.abs().max().clamp_min(1e-30))
    return gaps


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file
    from side_by_side import image_paths, load_images
    from torch_dcgan import models

    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    G, D = models(a.size)
    init = {"G": {k: v.clone() for k, v in G.state_dict().items()},
            "D": {k: v.clone() for k, v in D.state_dict().items()}}
    save_file({k: v.contiguous() for k, v in init["G"].items()}, os.path.join(a.out, "init-netG.safetensors"))
    save_file({k: v.contiguous() for k, v in init["D"].items()}, os.path.join(a.out, "init-netD.safetensors"))

    n = a.steps * a.batch
    paths = image_paths(a.data)
    order = torch.randperm(len(paths), generator=torch.Generator().manual_seed(a.seed))
    picked = [paths[i] for i in order.tolist()[:n]]
    if len(picked) < n:
        sys.exit(f"error: {a.data}: {len(paths)} images, {n} needed (steps × batch)")
    real = torch.from_numpy(load_images(a.data, a.size, picked)).permute(0, 3, 1, 2).float() / 127.5 - 1
    z = torch.randn(n, 100, generator=torch.Generator().manual_seed(a.seed + 1000))
    np.save(os.path.join(a.out, "real.npy"), real.contiguous().numpy())
    np.save(os.path.join(a.out, "z.npy"), z.numpy())

    runs, finals, seconds = {}, {}, {}
    for name, dtype in [("torch-f32", torch.float32), ("torch-f64", torch.float64)]:
        g, d = models(a.size)
        g.load_state_dict(init["G"])
        d.load_state_dict(init["D"])
        t = time.time()
        runs[name], sg, sd = torch_trajectory(g, d, real, z, a.batch, dtype)
        seconds[name] = round(time.time() - t, 1)
        finals[name] = {**{"G." + k: v for k, v in sg.items()}, **{"D." + k: v for k, v in sd.items()}}
        print(f"{name}: {a.steps} steps in {seconds[name]} s", flush=True)

    ckpt = os.path.join(a.out, "init.safetensors")
    subprocess.run([DCGAN, "import-torch", "--generator", os.path.join(a.out, "init-netG.safetensors"),
                    "--discriminator", os.path.join(a.out, "init-netD.safetensors"),
                    "--image-size", str(a.size), "--out", ckpt], check=True, capture_output=True)
    t = time.time()
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    subprocess.run([DCGAN, "replay", "--checkpoint", ckpt, "--real", os.path.join(a.out, "real.npy"),
                    "--latent", os.path.join(a.out, "z.npy"), "--batch-size", str(a.batch),
                    "--out", os.path.join(a.out, "dcgan")], check=True, capture_output=True, env=env)
    seconds["dcgan"] = round(time.time() - t, 1)
    runs["dcgan"] = [json.loads(l) for l in open(os.path.join(a.out, "dcgan", "steps.jsonl"))]
    finals["dcgan"] = {**{"G." + k: v for k, v in load_file(os.path.join(a.out, "dcgan", "netG.safetensors")).items()},
                       **{"D." + k: v for k, v in load_file(os.path.join(a.out, "dcgan", "netD.safetensors")).items()}}
    print(f"dcgan: {a.steps} steps in {seconds['dcgan']} s", flush=True)

    ref = runs["torch-f64"]
    gaps = {}
    for name in ["torch-f32", "dcgan"]:
        gaps[name] = [max(abs(r[f] - q[f]) for f in FIELDS) for r, q in zip(runs[name], ref)]
    gaps["dcgan vs torch-f32"] = [max(abs(r[f] - q[f]) for f in FIELDS)
                                  for r, q in zip(runs["dcgan"], runs["torch-f32"])]
    wg = {name: weight_gaps(finals[name], finals["torch-f64"]) for name in ["torch-f32", "dcgan"]}
    marks = [s for s in [1, 2, 5, 10, 20, 50, 100, 200, 400, 800, 1600] if s <= a.steps]
    summary = {
        "settings": vars(a),
        "seconds": seconds,
        "largest per-step gap over the six measurements, at step": {
            name: {str(s): g[s - 1] for s in marks} for name, g in gaps.items()},
        "final weights: largest relative gap of any tensor": {
            name: max(w.values()) for name, w in wg.items()},
        "final weights: relative gap per tensor": wg,
        "last step": {name: r[-1] for name, r in runs.items()},
    }
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: summary[k] for k in list(summary)[1:4]}, indent=1))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = list(range(1, a.steps + 1))
    style = {"torch-f32": ("#c33", "PyTorch float32 vs PyTorch float64"),
             "dcgan": ("#36c", "dcgan vs PyTorch float64"),
             "dcgan vs torch-f32": ("#999", "dcgan vs PyTorch float32")}
    for name, (colour, label) in style.items():
        ax.semilogy(steps, [max(v, 1e-12) for v in gaps[name]], color=colour, label=label, linewidth=1)
    ax.set_xlabel("step")
    ax.set_ylabel("largest |difference| of the step's losses and D outputs")
    ax.set_title(f"Same start, same batches (CIFAR-10 {a.size}×{a.size}, batch {a.batch}, seed {a.seed})")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "replay.png"), dpi=110)


if __name__ == "__main__":
    main()
