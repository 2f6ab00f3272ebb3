#!/usr/bin/env bash
# vhost-user forwarding rate, pmdswitch against OVS-DPDK's dpdkvhostuserclient
# port, one after the other on the same set-up, alternating round by round.
# The "VM" is dpdk-testpmd with a virtio_user port that listens on a unix
# socket (server=1); both switches connect to it in client mode.
#
#   vm-to-sink: testpmd --forward-mode=txonly (64-byte UDP) -> switch -> net_null
#               (the rate the switch forwards: its PMD's packets received)
#   src-to-vm:  net_pcap (a 1-flow trace replayed forever) -> switch -> testpmd
#               --forward-mode=rxonly (the rate the VM receives: testpmd's
#               Rx-pps; and the switch's tx on the vhost port)
#
# One PMD thread on the last core for the switch, testpmd's forwarding core on
# core 0 (its main thread on the last core, mostly asleep); rule
# `in_port=1,actions=output:2` in both switches.
#
# usage: scripts/bench-vhost.sh [--rounds N] [--seconds S] [--directions LIST] [--out DIR]
#   LIST: vm-to-sink,src-to-vm (the default). Writes vhost.csv and vhost.md under
#   --out (default bench-results/).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/ovs-dpdk.sh
source scripts/lib/ovs-dpdk.sh
# shellcheck source=scripts/lib/bench-common.sh
source scripts/lib/bench-common.sh

ROUNDS=3 SECONDS_PER_RUN=6 DIRECTIONS=vm-to-sink,src-to-vm OUT=bench-results
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --directions) DIRECTIONS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
IFS=, read -r -a DIR_LIST <<<"$DIRECTIONS"
for d in "${DIR_LIST[@]}"; do
    case "$d" in vm-to-sink | src-to-vm) ;; *) echo "bad direction $d" >&2; exit 2 ;; esac
done
bench_setup bench-vhost KILL
VM_CORE=0

TRACE=$WORK/trace.pcap
/usr/bin/python3 scripts/gen_trace.py "$TRACE" --flows 1
SRC="net_pcap0,rx_pcap=$TRACE,infinite_rx=1"
SINK="net_null0,no-rx=1"
SOCK=$WORK/vm.sock
RECORDS=$WORK/records.tsv
: >"$RECORDS"
# record DIRECTION SWITCH ROUND SWITCH_SAMPLES VM_SAMPLES CHECK CYCLES_PER_PACKET IDLE%
record() { local IFS=$'\t'; echo "$*" >>"$RECORDS"; }

# ---- the VM -------------------------------------------------------------------
VM_PID="" VM_OUT=$WORK/vm.out
start_vm() {  # MODE: txonly | rxonly
    rm -f "$SOCK"
    # Its own EAL; --in-memory --single-file-segments keep its memory within
    # vhost-user's 8 regions. Output to a file, never a pipe.
    stdbuf -oL dpdk-testpmd -l "$VM_CORE,$PMD_CORE" --main-lcore "$PMD_CORE" --no-pci --in-memory \
        --single-file-segments --file-prefix "bvm$$" \
        --vdev="net_virtio_user0,path=$SOCK,server=1,queues=1" -- \
        --nb-cores=1 --auto-start --stats-period 1 --forward-mode="$1" --txpkts=64 \
        </dev/null >"$VM_OUT" 2>&1 &
    VM_PID=$!
    PIDS+=("$VM_PID")
    if ! wait_until 30 test -S "$SOCK"; then
        echo "testpmd (the VM) did not open $SOCK; its output ends:" >&2
        tail -n 20 "$VM_OUT" >&2
        exit 1
    fi
}
# The VM's totals once it stops: "RX TX".
stop_vm() {
    stop_pid "$VM_PID" INT
    wait "$VM_PID" 2>/dev/null || true
    awk '/Forward statistics for port 0/ { f = 1 }
         f && /RX-packets:/ { rx = $2 } f && /TX-packets:/ { tx = $2 }
         f && /TX-packets:/ { f = 0 }
         END { print rx + 0, tx + 0 }' "$VM_OUT"
}
# vm_pps FROM_LINE KEY: the VM's per-second Rx-pps or Tx-pps printed after line FROM_LINE.
vm_pps() {
    tail -n "+$1" "$VM_OUT" | grep -a "$2" | awk -v k="$2" '{ for (i = 1; i <= NF; i++) if ($i == k ":") printf "%.3f ", $(i + 1) / 1e6 }'
}
vm_lines() { wc -l <"$VM_OUT"; }

# ---- the switches: ports 1 and 2, rule in_port=1,actions=output:2 ---------------
# DIRECTION vm-to-sink: 1 = vm, 2 = sink; src-to-vm: 1 = src, 2 = vm.
OVS_BR=""
ovs_start_switch() {  # DIRECTION
    rm -rf "$WORK/ovs"
    ovs_start "$WORK/ovs" "$(printf '0x%x' $((1 << PMD_CORE)))" "0x1" 1024 \
        "--no-pci --in-memory --single-file-segments --file-prefix=bvovs$$" || exit 1
    OVS_BR=bv$$
    ovs_add_bridge "$OVS_BR" || exit 1
    ovs_ofctl add-flow "$OVS_BR" in_port=1,actions=output:2
    local vm=(dpdkvhostuserclient "options:vhost-server-path=$SOCK")
    if [ "$1" = vm-to-sink ]; then
        ovs_add_port "$OVS_BR" sink 2 dpdk "options:dpdk-devargs=$SINK" || exit 1
        ovs_add_port "$OVS_BR" vm 1 "${vm[@]}" || exit 1
    else
        ovs_add_port "$OVS_BR" vm 2 "${vm[@]}" || exit 1
        ovs_add_port "$OVS_BR" src 1 dpdk "options:dpdk-devargs=$SRC" || exit 1
    fi
}
# "RX1 TX2": packets port 1 received, packets port 2 sent.
ovs_counts() {
    ovs_ofctl dump-ports "$OVS_BR" | awk '
        /port +1:/ { sub(/.*rx pkts=/, ""); sub(/,.*/, ""); rx = $0 }
        /port +2:/ { two = 1; next }
        two && /tx pkts=/ { sub(/.*tx pkts=/, ""); sub(/,.*/, ""); tx = $0; two = 0 }
        END { print rx + 0, tx + 0 }'
}
ovs_pmd_rx() { ovs_pmd_field "packets received"; }
ovs_tx2() { local c; c=$(ovs_counts); echo "${c#* }"; }
# "CYCLES_PER_PACKET IDLE%": the PMD's processing cycles per packet and idle share.
ovs_pmd_info() {
    ovs_appctl dpif-netdev/pmd-stats-show | awk '
        /^main thread/ { exit }
        /idle cycles:/ { gsub(/[()%]/, "", $4); idle = $4 }
        /avg processing cycles per packet:/ { cpp = $6 }
        END { printf "%.0f %.0f\n", cpp, idle }'
}
ovs_pmd_clear() { ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null; }
ovs_stop_traffic() { ovs_ofctl del-flows "$OVS_BR"; }
ovs_stop_switch() { ovs_stop; }

PM_PID="" PM_CTL=$WORK/pm.ctl
pm_ctl() { "$PMDSWITCH" ctl --socket "$PM_CTL" "$@"; }
pm_start_switch() {  # DIRECTION
    local vmp="name = \"vm\"
type = \"vhost-user-client\"
path = \"$SOCK\"" p1 p2
    if [ "$1" = vm-to-sink ]; then
        p1=$vmp p2="name = \"sink\"
devargs = \"$SINK\""
    else
        p1="name = \"src\"
devargs = \"$SRC\"" p2=$vmp
    fi
    cat >"$WORK/switch.toml" <<CFG
[eal]
file_prefix = "bvpm$$"
in_memory = true
no_pci = true
main_core = 0
[pmd]
cores = [$PMD_CORE]
[control]
socket = "$PM_CTL"
[[port]]
$p1
[[port]]
$p2
[datapath]
flows = ["in_port=1,actions=output:2"]
CFG
    "$PMDSWITCH" run -c "$WORK/switch.toml" --duration $((SECONDS_PER_RUN + 120)) --log warn \
        >"$WORK/pm.out" 2>"$WORK/pm.err" </dev/null &
    PM_PID=$!
    PIDS+=("$PM_PID")
    if ! wait_until 30 pm_ctl pmd-stats-show; then
        echo "pmdswitch did not start; its output ends:" >&2
        tail -n 20 "$WORK/pm.out" "$WORK/pm.err" >&2
        exit 1
    fi
}
pm_counts() {
    pm_ctl --json port-show | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p[0]["rx_packets"], p[1]["tx_packets"])'
}
pm_pmd_rx() { pm_ctl --json pmd-stats-show | sed -n 's/.*"packets_received": \([0-9]*\).*/\1/p' | head -1; }
pm_tx2() { local c; c=$(pm_counts); echo "${c#* }"; }
pm_pmd_info() {
    pm_ctl --json pmd-stats-show | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)["pmds"][0]
total = p["idle_cycles"] + p["processing_cycles"] + p["sleep_cycles"]
print("%.0f %.0f" % (p["avg_processing_cycles_per_packet"], 100 * p["idle_cycles"] / max(total, 1)))'
}
pm_pmd_clear() { pm_ctl pmd-stats-clear >/dev/null; }
pm_stop_traffic() { pm_ctl del-flows >/dev/null; }
pm_stop_switch() {
    stop_pid "$PM_PID" TERM
    wait "$PM_PID" 2>/dev/null || echo "  pmdswitch exited with status $?" >&2
    PIDS=("$VM_PID")
}

# ---- one run ----------------------------------------------------------------------
run() {  # SWITCH(ovs|pm) DIRECTION ROUND
    local sw=$1 dir=$2 round=$3 name
    name=$([ "$sw" = ovs ] && echo ovs || echo pmdswitch)
    start_vm "$([ "$dir" = vm-to-sink ] && echo txonly || echo rxonly)"
    "${sw}_start_switch" "$dir"
    # Traffic through the switch, then a second of warm-up.
    local getter
    getter=$([ "$dir" = vm-to-sink ] && echo "${sw}_pmd_rx" || echo "${sw}_tx2")
    local i n=0
    for ((i = 0; i < 300; i++)); do
        n=$($getter 2>/dev/null || echo 0)
        [ "${n:-0}" -gt 0 ] && break
        sleep 0.1
    done
    if [ "${n:-0}" -eq 0 ]; then
        echo "no traffic through $name ($dir) in 30 s; the VM's output ends:" >&2
        tail -n 15 "$VM_OUT" >&2
        [ "$sw" = ovs ] && ovs_log_tail 15 >&2
        [ "$sw" = pm ] && tail -n 15 "$WORK/pm.err" >&2
        exit 1
    fi
    sleep 1
    local from samples vm_samples before after info
    from=$(($(vm_lines) + 1))
    "${sw}_pmd_clear"
    before=$("${sw}_counts")
    samples=$(sample_rate "$getter")
    after=$("${sw}_counts")
    info=$("${sw}_pmd_info")
    vm_samples=$(vm_pps "$from" "$([ "$dir" = vm-to-sink ] && echo Tx-pps || echo Rx-pps)")
    # Verification: stop the traffic, then the counts must agree.
    local check c vm_tot
    if [ "$dir" = vm-to-sink ]; then
        # OVS shows no counters for a vhost port whose VM has gone: compare
        # over the window (RX1 taken off the VM's ring, TX2 sent to the
        # sink), then against what the VM says it sent in all.
        vm_tot=$(stop_vm)
        "${sw}_stop_switch"
        check=$(awk -v vt="${vm_tot#* }" -v rx0="${before% *}" -v tx0="${before#* }" \
            -v rx1="${after% *}" -v tx1="${after#* }" 'BEGIN {
            rx = rx1 - rx0; tx = tx1 - tx0
            if (rx <= 0) print "nothing received in the window"
            else if (tx < 0.99 * rx) printf "sink sent %d of %d received in the window\n", tx, rx
            else if (rx1 > vt) printf "switch received %d, more than the VM sent (%d)\n", rx1, vt
            else print "ok" }')
    else
        "${sw}_stop_traffic"
        sleep 0.5
        c=$("${sw}_counts")
        sleep 0.5
        vm_tot=$(stop_vm)
        "${sw}_stop_switch"
        # The switch put TX2 into the VM's ring; the VM counted RX.
        check=$(awk -v vr="${vm_tot% *}" -v tx="${c#* }" 'BEGIN {
            if (tx == 0) print "nothing sent to the VM"
            else if (vr > tx || tx - vr > 1024) printf "switch sent %d to the VM, VM received %d\n", tx, vr
            else print "ok" }')
    fi
    record "$dir" "$name" "$round" "$samples" "${vm_samples% }" "$check" "${info% *}" "${info#* }"
    printf '  %s round %s %-9s switch %s | VM %s| %s cycles/pkt, %s%% idle | %s\n' \
        "$dir" "$round" "$name" "$samples" "$vm_samples" "${info% *}" "${info#* }" "$check" >&2
}

for d in "${DIR_LIST[@]}"; do
    for r in $(seq "$ROUNDS"); do
        # Which switch goes first alternates round by round.
        if [ $((r % 2)) -eq 1 ]; then
            run ovs "$d" "$r"
            run pm "$d" "$r"
        else
            run pm "$d" "$r"
            run ovs "$d" "$r"
        fi
    done
done

cp "$RECORDS" "$OUT/vhost-records.tsv"
/usr/bin/python3 - "$RECORDS" "$OUT" "$ROUNDS" "$SECONDS_PER_RUN" <<'PY'
import csv, statistics, sys
recs_path, out, rounds, secs = sys.argv[1:]
recs = [l.rstrip("\n").split("\t") for l in open(recs_path) if l.strip()]
dirs = list(dict.fromkeys(r[0] for r in recs))

def med(d, sw, col):
    xs = [float(x) for r in recs if r[0] == d and r[1] == sw for x in r[col].split()]
    return statistics.median(xs) if xs else None

def med_col(d, sw, col):
    xs = [float(r[col]) for r in recs if r[0] == d and r[1] == sw and len(r) > col and r[col]]
    return statistics.median(xs) if xs else None

def checks(d, sw):
    bad = [f"round {r[2]}: {r[5]}" for r in recs if r[0] == d and r[1] == sw and r[5] != "ok"]
    return "; ".join(bad) or "ok"

f = lambda v: "" if v is None else f"{v:.2f}"
f0 = lambda v: "" if v is None else f"{v:.0f}"
rows = []
for d in dirs:
    o, p = med(d, "ovs", 3), med(d, "pmdswitch", 3)
    ov, pv = med(d, "ovs", 4), med(d, "pmdswitch", 4)
    # vm-to-sink: the switch's forwarded rate; src-to-vm: what the VM received.
    if d == "src-to-vm":
        o, p, ov, pv = ov, pv, o, p
    rows.append({
        "direction": d,
        "measured": "switch rx (PMD)" if d == "vm-to-sink" else "VM rx (testpmd Rx-pps)",
        "ovs_mpps": f(o), "pmdswitch_mpps": f(p), "ratio": f(p / o) if o and p else "",
        "other": "VM tx (testpmd Tx-pps)" if d == "vm-to-sink" else "switch tx to the VM",
        "ovs_other_mpps": f(ov), "pmdswitch_other_mpps": f(pv),
        "ovs_cycles_per_pkt": f0(med_col(d, "ovs", 6)), "pmdswitch_cycles_per_pkt": f0(med_col(d, "pmdswitch", 6)),
        "ovs_pmd_idle_pct": f0(med_col(d, "ovs", 7)), "pmdswitch_pmd_idle_pct": f0(med_col(d, "pmdswitch", 7)),
        "ovs_check": checks(d, "ovs"), "pmdswitch_check": checks(d, "pmdswitch"),
    })
with open(f"{out}/vhost.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
head = ["direction", "measured", "OVS Mpps", "pmdswitch Mpps", "ratio", "also", "OVS", "pmdswitch",
        "OVS cyc/pkt", "pmds cyc/pkt", "OVS idle%", "pmds idle%"]
table = [[r["direction"], r["measured"], r["ovs_mpps"], r["pmdswitch_mpps"], r["ratio"], r["other"],
          r["ovs_other_mpps"], r["pmdswitch_other_mpps"], r["ovs_cycles_per_pkt"], r["pmdswitch_cycles_per_pkt"],
          r["ovs_pmd_idle_pct"], r["pmdswitch_pmd_idle_pct"]] for r in rows]
widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(head)]
line = lambda cells: "  ".join(c.ljust(w) if i in (0, 1, 5) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
print(line(head))
for t in table:
    print(line(t))
note = (f"medians of one-second samples over {rounds} round(s) x {secs} s; 64-byte frames; switch PMD and VM "
        "forwarding core on different cores; cyc/pkt: the switch PMD's processing cycles per packet received; "
        "idle%: its share of empty polls (a switch that idles is waiting on the VM, not the bottleneck)")
print(f"({note})")
for r in rows:
    print(f'  {r["direction"]} checks: ovs {r["ovs_check"]}; pmdswitch {r["pmdswitch_check"]}')
with open(f"{out}/vhost.md", "w") as fh:
    fh.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
    for t in table:
        fh.write("| " + " | ".join(t) + " |\n")
    fh.write(f"\n{note[0].upper() + note[1:]}.\n")
print(f"wrote {out}/vhost.csv, vhost.md")
if any(r["ovs_check"] != "ok" or r["pmdswitch_check"] != "ok" for r in rows):
    print("PROBLEMS: see the checks above")
    sys.exit(1)
PY
