#!/usr/bin/env bash
# Installs what pmdswitch needs, builds it, and runs it for a few seconds on
# the default config (config/demo.toml): a 64-byte UDP trace replayed forever
# from a pcap port into a null sink, printing live counters, then stops.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-host.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release
/usr/bin/python3 scripts/gen_trace.py /tmp/pmdswitch-demo.pcap --flows 1
./target/release/pmdswitch run --config config/demo.toml --duration "${DEMO_SECONDS:-5}" --stats-interval 1 --log warn
