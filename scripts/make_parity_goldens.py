#!/usr/bin/env python3
"""The in-repository PyTorch goldens: a small pytorch/examples DCGAN and what PyTorch computes
with it, for `crates/dcgan/tests/parity.rs` on a fresh clone.

    python3 scripts/make_parity_goldens.py crates/dcgan/tests/golden/dcgan32-rgb

Needs torch, numpy and safetensors (PyPI). The network is pytorch/examples' DCGAN generalised to
any side 4·2^k (`torch_dcgan.py`, shared with the other PyTorch scripts), at a width that keeps
the folder under 1 MB. It writes, into OUT:

  netG.safetensors, netD.safetensors   state dicts (keys main.N.*) after 3 warm-up iterations,
                                       so BatchNorm's running statistics are not trivial
  z.npy (B, nz, 1, 1), real.npy (B, nc, S, S) in [-1, 1]
  g_eval.npy, g_train.npy              G(z), BatchNorm on running / batch statistics
  d_eval.npy, d_train.npy              D(real), the same two modes, shape (B,)
  step.json                            one pytorch/examples iteration from that state with fresh
                                       Adam (lr 2e-4, betas (0.5, 0.999)): D step on real and
                                       G(z).detach(), then the G step on the same fake
  netG_step.safetensors, netD_step.safetensors   every weight and buffer after it
  grads_d.safetensors                  d/dθ_D [BCE(D(real), 1) + BCE(D(G(z).detach()), 0)]
  grads_g.safetensors                  d/dθ_G BCE(D(G(z)), 1), both networks in training mode,
                                       at the weights of netG/netD (no optimizer step)
  grads_losses.json, meta.json         the three losses of the gradients; the architecture
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_dcgan import models, train_step  # noqa: E402


def adam(net):
    return torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))


def train_iteration(G, D, opt_g, opt_d, real, z):
    """pytorch/examples' iteration (torch_dcgan.train_step); its losses and mean D outputs."""
    loss_real, loss_fake, loss_g, out_real, out_fake, out_g = train_step(G, D, opt_g, opt_d, real, z)
    return dict(err_d_real=loss_real.item(), err_d_fake=loss_fake.item(),
                err_d=loss_real.item() + loss_fake.item(), err_g=loss_g.item(),
                d_x=out_real.mean().item(), d_g_z1=out_fake.mean().item(),
                d_g_z2=out_g.mean().item())


def gradients(G, D, real, z):
    """Both half-steps' gradients at the current weights, both networks in training mode."""
    bce = nn.BCELoss()
    ones, zeros = torch.ones(real.size(0)), torch.zeros(real.size(0))
    D.zero_grad()
    err_real = bce(D(real).view(-1), ones)
    err_real.backward()
    fake = G(z)
    err_fake = bce(D(fake.detach()).view(-1), zeros)
    err_fake.backward()
    grads_d = {k: p.grad.detach().clone().contiguous() for k, p in D.named_parameters()}
    G.zero_grad()
    D.zero_grad()
    err_g = bce(D(fake).view(-1), ones)
    err_g.backward()
    grads_g = {k: p.grad.detach().clone().contiguous() for k, p in G.named_parameters()}
    losses = dict(err_d_real=err_real.item(), err_d_fake=err_fake.item(), err_g=err_g.item())
    return grads_d, grads_g, losses


def state(net):
    return {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--nc", type=int, default=3)
    ap.add_argument("--nz", type=int, default=16)
    ap.add_argument("--ngf", type=int, default=8)
    ap.add_argument("--ndf", type=int, default=8)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    S, B, out = a.image_size, a.batch, a.out
    net = dict(nz=a.nz, ngf=a.ngf, ndf=a.ndf, nc=a.nc)
    G, D = models(S, **net)
    opt_g, opt_d = adam(G), adam(D)
    for _ in range(3):
        train_iteration(G, D, opt_g, opt_d, torch.rand(B, a.nc, S, S) * 2 - 1, torch.randn(B, a.nz, 1, 1))
    save_file(state(G), f"{out}/netG.safetensors")
    save_file(state(D), f"{out}/netD.safetensors")
    z = torch.randn(B, a.nz, 1, 1)
    # Smooth, image-like inputs (not i.i.d. noise), so BatchNorm's statistics are realistic.
    xs = torch.linspace(-1, 1, S)
    base = torch.sin(3 * xs[None, :] + 2 * xs[:, None])
    real = torch.stack([
        torch.stack([torch.tanh(base * (i + 1) * 0.5 + c * 0.3 + torch.randn(S, S) * 0.1) for c in range(a.nc)])
        for i in range(B)
    ]).float()
    np.save(f"{out}/z.npy", z.numpy().astype(np.float32))
    np.save(f"{out}/real.npy", real.numpy().astype(np.float32))
    with torch.no_grad():
        for mode in ("eval", "train"):
            G.train(mode == "train")
            D.train(mode == "train")
            # Batch statistics in training mode would move the running ones: work on copies.
            g, d = models(S, **net)
            g.load_state_dict(G.state_dict())
            d.load_state_dict(D.state_dict())
            g.train(mode == "train")
            d.train(mode == "train")
            np.save(f"{out}/g_{mode}.npy", g(z).numpy())
            np.save(f"{out}/d_{mode}.npy", d(real).view(-1).numpy())
    G.train()
    D.train()
    # The gradients on copies, so the iteration below starts from the saved state.
    g, d = models(S, **net)
    g.load_state_dict(G.state_dict())
    d.load_state_dict(D.state_dict())
    grads_d, grads_g, losses = gradients(g, d, real, z)
    save_file(grads_d, f"{out}/grads_d.safetensors")
    save_file(grads_g, f"{out}/grads_g.safetensors")
    json.dump(losses, open(f"{out}/grads_losses.json", "w"), indent=1)
    stats = train_iteration(G, D, adam(G), adam(D), real, z)
    assert abs(stats["err_d_real"] - losses["err_d_real"]) <= 1e-6
    save_file(state(G), f"{out}/netG_step.safetensors")
    save_file(state(D), f"{out}/netD_step.safetensors")
    json.dump(stats, open(f"{out}/step.json", "w"), indent=1)
    meta = dict(image_size=S, nc=a.nc, nz=a.nz, ngf=a.ngf, ndf=a.ndf, batch=B, seed=a.seed,
                lr=2e-4, beta1=0.5, beta2=0.999, adam_eps=1e-8, bn_eps=1e-5, bn_momentum=0.1,
                leaky_slope=0.2, torch=torch.__version__)
    json.dump(meta, open(f"{out}/meta.json", "w"), indent=1)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(json.dumps(stats))
    print(f"{out}: {len(os.listdir(out))} files, {total} bytes")


if __name__ == "__main__":
    main()
