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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One total over every test binary (cargo's last line is the doc-tests').
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
