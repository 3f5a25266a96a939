#!/usr/bin/env python3
"""Golden scores for `dcgan fid --metrics prdc`: the prdc package (PyPI) on features both sides
can draw to the bit from an integer hash, so the golden is four numbers per k, not the features.

Features: value(seed, i, d) = (splitmix64(seed·2³² + i·4096 + d) >> 40) / 2²⁴, exact in float32.
Real: 1,000 × 2,048 values of seed 1. Fake: 800 × 2,048 values of seed 2, the first 512
dimensions shifted by 0.05 (all four scores between 0.5 and 0.8); fake 0 is a copy of real 0,
real 2 a copy of real 1 (ties of distance 0). In 2,048 dimensions such distances crowd around one value, so many pairs sit near
a radius: what the exact comparisons are for.

Usage: make_prdc_goldens.py OUT.json
"""
import json, sys
import numpy as np
import prdc

MASK = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def values(seed, n, dim):
    idx = (seed << 32) + np.arange(n, dtype=np.uint64)[:, None] * np.uint64(4096) + np.arange(dim, dtype=np.uint64)[None, :]
    x = idx.astype(np.uint64)
    with np.errstate(over='ignore'):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    assert int(x[1, 2]) == splitmix64((seed << 32) + 4096 + 2)
    return ((x >> np.uint64(40)).astype(np.float64) / float(1 << 24)).astype(np.float32)


def features():
    real = values(1, 1000, 2048)
    fake = values(2, 800, 2048)
    fake[:, :512] += np.float32(0.05)
    fake[0] = real[0]
    real[2] = real[1]
    return real, fake


def main():
    real, fake = features()
    out = {'checksum_real': float(real.astype(np.float64).sum()),
           'checksum_fake': float(fake.astype(np.float64).sum())}
    for k in [3, 5]:
        out[f'k{k}'] = {key: float(v) for key, v in prdc.compute_prdc(real, fake, k).items()}
    json.dump(out, open(sys.argv[1], 'w'), indent=1)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
