#!/usr/bin/env bash
# Peak memory of training on image folders of 10,000 and 100,000 generated 16×16 images (one
# epoch each): memory must not grow with the data set. Not part of the test suite.
#   bash scripts/bench_streaming.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/streaming-bench}
cargo build --release -p dcgan-cli
dcgan=$PWD/target/release/dcgan
mkdir -p "$work"
for n in 10000 100000; do
    dir="$work/images-$n"
    if [ ! -d "$dir" ]; then
        python3 - "$dir" "$n" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
random.seed(n)
for i in range(n):
    sub = os.path.join(d, f"{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(sub, exist_ok=True)
    ox, oy, b = random.randrange(11), random.randrange(11), random.randrange(10, 60)
    px = bytes(230 if (ox <= x < ox + 5 and oy <= y < oy + 5) else b + 3 * x for y in range(16) for x in range(16))
    with open(os.path.join(sub, f"{i:06d}.pgm"), "wb") as f:
        f.write(b"P5 16 16 255\n" + px)
PY
    fi
    rm -rf "$work/run-$n"
    /usr/bin/time -f "train $n images: %e s wall, peak RSS %M KiB" "$dcgan" train --data "$dir" --out "$work/run-$n" \
        --image-size 16 --generator-width 16 --discriminator-width 16 --latent-dim 16 --batch-size 128 --epochs 1 \
        --sample-every 100000 --checkpoint-every 100000 > /dev/null
    /usr/bin/time -f "loader pass $n images: peak RSS %M KiB" "$dcgan" bench --only loader --data "$dir" \
        --image-size 16 --channels 1 --batch-size 128 --loader-batches $((n / 128)) --runs 1 --warmup 0
done
