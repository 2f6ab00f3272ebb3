#!/usr/bin/env bash
# What PMD naps (`[pmd] max_sleep_us`) cost and save: the PMD thread's CPU
# use when idle, the forwarding rate under load, and the one-way latency of
# sparse probe frames (tap -> switch -> tap, scripts/latency_probe.py), each
# with naps off (0) and on (default 500 us), idle and under load (a pcap
# replayed forever into a null sink on the same PMD).
#
# usage: scripts/bench-sleep.sh [--max-sleep-us 500] [--probes 2000] [--seconds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_SLEEP=500 PROBES=2000 SECS=3
while [ $# -gt 0 ]; do
    case "$1" in
        --max-sleep-us) MAX_SLEEP=$2; shift 2 ;;
        --probes) PROBES=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
NCPU=$(nproc)
PMD_CORE=$((NCPU - 1))
[ "$PMD_CORE" -eq 0 ] && { echo "need at least 2 cores" >&2; exit 1; }

cargo build --release --quiet
WORK=$(mktemp -d /tmp/pmdswitch-sleep.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
/usr/bin/python3 scripts/gen_trace.py "$WORK/trace.pcap" --flows 1 >/dev/null
TAG=$$
TAP_IN=pmdsi$((TAG % 10000)) TAP_OUT=pmdso$((TAG % 10000))

# CPU seconds (user+system) of the PMD thread of process $1.
pmd_cpu() {
    local hz t
    hz=$(getconf CLK_TCK)
    for t in /proc/"$1"/task/*; do
        if grep -q '^pmd-' "$t/comm" 2>/dev/null; then
            awk -v hz="$hz" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "$t/stat"
            return
        fi
    done
    echo 0
}

# Sum of a pmd-stats-show field over the PMDs.
pmd_stat() {
    ./target/release/pmdswitch ctl --socket "$WORK/ctl" --json pmd-stats-show |
        /usr/bin/python3 -c "import json,sys; print(sum(p['$1'] for p in json.load(sys.stdin)['pmds']))"
}

# run SLEEP LOADED: prints "cpu_pct mpps probe-result"
run() {
    local sleep=$1 loaded=$2
    {
        cat <<CFG
[eal]
file_prefix = "sleep-$TAG"
in_memory = true
no_pci = true
socket_mem = "256"
main_core = 0
[pmd]
cores = [$PMD_CORE]
max_sleep_us = $sleep
[memory]
mbufs = 8192
[control]
socket = "$WORK/ctl"
[[port]]
name = "tap_in"
devargs = "net_tap$TAG,iface=$TAP_IN"
[[port]]
name = "tap_out"
devargs = "net_tap$((TAG + 1)),iface=$TAP_OUT"
CFG
        if [ "$loaded" = 1 ]; then
            cat <<CFG
[[port]]
name = "src"
devargs = "net_pcap$TAG,rx_pcap=$WORK/trace.pcap,infinite_rx=1"
[[port]]
name = "sink"
devargs = "net_null$TAG,no-rx=1"
[[xconnect]]
from = "src"
to = "sink"
CFG
        fi
        cat <<CFG
[[xconnect]]
from = "tap_in"
to = "tap_out"
CFG
    } >"$WORK/switch.toml"
    ./target/release/pmdswitch run -c "$WORK/switch.toml" --log warn >"$WORK/out" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
        [ -S "$WORK/ctl" ] && ip link show "$TAP_OUT" >/dev/null 2>&1 && break
        sleep 0.1
    done
    for i in "$TAP_IN" "$TAP_OUT"; do
        sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" || true
        ip link set "$i" up
    done
    sleep 1
    local c0 r0 s0 c1 r1 s1
    c0=$(pmd_cpu "$PID") r0=$(pmd_stat packets_received) s0=$(pmd_stat sleep_us)
    sleep "$SECS"
    c1=$(pmd_cpu "$PID") r1=$(pmd_stat packets_received) s1=$(pmd_stat sleep_us)
    local probe
    probe=$(taskset -c 0 /usr/bin/python3 scripts/latency_probe.py "$TAP_IN" "$TAP_OUT" --count "$PROBES")
    kill -INT "$PID"
    wait "$PID" || true
    PID=""
    rm -f "$WORK/ctl"
    awk -v c0="$c0" -v c1="$c1" -v r0="$r0" -v r1="$r1" -v s0="$s0" -v s1="$s1" -v s="$SECS" -v p="$probe" \
        'BEGIN { printf "%.0f %.0f %.2f %s\n", 100 * (c1 - c0) / s, (s1 - s0) / s / 1e4, (r1 - r0) / s / 1e6, p }'
}

printf '%-8s %-14s %8s %8s %8s  %s\n' load max_sleep_us "cpu %" "slept %" Mpps "probe latency (us, one way, via kernel taps)"
for loaded in 0 1; do
    for sleep in 0 "$MAX_SLEEP"; do
        read -r cpu slept mpps probe < <(run "$sleep" "$loaded")
        printf '%-8s %-14s %8s %8s %8s  %s\n' "$([ "$loaded" = 1 ] && echo loaded || echo idle)" "$sleep" "$cpu" "$slept" "$mpps" "$probe"
    done
done
