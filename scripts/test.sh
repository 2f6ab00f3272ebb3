#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: formatting, lints,
# unit and property tests, and the integration tests on real DPDK virtual
# devices (they need hugepages, which setup-host.sh reserves).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-host.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The fuzz crate (its own workspace) builds, and each target runs briefly on
# its corpus; long runs are scripts/fuzz.sh TARGET SECONDS.
scripts/fuzz.sh --build
for t in extract flow_parse config_toml ctl_request ofp_decode; do
    scripts/fuzz.sh "$t" 10
done
log=$(mktemp)
# Tests that cannot run say so here (tests/common: skipped()); cargo would
# count them as passed.
export PMDSWITCH_SKIP_LOG
PMDSWITCH_SKIP_LOG=$(mktemp)
trap 'rm -f "$log" "$PMDSWITCH_SKIP_LOG"' EXIT
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
skips=$(wc -l <"$PMDSWITCH_SKIP_LOG")
if [ "$skips" -gt 0 ]; then
    echo "skipped tests:"
    sed 's/^/  /' "$PMDSWITCH_SKIP_LOG"
fi
# One total over every test binary (cargo's last line is the doc-tests');
# a skipped test passed in cargo's eyes, so it moves from passed to skipped.
awk -v k="$skips" '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "%d passed, %d failed, %d skipped\n", p - k, f, s + k }' "$log"
if [ "${CI:-}" = "true" ] && [ "$skips" -gt 0 ]; then
    echo "CI: tests were skipped (the OVS comparisons must run in CI); failing" >&2
    [ "$status" -ne 0 ] || status=1
fi
exit "$status"
