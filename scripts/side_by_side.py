#!/usr/bin/env python3
"""Like for like: pytorch/examples' DCGAN trained in PyTorch (CPU) and `dcgan train` with the same
recipe on the same images, same batch size, steps and evaluation points, several seeds each, all
scored by the same `dcgan fid`. Not part of the test suite (hours of CPU); every piece is kept on
disk, so a second call carries on where the first stopped.

    python3 scripts/side_by_side.py --data DIR --out DIR [--steps 10000] [--batch 64]
        [--eval-every 2000] [--seeds 1,2] [--fid-n 5000] [--threads 2] [--size 32]
    python3 scripts/side_by_side.py --out DIR --report     # the table and the plot of what is done
    python3 scripts/side_by_side.py --data DIR --out DIR --steps 500 --seeds 11,12,13 --no-score
        # training dynamics only: --report then compares the runs' losses window by window

The recipe on both sides (paper §4, pytorch/examples' main.py): G and D of the DCGAN at SIZE×SIZE
(4·2^k; nz 100, ngf = ndf = 64), N(0, 0.02) init (BatchNorm γ from N(1, 0.02)), Adam 2e-4,
β1 0.5, BCE with real = 1 and fake = 0, D on a real batch then on G's batch (detached), then G
on the same fake batch through the updated D; images in [-1, 1]; a new shuffle every epoch. The
PyTorch side drops each epoch's last incomplete batch, as `dcgan train` does, so both take
exactly the same number of images per step (pytorch/examples keeps it: one small batch an epoch).

Scoring: PyTorch's G is written as a state dict at each evaluation step, read by
`dcgan import-torch`, and scored by `dcgan fid --checkpoint … --data DATA --n FID_N` exactly as
dcgan's own checkpoints are: BatchNorm in inference mode, the fixed latents of seed 0, FID_N
generated images against FID_N training images (a fixed random subset; its statistics are
cached after the first use). Threads: torch.set_num_threads(THREADS) and
RAYON_NUM_THREADS=THREADS.

Both sides log every step (PyTorch's interval is --log-every). Writes OUT/torch-seedS/ and
OUT/dcgan-seedS/ (runs), OUT/scores.jsonl (one line per scored checkpoint), and with --report
OUT/summary.md (the FID tables, the window means of the losses and, per run logged at every
step, how many steps G's batch fooled D) and OUT/fid.png.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
DCGAN = os.environ.get("DCGAN", os.path.join(ROOT, "target", "release", "dcgan"))


def image_paths(data):
    """Every image under DATA (recursively), in sorted path order."""
    paths = sorted(p for p in glob.glob(os.path.join(data, "**", "*"), recursive=True)
                   if p.lower().endswith((".jpg", ".jpeg", ".png")))
    if not paths:
        sys.exit(f"error: {data}: no images")
    return paths


def load_images(data, size, paths=None):
    """The images PATHS (every image under DATA, in sorted path order, if not given) as uint8
    N×size×size×3."""
    import numpy as np
    from PIL import Image

    paths = image_paths(data) if paths is None else paths
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, p in enumerate(paths):
        img = Image.open(p).convert("RGB")
        if img.size != (size, size):
            # Resize the shorter side to SIZE, then the centre crop (torchvision's Resize + CenterCrop).
            w, h = img.size
            s = size / min(w, h)
            img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BILINEAR)
            w, h = img.size
            img = img.crop(((w - size) // 2, (h - size) // 2, (w - size) // 2 + size, (h - size) // 2 + size))
        out[i] = np.asarray(img)
    return out


def train_torch(a, seed, out):
    """PyTorch's run for SEED: G's state dict at every evaluation step (out/netG-stepN.safetensors)."""
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from torch_dcgan import models, train_step

    os.makedirs(out, exist_ok=True)
    wanted = list(range(a.eval_every, a.steps + 1, a.eval_every))
    log_path = os.path.join(out, "log.jsonl")
    if os.path.exists(log_path) and any(json.loads(l)["step"] == a.steps for l in open(log_path) if l.strip()) \
            and all(os.path.exists(os.path.join(out, f"netG-step{s}.safetensors")) for s in wanted):
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(seed)
    images = torch.from_numpy(load_images(a.data, a.size)).permute(0, 3, 1, 2).contiguous()
    G, D = models(a.size)
    oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    per_epoch = len(images) // a.batch
    step, t0, order, b = 0, time.time(), None, per_epoch
    # Resume: the whole state (both networks, both optimisers, the RNG, the epoch's order and
    # position in it) is saved at every evaluation step and every --state-every steps, so an
    # interrupted run carries on exactly; the log is cut back to the saved step.
    state_path = os.path.join(out, "state.pt")
    if os.path.exists(state_path):
        st = torch.load(state_path, weights_only=False)
        G.load_state_dict(st["G"]), D.load_state_dict(st["D"])
        oG.load_state_dict(st["oG"]), oD.load_state_dict(st["oD"])
        torch.set_rng_state(st["rng"])
        step, order, b = st["step"], st["order"], st["b"]
        t0 = time.time() - st["seconds"]
        rows = [l for l in open(log_path) if l.strip() and json.loads(l)["step"] <= step]
        with open(log_path, "w") as f:
            f.writelines(rows)
        print(f"torch seed {seed}: resumed at step {step}", flush=True)
    elif os.path.exists(log_path):
        os.remove(log_path)
    log = open(log_path, "a")

    def save_state():
        tmp = state_path + ".tmp"
        torch.save({"G": G.state_dict(), "D": D.state_dict(), "oG": oG.state_dict(),
                    "oD": oD.state_dict(), "rng": torch.get_rng_state(), "step": step,
                    "order": order, "b": b, "seconds": time.time() - t0}, tmp)
        os.replace(tmp, state_path)

    while step < a.steps:
        if b >= per_epoch:
            order, b = torch.randperm(len(images)), 0
        real = images[order[b * a.batch:(b + 1) * a.batch]].float() / 127.5 - 1
        b += 1
        noise = torch.randn(a.batch, 100, 1, 1)  # D's forward draws nothing: the same RNG order
        loss_real, loss_fake, loss_g, out_real, out_fake, _ = train_step(G, D, oG, oD, real, noise)
        step += 1
        if step % a.log_every == 0 or step == 1 or step == a.steps:
            log.write(json.dumps({
                "step": step, "loss_d": (loss_real + loss_fake).item(), "loss_g": loss_g.item(),
                "d_real": out_real.mean().item(), "d_fake": out_fake.mean().item(),
                "seconds": round(time.time() - t0, 1)}) + "\n")
            log.flush()
        if step % a.eval_every == 0:
            state = {k: v.contiguous() for k, v in G.state_dict().items()}
            tmp = os.path.join(out, f".netG-step{step}.tmp")
            save_file(state, tmp)
            os.replace(tmp, os.path.join(out, f"netG-step{step}.safetensors"))
            print(f"torch seed {seed}: step {step} ({time.time() - t0:.0f} s)", flush=True)
        if step % a.eval_every == 0 or step % a.state_every == 0 or step == a.steps:
            save_state()


def train_dcgan(a, seed, out):
    """dcgan's run for SEED, a checkpoint at every evaluation step (resumed when interrupted)."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    last = os.path.join(out, "checkpoints", f"step-{a.steps:08d}.safetensors")
    if os.path.exists(last):
        return
    if os.path.exists(os.path.join(out, "config.json")):
        cmd = [DCGAN, "train", "--resume", out, "--max-steps", str(a.steps)]
    else:
        cmd = [DCGAN, "train", "--data", a.data, "--out", out, "--image-size", str(a.size),
               "--batch-size", str(a.batch), "--max-steps", str(a.steps), "--epochs", "1000",
               "--seed", str(seed), "--checkpoint-every", str(a.eval_every),
               "--sample-every", str(a.eval_every), "--keep-checkpoints", "1000"]
    subprocess.run(cmd, env=env, check=True)


def checkpoints(a, impl, seed, out):
    """(step, checkpoint) of every evaluation step done so far; PyTorch's imported on the way."""
    found = []
    for step in range(a.eval_every, a.steps + 1, a.eval_every):
        if impl == "dcgan":
            p = os.path.join(out, "checkpoints", f"step-{step:08d}.safetensors")
        else:
            src = os.path.join(out, f"netG-step{step}.safetensors")
            p = os.path.join(out, f"imported-step{step}.safetensors")
            if os.path.exists(src) and not os.path.exists(p):
                subprocess.run([DCGAN, "import-torch", "--generator", src, "--image-size", str(a.size),
                                "--out", p], check=True, capture_output=True)
        if os.path.exists(p):
            found.append((step, p))
    return found


def scored(out, mode=None):
    """The scores written so far (of one FID mode when given; lines written before the modes
    existed are legacy_dcgan's)."""
    path = os.path.join(out, "scores.jsonl")
    if not os.path.exists(path):
        return []
    rows = [json.loads(l) for l in open(path) if l.strip()]
    for r in rows:
        r.setdefault("mode", "legacy_dcgan")
    return [r for r in rows if mode is None or r["mode"] == mode]


def score(a, impl, seed, run):
    done = {(s["impl"], s["seed"], s["step"]) for s in scored(a.out, a.fid_mode)}
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    for step, ckpt in checkpoints(a, impl, seed, run):
        if (impl, seed, step) in done:
            continue
        t = time.time()
        r = subprocess.run([DCGAN, "fid", "--checkpoint", ckpt, "--data", a.data, "--n", str(a.fid_n),
                            "--fid-mode", a.fid_mode, "--metrics", "fid,kid,prdc", "--json"], env=env, check=True, capture_output=True,
                           text=True)
        rep = json.loads(r.stdout)
        line = {"impl": impl, "seed": seed, "step": step, "mode": a.fid_mode, "fid": rep["fid"],
                "kid": rep.get("kid"), "prdc": rep.get("prdc"), "n": a.fid_n, "seconds": round(time.time() - t, 1)}
        with open(os.path.join(a.out, "scores.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")
        print(f"{impl} seed {seed} step {step}: FID {rep['fid']:.2f} ({a.fid_mode})", flush=True)


# The logged quantities both report tables compare, with their column names.
LOG_FIELDS = [("loss_d", "loss D"), ("loss_g", "loss G"), ("d_real", "D(x)"), ("d_fake", "D(G(z))")]


def spread_table(fid, runs, steps):
    """Per step: each side's mean and standard deviation over its seeds, the difference of the
    means, and the exact two-sided permutation test of it (every way of splitting the pooled
    scores into groups of the two sides' sizes; the p-value is the share of splits whose
    difference is at least as large)."""
    from statistics import mean, stdev

    lines = ["| step | PyTorch mean ± sd (seeds) | dcgan mean ± sd (seeds) | dcgan − PyTorch | "
             "permutation p | sd ratio dcgan / PyTorch |", "|" + " --- |" * 6]
    for st in steps:
        t = [fid[(i, s, st)] for i, s in runs if i == "torch" and (i, s, st) in fid]
        d = [fid[(i, s, st)] for i, s in runs if i == "dcgan" and (i, s, st) in fid]
        if len(t) < 2 or len(d) < 2:
            continue
        lines.append(f"| {st} | {mean(t):.1f} ± {stdev(t):.1f} ({len(t)}) | {mean(d):.1f} ± {stdev(d):.1f} ({len(d)}) "
                     f"| {mean(d) - mean(t):+.1f} | {permutation_p(t, d):.2f} | {stdev(d) / stdev(t):.1f} |")
    return "\n".join(lines)


def loss_table(out, runs):
    """Per window of steps: the range over each side's seeds of the window's mean losses and D
    outputs, from both sides' logs at the steps PyTorch logs (every 50th)."""
    from statistics import mean

    with open(os.path.join(out, "settings.json")) as f:
        every = json.load(f)["eval_every"]
    last = max([0] + [r["step"] for r in scored(out)])
    windows = [(1, 500), (501, every)] + [(k + 1, k + every) for k in range(every, last, every)]
    fields = LOG_FIELDS
    logs = {}
    for i, s in runs:
        path = os.path.join(out, f"{i}-seed{s}", "log.jsonl")
        if os.path.exists(path):
            logs[(i, s)] = {r["step"]: r for r in map(json.loads, open(path)) if r["step"] % 50 == 0}
    lines = ["| steps | " + " | ".join(f"{name}: PyTorch / dcgan" for _, name in fields) + " |",
             "|" + " --- |" * (len(fields) + 1)]
    for a, b in windows:
        cells = []
        for f, _ in fields:
            side = []
            for impl in ["torch", "dcgan"]:
                m = [mean(log[k][f] for k in range(a, b + 1) if k in log)
                     for (i, s), log in logs.items() if i == impl and any(k in log for k in range(a, b + 1))]
                side.append(f"{min(m):.2f}–{max(m):.2f}" if m else "–")
            cells.append(" / ".join(side))
        lines.append(f"| {a}–{b} | " + " | ".join(cells) + " |")
    return "Mean over the window, range over the seeds:\n\n" + "\n".join(lines)


# The D(G(z)) levels the spike table counts: a step at which most of G's batch fools D.
SPIKE_LEVELS = [0.5, 0.7, 0.9]


def spike_table(out, runs):
    """Per run logged at every step: how many steps had D(G(z)) (D's mean output on the fake
    batch, before its update) above each of SPIKE_LEVELS, i.e. steps at which G's last update
    fooled D on most of the batch. Window means hide such single steps; this counts them."""
    lines = ["| run | steps logged | " + " | ".join(f"D(G(z)) > {v}" for v in SPIKE_LEVELS) + " |",
             "|" + " --- |" * (len(SPIKE_LEVELS) + 2)]
    per_side = {"torch": [], "dcgan": []}  # (steps logged, counts) of each run
    for i, s in runs:
        path = os.path.join(out, f"{i}-seed{s}", "log.jsonl")
        if not os.path.exists(path):
            continue
        rows = [json.loads(l) for l in open(path) if l.strip()]
        steps = [r["step"] for r in rows]
        if not rows or steps != list(range(1, len(rows) + 1)):
            continue  # not logged at every step
        counts = [sum(r["d_fake"] > v for r in rows) for v in SPIKE_LEVELS]
        per_side[i].append((len(rows), counts))
        name = "PyTorch" if i == "torch" else "dcgan"
        lines.append(f"| {name} seed {s} | {len(rows)} | " + " | ".join(map(str, counts)) + " |")
    if not any(per_side.values()):
        return "(no run logged at every step)"
    for i, logged in per_side.items():
        if logged:
            n = sum(k for k, _ in logged)
            totals = [sum(c[j] for _, c in logged) for j in range(len(SPIKE_LEVELS))]
            lines.append(f"| **{'PyTorch' if i == 'torch' else 'dcgan'}, all** | {n} | "
                         + " | ".join(f"{c} ({1000 * c / n:.1f} per 1,000)" for c in totals) + " |")
    if len(per_side["torch"]) >= 2 and len(per_side["dcgan"]) >= 2:
        # The runs' rates per 1,000 steps, dcgan's against PyTorch's, level by level.
        rate = {i: [[1000 * c / k for c in counts] for k, counts in logged] for i, logged in per_side.items()}
        ps = [permutation_p([r[j] for r in rate["torch"]], [r[j] for r in rate["dcgan"]])
              for j in range(len(SPIKE_LEVELS))]
        lines.append("| permutation p of the runs' rates | | " + " | ".join(f"{p:.2f}" for p in ps) + " |")
    return "Steps at which G's batch fooled D (runs logged at every step):\n\n" + "\n".join(lines)


def log_runs(out):
    """(impl, seed) of every run under OUT with a log, PyTorch's first."""
    runs = []
    for name in os.listdir(out):
        m = re.fullmatch(r"(torch|dcgan)-seed(\d+)", name)
        if m and os.path.exists(os.path.join(out, name, "log.jsonl")):
            runs.append((m.group(1), int(m.group(2))))
    return sorted(runs, key=lambda x: (x[0] != "torch", x[1]))


def early_table(out, runs, window=100):
    """Per window of WINDOW steps and per quantity: each side's mean ± sd over its seeds of the
    window's mean (every step both sides logged), and the exact two-sided permutation p of the
    difference. Needs no FID: it compares the training dynamics themselves, seed by seed."""
    from statistics import mean, stdev

    fields = LOG_FIELDS
    logs = {r: {x["step"]: x for x in map(json.loads, open(os.path.join(out, f"{r[0]}-seed{r[1]}", "log.jsonl")))}
            for r in runs}
    common = set.intersection(*(set(l) for l in logs.values())) if logs else set()
    if not common:
        return "(no step logged by every run)"
    last = max(common)
    lines = ["| steps | quantity | PyTorch mean ± sd | dcgan mean ± sd | dcgan − PyTorch | permutation p |",
             "|" + " --- |" * 6]
    for a in range(1, last + 1, window):
        b = min(a + window - 1, last)
        ks = [k for k in range(a, b + 1) if k in common]
        if not ks:
            continue
        for f, name in fields:
            t = [mean(logs[r][k][f] for k in ks) for r in runs if r[0] == "torch"]
            d = [mean(logs[r][k][f] for k in ks) for r in runs if r[0] == "dcgan"]
            if len(t) < 2 or len(d) < 2:
                continue
            lines.append(f"| {a}–{b} | {name} | {mean(t):.3f} ± {stdev(t):.3f} | {mean(d):.3f} ± {stdev(d):.3f} "
                         f"| {mean(d) - mean(t):+.3f} | {permutation_p(t, d):.3f} |")
    n_t = sum(r[0] == "torch" for r in runs)
    return f"Window means, mean ± sd over seeds ({n_t} PyTorch, {len(runs) - n_t} dcgan):\n\n" + "\n".join(lines)


def permutation_p(t, d, exact_limit=500_000, draws=200_000):
    """Two-sided permutation test of mean(d) - mean(t): the share of the splits of the pooled
    values into groups of these sizes whose difference of means is at least as large. Exact
    (every split) while there are at most EXACT_LIMIT splits; beyond that (from 11 + 11 values
    on) DRAWS random splits from a fixed seed, with p = (hits + 1) / (DRAWS + 1), the usual
    Monte Carlo estimate that is never 0."""
    import random
    from itertools import combinations
    from math import comb

    pooled, total = t + d, sum(t) + sum(d)
    n, k = len(pooled), len(d)
    # With the group sizes fixed, the difference of means depends only on the d-group's sum.
    diff = abs(sum(d) / k - sum(t) / len(t)) - 1e-9

    def extreme(s):
        return abs(s / k - (total - s) / (n - k)) >= diff

    if comb(n, k) <= exact_limit:
        hits = sum(extreme(sum(pooled[i] for i in c)) for c in combinations(range(n), k))
        return hits / comb(n, k)
    rng = random.Random(0)
    hits = sum(extreme(sum(rng.sample(pooled, k))) for _ in range(draws))
    return (hits + 1) / (draws + 1)


def report(out, window=100, mode="legacy_pytorch"):
    rows = scored(out, mode)
    if not rows:
        runs = log_runs(out)
        if not runs:
            sys.exit(f"error: {out}: no scores.jsonl and no run logs yet")
        table = early_table(out, runs, window) + "\n\n" + spike_table(out, runs)
        with open(os.path.join(out, "summary.md"), "w") as f:
            f.write(table + "\n")
        print(table)
        return
    steps = sorted({r["step"] for r in rows})
    runs = sorted({(r["impl"], r["seed"]) for r in rows}, key=lambda x: (x[0] != "torch", x[1]))
    fid = {(r["impl"], r["seed"], r["step"]): r["fid"] for r in rows}
    head = "| step | " + " | ".join(f"{'PyTorch' if i == 'torch' else 'dcgan'} seed {s}" for i, s in runs) + \
        " | PyTorch's range | dcgan inside it |"
    lines = [head, "|" + " --- |" * (len(runs) + 3)]
    for st in steps:
        cells = [f"{fid[(i, s, st)]:.1f}" if (i, s, st) in fid else "–" for i, s in runs]
        t = [fid[(i, s, st)] for i, s in runs if i == "torch" and (i, s, st) in fid]
        d = [fid[(i, s, st)] for i, s in runs if i == "dcgan" and (i, s, st) in fid]
        rng = f"{min(t):.1f}–{max(t):.1f}" if len(t) >= 2 else "–"
        inside = ", ".join("yes" if min(t) <= v <= max(t) else f"no ({v - (max(t) if v > max(t) else min(t)):+.1f})"
                           for v in d) if len(t) >= 2 and d else "–"
        lines.append(f"| {st} | " + " | ".join(cells) + f" | {rng} | {inside} |")
    table = "\n".join(lines) + "\n\n" + spread_table(fid, runs, steps) + "\n\n" + loss_table(out, runs) + \
        "\n\n" + spike_table(out, runs)
    n = rows[0]["n"]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(f"FID ({n} generated vs {n} training images, `dcgan fid`), lower is better\n\n{table}\n")
    print(table)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no plot: pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    # PyTorch's points a little left of each step and dcgan's a little right, so that the two
    # sides' spreads stand apart; one legend entry per seed while there are few, else per side.
    shift = 0.06 * (steps[1] - steps[0] if len(steps) > 1 else 1000)
    per_seed = max(sum(i == side for i, _ in runs) for side in ["torch", "dcgan"]) <= 4
    labelled = set()
    for i, s in runs:
        xs = [st for st in steps if (i, s, st) in fid]
        name = "PyTorch" if i == "torch" else "dcgan"
        seeds = sum(j == i for j, _ in runs)
        label = f"{name} seed {s}" if per_seed else (None if i in labelled else f"{name} ({seeds} seeds)")
        labelled.add(i)
        ax.plot([x + (-shift if i == "torch" else shift) for x in xs], [fid[(i, s, st)] for st in xs],
                marker="o", color="#c33" if i == "torch" else "#36c",
                linestyle="--" if s % 2 == 0 else "-", alpha=1 if per_seed else 0.7, label=label)
    if len(steps) == 1:
        ax.set_xlim(steps[0] - 6 * shift, steps[0] + 6 * shift)
        ax.set_xticks(steps)
    ax.set_xlabel("step (batch 64)")
    ax.set_ylabel(f"FID ({n} vs {n})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "fid.png"))
    print(f"wrote {out}/summary.md and {out}/fid.png")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data")
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--eval-every", type=int, default=2000)
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--fid-n", type=int, default=5000)
    p.add_argument("--fid-mode", default="legacy_pytorch",
                   help="`dcgan fid --fid-mode` of the scores (the report shows this mode's)")
    p.add_argument("--score-only", action="store_true",
                   help="score the checkpoints already written, train nothing")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--only", choices=["torch", "dcgan"])
    p.add_argument("--state-every", type=int, default=500,
                   help="steps between PyTorch's resumable states (also at every evaluation step)")
    p.add_argument("--log-every", type=int, default=1, help="PyTorch's log interval (dcgan logs every step)")
    p.add_argument("--window", type=int, default=100, help="steps a window of the --no-score report")
    p.add_argument("--no-score", action="store_true",
                   help="train only; the report then compares the runs' logs window by window")
    p.add_argument("--report", action="store_true")
    a = p.parse_args()
    for name in ["log_every", "window"]:
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, not {getattr(a, name)}")
    if a.report:
        if not os.path.isdir(a.out):
            sys.exit(f"error: {a.out}: no such folder (nothing to report)")
        return report(a.out, a.window, a.fid_mode)
    if not a.data:
        p.error("--data is needed to train")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "settings.json"), "w") as f:
        json.dump(vars(a), f, indent=1)
    seeds = [int(s) for s in a.seeds.split(",")]
    # PyTorch's seeds first: their spread is what dcgan's runs are judged against.
    for impl in ["torch", "dcgan"]:
        if a.only and impl != a.only:
            continue
        for seed in seeds:
            run = os.path.join(a.out, f"{impl}-seed{seed}")
            if not a.score_only:
                (train_torch if impl == "torch" else train_dcgan)(a, seed, run)
            if not a.no_score:
                score(a, impl, seed, run)
    report(a.out, a.window, a.fid_mode)


if __name__ == "__main__":
    main()
