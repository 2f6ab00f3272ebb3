#!/usr/bin/env bash
# Runs one fuzz target for a while with libFuzzer, on the stable toolchain:
#   scripts/fuzz.sh TARGET SECONDS [JOBS]
# Targets: extract, flow_parse, config_toml, ctl_request, ofp_decode (fuzz/fuzz_targets).
# Builds the fuzz crate with the coverage instrumentation cargo-fuzz would
# add (sancov passes are stable rustc flags; libfuzzer-sys builds libFuzzer
# itself), keeps the corpus under fuzz/corpus/TARGET and any crash under
# fuzz/artifacts/TARGET, and prints libFuzzer's execution count. A crash
# fails the script; turn it into a regression test before fixing it.
#   scripts/fuzz.sh --build    only builds every target (CI does this).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# With an explicit --target, RUSTFLAGS reach only the target's code, not
# build scripts and proc macros (which cannot link the coverage hooks).
host=$(rustc -vV | sed -n 's/^host: //p')
build() { (cd fuzz && cargo build --release --target "$host" "$@"); }
if [ "${1:-}" = "--build" ]; then
    build --bins
    exit 0
fi
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [JOBS]}
secs=${2:?usage: scripts/fuzz.sh TARGET SECONDS [JOBS]}
jobs=${3:-1}
fork=()
[ "$jobs" -gt 1 ] && fork=(-fork="$jobs")
build --bin "$target"
corpus=fuzz/corpus/$target
artifacts=fuzz/artifacts/$target
mkdir -p "$corpus" "$artifacts"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
fuzz/target/"$host"/release/"$target" "$corpus" -artifact_prefix="$artifacts/" \
    -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1 \
    "${fork[@]}" 2>&1 | tee "$log" | grep -E 'DONE|pulse|ERROR|panicked|crash|stat::'
status=${PIPESTATUS[0]}
set -e
execs=$(awk '/^stat::number_of_executed_units/ {s += $2} END {print s + 0}' "$log")
if [ "$execs" = 0 ]; then
    # -fork mode reports totals on its progress lines instead.
    execs=$(awk '/^#[0-9]+/ {n = substr($1, 2)} END {print n + 0}' "$log")
fi
echo "fuzz $target: ${execs:-?} executions in ${secs} s, exit $status; corpus $(ls "$corpus" | wc -l) inputs"
if [ "$status" -ne 0 ]; then
    echo "fuzz $target: FAILED; inputs in $artifacts:" >&2
    ls "$artifacts" >&2
fi
exit "$status"
