#!/usr/bin/env bash
# Forwarding rate of pmdswitch's cross-connect against dpdk-testpmd's io mode
# on the same ports (a pcap trace replayed forever into a null sink), the
# same trace and the same cores, alternating the two so that the machine's
# noise hits both alike. Prints the median Mpps of each and the ratio.
#
# usage: scripts/bench-xconnect.sh [--rounds N] [--seconds S] [--flows F] [--size BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3 SECONDS_PER_RUN=6 FLOWS=1 SIZE=64
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --flows) FLOWS=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

NCPU=$(nproc)
PMD_CORE=$((NCPU - 1))
MAIN_CORE=0
[ "$PMD_CORE" -eq 0 ] && { echo "need at least 2 cores" >&2; exit 1; }

cargo build --release --quiet
WORK=$(mktemp -d /tmp/pmdswitch-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TRACE=$WORK/trace.pcap
/usr/bin/python3 scripts/gen_trace.py "$TRACE" --flows "$FLOWS" --size "$SIZE"
SRC="net_pcap0,rx_pcap=$TRACE,infinite_rx=1"
SINK="net_null0,no-rx=1"

# Per-second samples, the first dropped as warm-up.
run_testpmd() {
    # testpmd counts its start-up in the timeout; pmdswitch's --duration does not.
    timeout --signal=INT "$((SECONDS_PER_RUN + 2))" dpdk-testpmd -l "$MAIN_CORE,$PMD_CORE" --no-pci --in-memory \
        --file-prefix "bench-tp-$$" --vdev="$SRC" --vdev="$SINK" -- \
        --forward-mode=io --auto-start --nb-cores=1 --stats-period 1 </dev/null 2>&1 \
        | grep -a "Rx-pps" | awk 'NR % 2 == 1 { print $2 / 1e6 }' | tail -n +2 || true
}

run_pmdswitch() {
    cat >"$WORK/switch.toml" <<CFG
[eal]
file_prefix = "bench-pmds-$$"
in_memory = true
no_pci = true
main_core = $MAIN_CORE
[pmd]
cores = [$PMD_CORE]
[control]
socket = "$WORK/ctl"
[[port]]
name = "src"
devargs = "$SRC"
[[port]]
name = "sink"
devargs = "$SINK"
[[xconnect]]
from = "src"
to = "sink"
CFG
    ./target/release/pmdswitch run -c "$WORK/switch.toml" --duration "$SECONDS_PER_RUN" \
        --stats-interval 1 --log warn 2>/dev/null \
        | grep -o 'src: rx [0-9]* ([0-9.]* Mpps)' | sed 's/.*(\([0-9.]*\) Mpps)/\1/' | tail -n +2 || true
}

TP=() PM=()
for r in $(seq "$ROUNDS"); do
    # Which goes first alternates round by round.
    if [ $((r % 2)) -eq 1 ]; then
        mapfile -t -O "${#TP[@]}" TP < <(run_testpmd)
        mapfile -t -O "${#PM[@]}" PM < <(run_pmdswitch)
    else
        mapfile -t -O "${#PM[@]}" PM < <(run_pmdswitch)
        mapfile -t -O "${#TP[@]}" TP < <(run_testpmd)
    fi
    echo "round $r: testpmd ${TP[*]: -3} | pmdswitch ${PM[*]: -3}" >&2
done

/usr/bin/python3 - "$FLOWS" "$SIZE" "${TP[*]}" "${PM[*]}" <<'PY'
import statistics, sys
flows, size, tp, pm = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
if not tp or not pm:
    sys.exit(f"no samples (testpmd {len(tp)}, pmdswitch {len(pm)})")
t, p = statistics.median(map(float, tp)), statistics.median(map(float, pm))
print(f"{'case':<24}{'testpmd io Mpps':>16}{'pmdswitch Mpps':>16}{'ratio':>8}")
print(f"{flows + ' flow(s), ' + size + ' B':<24}{t:>16.2f}{p:>16.2f}{p / t:>8.2f}")
print(f"(medians of {len(tp)} and {len(pm)} one-second samples)")
PY
