#!/usr/bin/env python3
"""How often pytorch/examples' DCGAN drives D's sigmoid output to where its `nn.BCELoss`
gradient differs from BCE computed from the logits (what `dcgan train` does): an output of
exactly 1.0 (a logit above about 16.6 in float32; PyTorch's gradient there is 0) or below 1e-12
(a logit below about -27.6; BCELoss's floor shrinks the gradient). Trains PyTorch's DCGAN on
CIFAR-10 32x32 with the recipe of scripts/side_by_side.py and prints, every 250 steps, the
counts so far for the real batch, the fake batch in D's step, and the fake batch in G's step.
Not part of the test suite (minutes of CPU).

    python3 scripts/torch_saturation.py --data target/shared-data/cifar10-jpg/train [--steps 2000] [--seed 7]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    import torch
    from side_by_side import load_images
    from torch_dcgan import models, train_step

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = torch.from_numpy(load_images(a.data, 32)).permute(0, 3, 1, 2).contiguous()
    G, D = models(32)
    oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    counts = {f"{k}_{w}": 0 for k in ("real", "fake", "g") for w in ("one", "below_1e-12")}
    step, seen, t0 = 0, 0, time.time()
    while step < a.steps:
        order = torch.randperm(len(images))
        for b in range(len(images) // 64):
            if step >= a.steps:
                break
            real = images[order[b * 64:(b + 1) * 64]].float() / 127.5 - 1
            noise = torch.randn(64, 100, 1, 1)
            *_, out_real, out_fake, out_g = train_step(G, D, oG, oD, real, noise)
            for k, o in (("real", out_real), ("fake", out_fake), ("g", out_g)):
                o = o.detach()
                counts[f"{k}_one"] += int((o == 1.0).sum())
                counts[f"{k}_below_1e-12"] += int((o < 1e-12).sum())
            step, seen = step + 1, seen + 64
            if step % 250 == 0 or step == a.steps:
                print(f"step {step} ({time.time() - t0:.0f} s): {counts} of {seen} outputs each", flush=True)


if __name__ == "__main__":
    main()
