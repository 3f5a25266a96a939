#!/usr/bin/env python3
"""PyTorch's gradients of the class-conditional DCGAN (`dcgan train --conditional`) on the
in-repository golden DCGAN, for `crates/dcgan/tests/parity.rs`.

    python3 scripts/make_conditional_goldens.py crates/dcgan/tests/golden/dcgan32-rgb

Reads netG/netD.safetensors, real.npy, z.npy and meta.json written there by
make_parity_goldens.py, and makes the conditional pair from them with K = 3 classes:

  G's input is z followed by the class one-hot (a conditional GAN's input, Mirza & Osindero
    2014): its first transposed convolution gains K input rows, drawn N(0, 0.02);
  D is conditioned by projection (Miyato & Koyama 2018): with h its last hidden activation
    (after LeakyReLU), logit(x, y) = conv_out(h) + <embed(y), sum over positions of h>, the
    embedding `embed.weight` [K, C] drawn N(0, 0.05).

Writes cond_netG.safetensors, cond_netD.safetensors (pytorch/examples keys, plus
`embed.weight`), cond_labels.npy (int64, one class per image, real and fake alike), and

  grads_cond_d.safetensors   d/dθ_D [BCE(D(x, y), 1) + BCE(D(G(z, y).detach(), y), 0)]
  grads_cond_g.safetensors   d/dθ_G BCE(D(G(z, y), y), 1) through the same D
  grads_cond_losses.json     err_d_real, err_d_fake, err_g

both networks in training mode at the saved weights (no optimizer step).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_dcgan import models  # noqa: E402

K = 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("golden")
    a = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.manual_seed(7)
    g_dir = a.golden
    meta = json.load(open(f"{g_dir}/meta.json"))
    nz, ngf, ndf, nc = meta["nz"], meta["ngf"], meta["ndf"], meta["nc"]
    real = torch.from_numpy(np.load(f"{g_dir}/real.npy"))
    z = torch.from_numpy(np.load(f"{g_dir}/z.npy")).reshape(real.shape[0], nz)
    labels = torch.arange(real.shape[0]) % K
    labels = labels[torch.randperm(real.shape[0])]

    G, D = models(meta["image_size"], nz=nz + K, ngf=ngf, ndf=ndf, nc=nc)
    sg = load_file(f"{g_dir}/netG.safetensors")
    first = sg["main.0.weight"]  # [nz, C, 4, 4]
    sg["main.0.weight"] = torch.cat([first, torch.randn(K, *first.shape[1:]) * 0.02], 0)
    G.load_state_dict(sg)
    D.load_state_dict(load_file(f"{g_dir}/netD.safetensors"))
    top = D.main[-2].weight.shape[1]
    embed = nn.Embedding(K, top)
    with torch.no_grad():
        embed.weight.normal_(0.0, 0.05)
    G.train()
    D.train()

    def logit(x):
        h = D.main[:-2](x)  # the last hidden activation, [b, C, 4, 4]
        return D.main[-2](h).view(-1) + (embed(labels) * h.sum(dim=(2, 3))).sum(1)

    def bce(l, target):
        return F.binary_cross_entropy_with_logits(l, torch.full_like(l, target))

    params_d = list(D.parameters()) + list(embed.parameters())
    err_real = bce(logit(real), 1.0)
    fake = G(torch.cat([z, F.one_hot(labels, K).float()], 1).view(-1, nz + K, 1, 1))
    err_fake = bce(logit(fake.detach()), 0.0)
    gd = torch.autograd.grad(err_real + err_fake, params_d)
    names_d = [k for k, _ in D.named_parameters()] + ["embed.weight"]
    grads_d = {k: g.detach().clone().contiguous() for k, g in zip(names_d, gd)}
    err_g = bce(logit(fake), 1.0)
    gg = torch.autograd.grad(err_g, list(G.parameters()))
    grads_g = {k: g.detach().clone().contiguous() for (k, _), g in zip(G.named_parameters(), gg)}

    net_d = {k: v.contiguous() for k, v in D.state_dict().items() if "num_batches" not in k}
    net_d["embed.weight"] = embed.weight.detach().clone()
    save_file({k: v.contiguous() for k, v in sg.items() if "num_batches" not in k},
              f"{g_dir}/cond_netG.safetensors")
    save_file(net_d, f"{g_dir}/cond_netD.safetensors")
    np.save(f"{g_dir}/cond_labels.npy", labels.numpy().astype(np.int64))
    save_file(grads_d, f"{g_dir}/grads_cond_d.safetensors")
    save_file(grads_g, f"{g_dir}/grads_cond_g.safetensors")
    losses = dict(err_d_real=err_real.item(), err_d_fake=err_fake.item(), err_g=err_g.item())
    json.dump(losses, open(f"{g_dir}/grads_cond_losses.json", "w"), indent=1)
    print(losses, "labels", labels.tolist())


if __name__ == "__main__":
    main()
