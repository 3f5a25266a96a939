"""pytorch/examples' DCGAN in PyTorch, generalised to SIZE = 4·2^k (64 → the original): G and D
with their weight initialisation, each wrapped in `main` as there, so state-dict keys are
`main.N.*` (what `dcgan import-torch` reads). Shared by the scripts that run PyTorch beside
dcgan (bench_vs_pytorch.py, side_by_side.py)."""
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
