#!/usr/bin/env bash
# Fuzz every parser of outside bytes for SECONDS each (default 60), on the stable toolchain
# (cargo-fuzz's `-s none`: the crate forbids unsafe code, so sanitizers add little).
#   bash scripts/fuzz.sh [SECONDS] [TARGET ...]
# Each target starts from fuzz/seeds/<target> (small valid files of its format, made by
# fuzz/make-seeds.py) and keeps what it learns in fuzz/corpus/<target>. A crash stops that
# target and is saved in fuzz/artifacts/<target>/: fix it, then copy the input to
# fuzz/regressions/<target>/, where crates/dcgan-cli/tests/fuzz_regressions.rs replays it on every
# test run. Prints one line per target (executions, new corpus entries) and exits 1 if any
# target crashed.
#
# FUZZ_JOBS targets run at once (default: one per core; each libFuzzer process uses one).
# FUZZ_CODEGEN_UNITS (default 16) is passed to cargo-fuzz, whose release default is 1. With it and
# fuzz/Cargo.toml's opt-levels the build took 8 min 42 s on a 2-core EPYC, against 23 min 18 s
# with cargo-fuzz's defaults (docs/reliability.md): for runs of seconds to minutes the build is
# most of the cost. Set it to 1 for a campaign of hours.
set -euo pipefail
seconds=${1:-60}
shift || true
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
cargo fuzz build -s none --codegen-units "${FUZZ_CODEGEN_UNITS:-16}"
bin="target/$(rustc -vV | sed -n 's/^host: //p')/release"
targets=${*:-$(cargo fuzz list)}
jobs=${FUZZ_JOBS:-$(nproc)}
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# One target: its line goes to $results/<target>.line, and a crash leaves $results/<target>.crash.
fuzz_one() {
    local t=$1 log="$results/$1.log" verdict
    mkdir -p "corpus/$t" "artifacts/$t"
    # -timeout: one input taking 30 s is a hang; -rss_limit_mb: a parser must not need 4 GiB.
    if "$bin/$t" "corpus/$t" "seeds/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        >"$log" 2>&1; then
        verdict="no crash"
    else
        verdict="CRASH (input in fuzz/artifacts/$t/)"
        grep -A3 -m1 "panicked at\|ERROR: libFuzzer" "$log" | cut -c1-300 >"$results/$t.crash" || true
        touch "$results/$t.crash"
    fi
    local execs corpus
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    corpus=$(ls "corpus/$t" | wc -l)
    echo "$t: $execs executions in $seconds s, corpus $corpus inputs: $verdict" >"$results/$t.line"
}

running=0
for t in $targets; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

status=0
for t in $targets; do
    [ -f "$results/$t.crash" ] && { cat "$results/$t.crash"; status=1; }
    cat "$results/$t.line" 2>/dev/null || { echo "$t: did not report"; status=1; }
done
exit $status
