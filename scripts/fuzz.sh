#!/usr/bin/env bash
# Fuzz every parser of outside bytes for SECONDS each (default 60), on the stable toolchain
# (cargo-fuzz's `-s none`: the crate forbids unsafe code, so sanitizers add little).
#   bash scripts/fuzz.sh [SECONDS] [TARGET ...]
# Each target starts from fuzz/seeds/<target> (small valid files of its format, made by
# fuzz/make-seeds.py) and keeps what it learns in fuzz/corpus/<target>. A crash stops that
# target and is saved in fuzz/artifacts/<target>/: fix it, then copy the input to
# fuzz/regressions/<target>/, where crates/dcgan/tests/fuzz_regressions.rs replays it on every
# test run. Prints one line per target (executions, new corpus entries) and exits 1 if any
# target crashed.
set -euo pipefail
seconds=${1:-60}
shift || true
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
cargo fuzz build -s none
targets=${*:-$(cargo fuzz list)}
status=0
for t in $targets; do
    mkdir -p "corpus/$t"
    log=$(mktemp)
    # -timeout: one input taking 30 s is a hang; -rss_limit_mb: a parser must not need 4 GiB.
    if cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
        verdict="no crash"
    else
        verdict="CRASH (input in fuzz/artifacts/$t/)"
        status=1
        grep -A3 -m1 "panicked at\|ERROR: libFuzzer" "$log" | cut -c1-300 || true
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    corpus=$(ls "corpus/$t" | wc -l)
    echo "$t: $execs executions in $seconds s, corpus $corpus inputs: $verdict"
    rm -f "$log"
done
exit $status
