#!/usr/bin/env python3
"""The 30,000-step control's figure: FID-5k against the step for PyTorch's DCGAN (the control,
scored by `dcgan fid`) and this project's run, in the legacy_dcgan mode both were scored in, with
each side's FID-50k at step 30,000 when given.

    python3 scripts/plot_control.py --control control/scores.jsonl \
        --ours docs/eval/cifar10-30k-evals.jsonl --ours-fid50k docs/eval/cifar10-fid50k-step30000.json \
        [--control-fid50k docs/eval/control-fid50k-step30000.json] --out docs/images/eval/control-30k-fid.png
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--control", required=True, help="side_by_side.py's scores.jsonl")
    p.add_argument("--ours", required=True, help="this project's run's evaluated log records")
    p.add_argument("--ours-fid50k")
    p.add_argument("--control-fid50k")
    p.add_argument("--mode", default="legacy_dcgan")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    control = sorted((r["step"], r["fid"]) for r in map(json.loads, open(a.control))
                     if r.get("mode", "legacy_dcgan") == a.mode and r["impl"] == "torch" and r["n"] == 5000)
    ours = sorted((r["step"], r["fid"]) for r in map(json.loads, open(a.ours)) if "fid" in r)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for pts, name, colour in ((control, "PyTorch's DCGAN (control, seed 1)", "#c33"),
                              (ours, "dcgan (seed 1)", "#36c")):
        ax.plot([s for s, _ in pts], [f for _, f in pts], marker="o", color=colour, label=f"{name}: FID-5k")
    for path, name, colour in ((a.control_fid50k, "PyTorch", "#c33"), (a.ours_fid50k, "dcgan", "#36c")):
        if path:
            f = json.load(open(path))["fid"]
            ax.plot([30000], [f], marker="*", markersize=13, color=colour, linestyle="none",
                    label=f"{name}: FID-50k {f:.2f}")
    ax.set_xlabel("step (batch 64, 32×32 CIFAR-10)")
    ax.set_ylabel(f"FID ({a.mode}), lower is better")
    ax.set_xticks([10000, 20000, 30000])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
