#!/usr/bin/env python3
"""Read a TensorBoard log folder with TensorBoard's own reader and print what it holds as JSON.

    python3 scripts/read_tensorboard.py RUN/tb

Prints {"scalars": {tag: [[step, value], ...]}, "images": {tag: [[step, width, height,
sha256 of the PNG], ...]}}, every event kept (no sampling). `dcgan train --tensorboard`'s
tests compare it with the run's log.jsonl and sample grids. Needs `pip install tensorboard`.
"""
import hashlib
import json
import sys

from tensorboard.backend.event_processing import event_accumulator as ea


def main():
    acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    out = {
        "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]},
        "images": {
            t: [[e.step, e.width, e.height, hashlib.sha256(e.encoded_image_string).hexdigest()]
                for e in acc.Images(t)]
            for t in tags["images"]
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
