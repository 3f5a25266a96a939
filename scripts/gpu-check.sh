#!/usr/bin/env bash
# The CUDA path, in one go, on a machine with an NVIDIA GPU:
#   1. build `dcgan` with --features cuda;
#   2. run the GPU test set on CUDA (crates/dcgan/tests/gpu.rs: PyTorch parity of G, D and both
#      half-steps' gradients, exact resume, Flex side by side, a run moving between devices);
#   3. time training and batched generation against PyTorch on the same GPU (pytorch/examples'
#      recipe, float32) at 64×64, batch 128 and 512, and print one table.
#
#     bash scripts/gpu-check.sh [cuda:N]      (log and table in target/gpu-check/)
#
# Meant to finish in under 10 minutes on a 16-core machine, the build included. Needs:
#   - the NVIDIA driver (nvidia-smi);
#   - ../shared/golden (or DCGAN_SHARED) for the parity tests;
#   - cubecl-cuda's LLVM bundle: its build script downloads it from GitHub
#     (github.com/tracel-ai/tracel-llvm releases, into ~/.local/share and ~/.cache/tracel) unless a
#     previous build left it there. On a machine without internet, copy those two folders from
#     one that built with `cuda` before;
#   - PyTorch with CUDA for step 3 (without it the table has only dcgan's rows).
set -euo pipefail
cd "$(dirname "$0")/.."
device="${1:-cuda}"
out=target/gpu-check
mkdir -p "$out"
log="$out/log.txt"
: >"$log"
say() { echo "$@" | tee -a "$log"; }
t0=$(date +%s)

if ! nvidia-smi -L >>"$log" 2>&1; then
    echo "error: no NVIDIA GPU here (nvidia-smi failed; see $log)" >&2
    exit 2
fi
say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
shared="${DCGAN_SHARED:-../shared}"
[ -d "$shared/golden" ] || { echo "error: no goldens at $shared/golden (set DCGAN_SHARED)" >&2; exit 2; }
export DCGAN_SHARED="$(cd "$shared" && pwd)"

say "== build (cuda)"
if ! cargo build --release -p dcgan-cli --features cuda >>"$log" 2>&1; then
    if grep -q "tracel-llvm" "$log"; then
        echo "error: the cuda build needs cubecl-cuda's LLVM bundle, which its build script" \
            "downloads from GitHub; this machine could not (see $log)" >&2
    else
        echo "error: the cuda build failed (see $log)" >&2
    fi
    exit 1
fi
say "built in $(($(date +%s) - t0)) s"

say "== GPU tests on $device"
if DCGAN_TEST_GPU="$device" CI=true cargo test --release -p dcgan --features cuda --test gpu \
    -- --test-threads 1 --nocapture >>"$log" 2>&1; then
    tests="passed"
else
    tests="FAILED (see $log)"
fi
grep -E "^test |vs PyTorch|step 20|after 20 steps|drawn on both|Flex →" "$log" | sed 's/^/  /' || true
say "GPU tests: $tests"

say "== speed against PyTorch on $device"
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    python3 scripts/bench_vs_pytorch.py --device "$device" --configs 64x128,64x512 --runs 20 \
        --warmup 5 --threads "$(nproc)" --json "$out/bench.json" | tee -a "$log"
else
    say "PyTorch with CUDA is not installed: dcgan alone"
    for batch in 128 512; do
        target/release/dcgan bench --device "$device" --image-size 64 --batch-size "$batch" \
            --runs 20 --warmup 5 --only train --only generate | sed "s/^/64x$batch  /" | tee -a "$log"
    done
fi
say "== done in $(($(date +%s) - t0)) s; GPU tests $tests; log: $log"
[ "$tests" = passed ]
