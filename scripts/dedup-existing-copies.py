#!/usr/bin/env python3
"""De-duplication on data that already holds near-copies, from outside the tool: a folder of the
first N images of SRC in which a share RATE also has one near-copy (in turn: resized to half and
back, JPEG at quality 30-40, cropped 2 px a side and resized back, brightened or darkened by 10),
written as files beside them; then `dcgan data dedup` on that folder, scored against the copies.

    python3 scripts/dedup-existing-copies.py make SRC OUT --n 6000 --rate 0.1
    dcgan data dedup OUT --out REPORT_DIR
    python3 scripts/dedup-existing-copies.py score REPORT_DIR/report.json OUT/truth.json

`score` prints the threshold, the share of copies grouped with their original (by alteration),
and how many grouped pairs with a copy in them are the copy and its original (or another copy of
it) and how many are not.
"""
import argparse
import io
import json
import os
import random


def make(a):
    from PIL import Image
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.src) for f in fs
                   if f.lower().endswith(('.jpg', '.jpeg', '.png')))[:a.n]
    os.makedirs(a.out, exist_ok=True)
    names = []
    for i, f in enumerate(files):
        name = f"{i:05d}{os.path.splitext(f)[1].lower()}"
        with open(f, 'rb') as src, open(os.path.join(a.out, name), 'wb') as dst:
            dst.write(src.read())
        names.append(name)
    r = random.Random(a.seed)
    truth = []
    for j, i in enumerate(r.sample(range(len(names)), round(a.rate * len(names)))):
        img = Image.open(os.path.join(a.out, names[i])).convert('RGB')
        w, h = img.size
        kind = j % 4
        if kind == 0:
            c = img.resize((w // 2, h // 2), Image.BILINEAR).resize((w, h), Image.BILINEAR)
        elif kind == 1:
            buf = io.BytesIO()
            img.save(buf, 'JPEG', quality=30 + j % 11)
            c = Image.open(io.BytesIO(buf.getvalue())).convert('RGB')
        elif kind == 2:
            c = img.crop((2, 2, w - 2, h - 2)).resize((w, h), Image.BILINEAR)
        else:
            d = 10 if j % 8 == 3 else -10
            c = img.point(lambda v: max(0, min(255, v + d)))
        copy = f"c{j:05d}.png"
        c.save(os.path.join(a.out, copy))
        truth.append([names[i], copy, kind])
    with open(os.path.join(a.out, 'truth.json'), 'w') as f:
        json.dump(truth, f)
    print(f"{len(names)} images, {len(truth)} near-copies in {a.out}")


def score(a):
    rep = json.load(open(a.report))
    truth = json.load(open(a.truth))
    group_of = {os.path.basename(n): g for g, grp in enumerate(rep['groups']) for n in grp['names']}
    found, total = [0] * 4, [0] * 4
    for o, c, k in truth:
        total[k] += 1
        found[k] += o in group_of and group_of.get(c) == group_of[o]
    copy_of = {c: o for o, c, _ in truth}
    right = wrong = 0
    for grp in rep['groups']:
        names = [os.path.basename(n) for n in grp['names']]
        for other in names[1:]:
            if other in copy_of or names[0] in copy_of:
                c, x = (other, names[0]) if other in copy_of else (names[0], other)
                same = copy_of[c] == x or copy_of.get(x) == copy_of[c]
                right += same
                wrong += not same
    print(json.dumps({
        "threshold": round(rep.get('calibration', {}).get('threshold', 0), 4),
        "recall": round(sum(found) / max(1, sum(total)), 3),
        "recall_resized_jpeg_cropped_brightened": [round(f / max(1, t), 3) for f, t in zip(found, total)],
        "grouped_pairs_with_a_copy_right": right, "grouped_pairs_with_a_copy_wrong": wrong,
        "groups": len(rep['groups'])}))


p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
sub = p.add_subparsers(dest="cmd", required=True)
m = sub.add_parser("make")
m.add_argument("src")
m.add_argument("out")
m.add_argument("--n", type=int, default=6000)
m.add_argument("--rate", type=float, default=0.1)
m.add_argument("--seed", type=int, default=7)
s = sub.add_parser("score")
s.add_argument("report")
s.add_argument("truth")
a = p.parse_args()
make(a) if a.cmd == "make" else score(a)
