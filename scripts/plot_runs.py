#!/usr/bin/env python3
"""FID against the step for several runs, from their log.jsonl (`train --eval-every`), one line
each, for comparing recipes (docs/evaluation.md, "Beyond the paper's recipe").

    python3 scripts/plot_runs.py --run "plain=runs/plain" --run "--augment=runs/augment" \\
        --title "5,000 CIFAR-10 images" --out docs/images/eval/small-data-fid.png

Each --run is LABEL=RUN_DIR; the y label names the runs' FID mode and sample count (from their
config.json), and the script refuses runs evaluated differently, since their FIDs would not
compare.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR")
    p.add_argument("--title", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    conventions = set()
    for spec in a.run:
        label, _, run = spec.partition("=")
        cfg = json.load(open(os.path.join(run, "config.json")))["eval"]
        conventions.add((cfg.get("fid_mode", "legacy_dcgan"), cfg["samples"]))
        pts = [(r["step"], r["fid"]) for r in map(json.loads, open(os.path.join(run, "log.jsonl")))
               if r.get("fid") is not None]
        ax.plot([s for s, _ in pts], [f for _, f in pts], marker="o", label=label)
        for s, f in pts[-1:]:
            ax.annotate(f"{f:.1f}", (s, f), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if len(conventions) != 1:
        raise SystemExit(f"the runs were evaluated differently: {sorted(conventions)}")
    mode, n = conventions.pop()
    ax.set_xlabel("step")
    ax.set_ylabel(f"FID-{n // 1000}k ({mode}), lower is better")
    ax.set_title(a.title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
