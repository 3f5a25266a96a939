#!/usr/bin/env python3
"""PyTorch's gradients of the hinge and least-squares objectives on the in-repository golden
DCGAN, for `crates/dcgan/tests/parity.rs` (`dcgan train --loss hinge|lsgan`).

    python3 scripts/make_loss_goldens.py crates/dcgan/tests/golden/dcgan32-rgb

Reads netG/netD.safetensors, real.npy, z.npy and meta.json written there by
make_parity_goldens.py; writes, for LOSS in hinge and lsgan:

  grads_LOSS_d.safetensors   d/dθ_D [L_real(D(real)) + L_fake(D(G(z).detach()))]
  grads_LOSS_g.safetensors   d/dθ_G L_G(D(G(z))) through the same D on the same fake batch
  grads_LOSS_losses.json     err_d_real, err_d_fake, err_g

both networks in training mode at the saved weights (no optimizer step), on D's logit (the
network without its final Sigmoid). The objectives, as the hinge loss of SNGAN/BigGAN and the
least-squares loss of Mao et al. (a = 0, b = c = 1) are written in StudioGAN's losses.py:
  hinge: L_real = mean(relu(1 - l)), L_fake = mean(relu(1 + l)), L_G = -mean(l)
  lsgan: L_real = mean(0.5 (l - 1)^2), L_fake = mean(0.5 l^2), L_G = mean(0.5 (l - 1)^2)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_dcgan import models  # noqa: E402

LOSSES = {
    "hinge": (lambda l: torch.relu(1 - l).mean(), lambda l: torch.relu(1 + l).mean(), lambda l: -l.mean()),
    "lsgan": (lambda l: (0.5 * (l - 1) ** 2).mean(), lambda l: (0.5 * l ** 2).mean(),
              lambda l: (0.5 * (l - 1) ** 2).mean()),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("golden")
    a = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    g_dir = a.golden
    meta = json.load(open(f"{g_dir}/meta.json"))
    net = dict(nz=meta["nz"], ngf=meta["ngf"], ndf=meta["ndf"], nc=meta["nc"])
    real = torch.from_numpy(np.load(f"{g_dir}/real.npy"))
    z = torch.from_numpy(np.load(f"{g_dir}/z.npy"))
    for name, (l_real, l_fake, l_g) in LOSSES.items():
        G, D = models(meta["image_size"], **net)
        G.load_state_dict(load_file(f"{g_dir}/netG.safetensors"))
        D.load_state_dict(load_file(f"{g_dir}/netD.safetensors"))
        G.train()
        D.train()
        logit = lambda x: D.main[:-1](x).view(-1)  # noqa: E731  D without its Sigmoid
        D.zero_grad()
        err_real = l_real(logit(real))
        err_real.backward()
        fake = G(z)
        err_fake = l_fake(logit(fake.detach()))
        err_fake.backward()
        grads_d = {k: p.grad.detach().clone().contiguous() for k, p in D.named_parameters()}
        G.zero_grad()
        D.zero_grad()
        err_g = l_g(logit(fake))
        err_g.backward()
        grads_g = {k: p.grad.detach().clone().contiguous() for k, p in G.named_parameters()}
        save_file(grads_d, f"{g_dir}/grads_{name}_d.safetensors")
        save_file(grads_g, f"{g_dir}/grads_{name}_g.safetensors")
        losses = dict(err_d_real=err_real.item(), err_d_fake=err_fake.item(), err_g=err_g.item())
        json.dump(losses, open(f"{g_dir}/grads_{name}_losses.json", "w"), indent=1)
        print(name, losses)


if __name__ == "__main__":
    main()
