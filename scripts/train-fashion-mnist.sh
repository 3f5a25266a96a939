#!/usr/bin/env bash
# The main job on a fresh machine: install Fashion-MNIST (Debian's package), build the tool, train a
# 32×32 DCGAN on it for one epoch and write a grid of samples.
#   bash scripts/train-fashion-mnist.sh [RUN_DIR] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/fashion-mnist-32}
epochs=${2:-1}

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi

cargo build --release -p dcgan-cli
dcgan=./target/release/dcgan
if [ -f "$out/config.json" ]; then
    $dcgan train --resume "$out" --epochs "$epochs"
else
    $dcgan train --data fashion-mnist --image-size 32 --epochs "$epochs" --out "$out"
fi
$dcgan sample --checkpoint "$out" --n 64 --out "$out/samples.png"
echo "samples: $out/samples.png (training curves: $out/loss.png)"
