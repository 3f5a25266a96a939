"""pytorch/examples' DCGAN in PyTorch, generalised to SIZE = 4·2^k (64 → the original): G and D
with their weight initialisation, each wrapped in `main` as there, so state-dict keys are
`main.N.*` (what `dcgan import-torch` reads). Shared by the scripts that run PyTorch beside
dcgan (bench_vs_pytorch.py, side_by_side.py, replay_vs_torch.py), with its training
iteration."""
import torch
import torch.nn as nn


def models(size, nz=100, ngf=64, ndf=64, nc=3):
    """(G, D) on the CPU, initialised from torch's global RNG: conv weights N(0, 0.02),
    BatchNorm γ N(1, 0.02) and β 0."""
    k = (size // 4).bit_length() - 1  # size = 4·2^k
    g = [nn.ConvTranspose2d(nz, ngf * 2 ** (k - 1), 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2 ** (k - 1)), nn.ReLU(True)]
    for i in range(k - 1, 0, -1):
        g += [nn.ConvTranspose2d(ngf * 2 ** i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2 ** (i - 1)), nn.ReLU(True)]
    g += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
    d = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for i in range(1, k):
        d += [nn.Conv2d(ndf * 2 ** (i - 1), ndf * 2 ** i, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2 ** i), nn.LeakyReLU(0.2, inplace=True)]
    d += [nn.Conv2d(ndf * 2 ** (k - 1), 1, 4, 1, 0, bias=False), nn.Sigmoid()]

    def init(m):
        if "Conv" in type(m).__name__:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif "BatchNorm" in type(m).__name__:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    G, D = Net(g), Net(d)
    G.apply(init)
    D.apply(init)
    return G, D


class Net(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


def train_step(G, D, oG, oD, real, noise):
    """pytorch/examples' training iteration on a real batch and latents (N, nz, 1, 1):
    D on BCE(D(x), 1) + BCE(D(G(z)), 0) with G's batch detached, then G on BCE(D(G(z)), 1)
    through the updated D. Returns the three losses and D's outputs (real, fake, fake after D's
    update), as tensors."""
    bce = nn.BCELoss()
    ones = torch.ones(len(real), dtype=real.dtype)
    zeros = torch.zeros(len(real), dtype=real.dtype)
    D.zero_grad()
    out_real = D(real).view(-1)
    loss_real = bce(out_real, ones)
    loss_real.backward()
    fake = G(noise)
    out_fake = D(fake.detach()).view(-1)
    loss_fake = bce(out_fake, zeros)
    loss_fake.backward()
    oD.step()
    G.zero_grad()
    out_g = D(fake).view(-1)
    loss_g = bce(out_g, ones)
    loss_g.backward()
    oG.step()
    return loss_real, loss_fake, loss_g, out_real, out_fake, out_g
