#!/usr/bin/env bash
# Build the web bundle that `dcgan export-web` copies into every site it writes:
# crates/dcgan-web for wasm32-unknown-unknown (SIMD128, no threads), bound to JavaScript by
# wasm-bindgen-cli, with the page from web/. Output: target/web/ (index.html, app.js,
# dcgan_web.js, dcgan_web_bg.wasm).
#
#     bash scripts/build-web.sh
#
# Installs the wasm32 target and wasm-bindgen-cli if missing. wasm-bindgen-cli must be exactly
# the version of the wasm-bindgen crate in Cargo.lock (burn 0.22.1 pulls 0.2.130); wasm-pack
# and trunk download their own binaries, which fails without internet, so they are not used.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
    echo "installing wasm-bindgen-cli $want (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want"
fi

CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
    cargo build --release -p dcgan-web --target wasm32-unknown-unknown
out=target/web
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" \
    target/wasm32-unknown-unknown/release/dcgan_web.wasm
cp web/index.html web/app.js "$out/"
echo "web bundle: $out ($(stat -c %s "$out/dcgan_web_bg.wasm") bytes of WebAssembly)"
