#!/usr/bin/env python3
"""DiffAugment's three policies in PyTorch on given draws, and their gradients, for
`crates/dcgan/tests/augment.rs` (`dcgan train --augment`).

    python3 scripts/make_augment_goldens.py crates/dcgan/tests/golden/diffaugment

The policies as the authors formulate them (Zhao et al. 2020, DiffAugment_pytorch.py: the
same arithmetic, the same zero padding, index clamping and mask), with the random draws taken
from draws.json instead of torch's generator, so dcgan can apply the same draws. Input: the
first 4 images of the in-repository golden batch (dcgan32-rgb/real.npy) cropped to 16×16, x in
[-1, 1]; a fixed weight w; for POLICY in color, translation, cutout and all (the three in
order) it writes y_POLICY.npy = augment(x) and dx_POLICY.npy = d/dx sum(w * augment(x)).
Needs torch and numpy.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F


def brightness(x, u):
    return x + (u.view(-1, 1, 1, 1) - 0.5)


def saturation(x, u):
    m = x.mean(dim=1, keepdim=True)
    return (x - m) * (u.view(-1, 1, 1, 1) * 2) + m


def contrast(x, u):
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - m) * (u.view(-1, 1, 1, 1) + 0.5) + m


def translation(x, t):
    """t: (B, 2) shifts (rows, columns); zeros come in (the pad + clamped index of the paper's code)."""
    b, _, h, w = x.shape
    tx, ty = t[:, 0].view(-1, 1, 1), t[:, 1].view(-1, 1, 1)
    gb, gx, gy = torch.meshgrid(torch.arange(b), torch.arange(h), torch.arange(w), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return pad.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def cutout(x, o):
    """o: (B, 2) centres (rows, columns) of the square of side int(side/2 + 0.5)."""
    b, _, h, w = x.shape
    size = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
    ox, oy = o[:, 0].view(-1, 1, 1), o[:, 1].view(-1, 1, 1)
    gb, gx, gy = torch.meshgrid(torch.arange(b), torch.arange(size[0]), torch.arange(size[1]), indexing="ij")
    gx = torch.clamp(gx + ox - size[0] // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + oy - size[1] // 2, min=0, max=w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


def augment(x, draws, policies):
    if "color" in policies:
        c = torch.tensor(draws["color"], dtype=torch.float32)
        x = contrast(saturation(brightness(x, c[:, 0]), c[:, 1]), c[:, 2])
    if "translation" in policies:
        x = translation(x, torch.tensor(draws["translation"]))
    if "cutout" in policies:
        x = cutout(x, torch.tensor(draws["cutout"]))
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    real = np.load(os.path.join(here, "..", "crates/dcgan/tests/golden/dcgan32-rgb/real.npy"))
    x = np.ascontiguousarray(real[:4, :, :16, :16])
    b, side = x.shape[0], x.shape[2]
    rng = np.random.default_rng(2020)
    limit = int(side * 0.125 + 0.5)
    cut = int(side * 0.5 + 0.5)
    draws = {
        "color": rng.random((b, 3)).astype(np.float32).tolist(),
        # The extremes of each range among them: a full shift each way, a square at the corner.
        "translation": [[limit, -limit], [-limit, 0], [1, limit], [0, -1]],
        "cutout": [[0, side + (1 - cut % 2) - 1], [side // 2, 3], [side - 1, 0], [5, 11]],
    }
    w = rng.standard_normal(x.shape).astype(np.float32)
    os.makedirs(a.out, exist_ok=True)
    np.save(f"{a.out}/x.npy", x)
    np.save(f"{a.out}/w.npy", w)
    json.dump(draws, open(f"{a.out}/draws.json", "w"), indent=1)
    for name, policies in [("color", ["color"]), ("translation", ["translation"]),
                           ("cutout", ["cutout"]), ("all", ["color", "translation", "cutout"])]:
        xt = torch.from_numpy(x).clone().requires_grad_(True)
        y = augment(xt, draws, policies)
        (y * torch.from_numpy(w)).sum().backward()
        np.save(f"{a.out}/y_{name}.npy", y.detach().numpy())
        np.save(f"{a.out}/dx_{name}.npy", xt.grad.numpy())
        print(name, float(y.detach().abs().max()), float(xt.grad.abs().max()))
    json.dump(dict(torch=torch.__version__), open(f"{a.out}/meta.json", "w"))


if __name__ == "__main__":
    main()
