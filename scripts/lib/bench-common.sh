# shellcheck shell=bash
# Small helpers shared by the benchmark scripts. Source it; it expects
# SECONDS_PER_RUN to be set.

now_ns() { date +%s%N; }

# sample_rate GETTER: one Mpps figure per second for SECONDS_PER_RUN seconds,
# from a cumulative packet counter that the command GETTER prints.
sample_rate() {
    local getter=$1 t0 c0 t1 c1 out=()
    t0=$(now_ns); c0=$($getter)
    for _ in $(seq "$SECONDS_PER_RUN"); do
        sleep 1
        t1=$(now_ns); c1=$($getter)
        out+=("$(awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.3f", c * 1000 / t }')")
        t0=$t1 c0=$c1
    done
    echo "${out[*]}"
}

# stop_pid PID [SIGNAL]: signal (default TERM) a process we started, wait up to
# 10 s for it to go, then KILL it.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    [ -n "$pid" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# wait_until SECS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_until() {
    local t=$1 i
    shift
    for ((i = 0; i < t * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# bench_setup TAG SIGNAL: the common start of a benchmark against OVS-DPDK
# (needs scripts/lib/ovs-dpdk.sh sourced, ROUNDS, SECONDS_PER_RUN and OUT
# set). Checks the arguments and the machine, builds pmdswitch, and sets
# PMD_CORE (the last core), PMDSWITCH, WORK (a temp dir) and PIDS; on exit
# every pid in PIDS gets SIGNAL (KILL after 10 s), OVS stops and WORK goes.
bench_setup() {
    if [ "$ROUNDS" -lt 1 ] || [ "$SECONDS_PER_RUN" -lt 2 ]; then
        echo "need --rounds >= 1 and --seconds >= 2" >&2
        exit 2
    fi
    PMD_CORE=$(($(nproc) - 1))
    [ "$PMD_CORE" -eq 0 ] && { echo "need at least 2 cores" >&2; exit 1; }
    [ -x "$OVS_VSWITCHD_DPDK" ] || { echo "$OVS_VSWITCHD_DPDK missing: install openvswitch-switch-dpdk (scripts/setup-host.sh)" >&2; exit 1; }
    cargo build --release --quiet
    # shellcheck disable=SC2034  # for the sourcing script
    PMDSWITCH=$PWD/target/release/pmdswitch
    mkdir -p "$OUT"
    WORK=$(mktemp -d "/tmp/pmdswitch-$1.XXXXXX")
    PIDS=()
    BENCH_STOP_SIGNAL=$2
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do stop_pid "$p" "$BENCH_STOP_SIGNAL"; done
    ovs_stop
    rm -rf "$WORK"
}
