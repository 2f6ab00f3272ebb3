#!/usr/bin/env bash
# Forwarding rate of pmdswitch against OVS-DPDK (dpif-netdev), one PMD thread
# each on the same core, the same DPDK virtual ports (a pcap trace replayed
# forever from memory into a null sink) and the same OpenFlow rules,
# alternating the two switches round by round so that the machine's noise
# hits both alike. dpdk-testpmd's io forwarding (no lookup at all) on the
# 1-flow trace gives the limit of the ports themselves.
#
# usage: scripts/bench-ovs.sh [--rounds N] [--seconds S] [--cases LIST] [--out DIR]
#                             [--smc] [--testpmd-all] [--no-testpmd]
#
# Cases (comma-separated): a number of flows (64-byte UDP frames, distinct
# source address and port, rule `in_port=1,actions=output:2`), or `l3` (or
# `l3:FLOWS`): 10k flows whose destinations spread over 125
# `ip,nw_dst=A.B.C.D/LEN` rules of every length /8../32 at priority 1000+LEN
# (many megaflow masks, so many subtables), or `mf:FLOWS`: the flow-count
# trace with the rule `udp,nw_dst=192.168.0.1,tp_dst=5001,actions=output:2`,
# whose megaflow masks L3/L4 fields, so packets take the per-flow caches
# (EMC, then the megaflow classifier) instead of the simple-match path the
# in_port rule allows. Default:
# 1,1000,100000,200000,1000000,mf:1,mf:1000,mf:100000,mf:200000,mf:1000000,l3. OVS cannot take the 1000000-flow trace
# (its shared mempool is capped at 262144 mbufs and net_pcap's infinite_rx
# keeps every packet of the trace in an mbuf): it is reported as n/a.
#
# Rule sets users run (scripts/gen_ruleset.py writes them with their traces,
# 10,000 flows each): `acl:N`, a security-group allow-list of N rules over
# the 5-tuple with prefixes and masked ports and a default drop (1 flow in 16
# is dropped); `normal:N`, `actions=NORMAL` with N hosts learned behind the
# sink port (a learning trace on it) and N senders behind the source;
# `pipeline:N`, Faucet's four tables (VLAN, ACL, ether-src learning, forwarding)
# joined by goto_table, N known hosts. `--cases realistic` runs
# acl:100,acl:1000,acl:10000,normal:1000,normal:10000,pipeline:1000.
#
# Prints per case the median Mpps of each switch (per-second samples after a
# one-second warm-up), the ratio, cycles per packet, the lookup path taken and
# whether every received packet reached the sink; writes results.csv,
# results.md, samples.csv and mpps.png under --out (default bench-results/).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/ovs-dpdk.sh
source scripts/lib/ovs-dpdk.sh
# shellcheck source=scripts/lib/bench-common.sh
source scripts/lib/bench-common.sh

ROUNDS=3 SECONDS_PER_RUN=6 CASES=1,1000,100000,200000,1000000,mf:1,mf:1000,mf:100000,mf:200000,mf:1000000,l3 OUT=bench-results
SMC=false TESTPMD=one
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --cases) CASES=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --smc) SMC=true; shift ;;
        --testpmd-all) TESTPMD=all; shift ;;
        --no-testpmd) TESTPMD=none; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ "$CASES" = realistic ] && CASES=acl:100,acl:1000,acl:10000,normal:1000,normal:10000,pipeline:1000
bench_setup bench-ovs TERM
MAIN_CORE=0

SINK="net_null0,no-rx=1"
RECORDS=$WORK/records.tsv
: >"$RECORDS"
# record CASE SWITCH ROUND SAMPLES CPP LOOKUPS PATH RX SINK_TX RULES_HIT MEGAFLOWS MASKS NOTE
# (the case's expected sink share and whether every rule must match come from
# CASE_SHARE and CASE_ALL_RULES, set per case)
record() { local IFS=$'\t'; echo "$*"$'\t'"$CASE_SHARE"$'\t'"$CASE_ALL_RULES" >>"$RECORDS"; }

# Python: megaflow count and distinct masks from a dump (OVS dpctl or ours).
count_masks() {
    /usr/bin/python3 - "$1" <<'PY'
import re, sys
flows = masks = 0
seen = set()
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("flow-dump") or "actions" not in line:
        continue
    flows += 1
    m = line.split("actions")[0]
    # The mask shape: every value replaced, masks kept.
    shape = re.sub(r"=([^,/()]*)(/[^,()]*)?", lambda x: "=" + (x.group(2) or "*"), m)
    shape = re.sub(r"(packets|bytes|used):[^,]*,?", "", shape)
    seen.add(shape)
print(flows, len(seen))
PY
}

# ---- OVS-DPDK -------------------------------------------------------------
OVS_BR=""
ovs_rx() { ovs_pmd_field "packets received"; }
# "RX TX": packets the source received and the sink sent.
ovs_port_counts() {
    ovs_ofctl dump-ports "$OVS_BR" | awk '
        /port +1:/ { sub(/.*rx pkts=/, ""); sub(/,.*/, ""); rx = $0 }
        /port +2:/ { sink = 1; next }
        sink && /tx pkts=/ { sub(/.*tx pkts=/, ""); sub(/,.*/, ""); tx = $0; sink = 0 }
        END { print rx + 0, tx + 0 }'
}

OVS_NA=""  # the case OVS could not load (no need to try again each round)
run_ovs() {  # CASE ROUND TRACE RULES
    local case=$1 round=$2 trace=$3 rules=$4
    if [ "$OVS_NA" = "$case" ]; then
        record "$case" ovs "$round" "" "" "" "" 0 0 "" "" "" "n/a: trace larger than OVS's 262144-mbuf mempool"
        return 0
    fi
    local dir=$WORK/ovs
    rm -rf "$dir"
    local extra=()
    [ "$SMC" = true ] && extra+=(smc-enable=true)
    ovs_start "$dir" "$(printf '0x%x' $((1 << PMD_CORE)))" "$(printf '0x%x' $((1 << MAIN_CORE)))" 1024 \
        "--no-pci --in-memory --file-prefix=bovs$$" "${extra[@]}" || exit 1
    OVS_BR=bo$$
    ovs_add_bridge "$OVS_BR" || exit 1
    # The sink and the rules first: no packet meets a half-built rule table.
    ovs_add_port "$OVS_BR" sink 2 dpdk "options:dpdk-devargs=$CASE_SINK" || exit 1
    # NORMAL learns every host: OVS's table (2048 by default) must hold them.
    ovs_vsctl set Bridge "$OVS_BR" other_config:mac-table-size=1000000
    ovs_ofctl add-flows "$OVS_BR" "$rules"
    if ! ovs_add_port "$OVS_BR" src 1 dpdk "options:dpdk-devargs=net_pcap0,rx_pcap=$trace,infinite_rx=1" 2>"$WORK/ovs-port.err"; then
        if grep -q "Not enough mbufs" "$WORK/ovs-port.err"; then
            echo "  ovs: cannot load this trace: its shared mempool holds at most 262144 mbufs and net_pcap's" \
                "infinite_rx needs one per packet in the trace" >&2
            record "$case" ovs "$round" "" "" "" "" 0 0 "" "" "" "n/a: trace larger than OVS's 262144-mbuf mempool"
            OVS_NA=$case
            ovs_stop
            return 0
        fi
        cat "$WORK/ovs-port.err" >&2
        exit 1
    fi
    # Traffic flows, then a second of warm-up (upcalls, caches).
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(ovs_rx)" -gt 0 ] && break
        sleep 0.1
    done
    sleep 1
    ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null
    local before samples after
    before=$(ovs_port_counts)
    samples=$(sample_rate ovs_rx)
    after=$(ovs_port_counts)
    local stats cpp lookups path
    stats=$(ovs_appctl dpif-netdev/pmd-stats-show)
    cpp=$(ovs_pmd_field "avg processing cycles per packet")
    lookups=$(ovs_pmd_field "avg. subtable lookups per megaflow hit")
    path=$(for f in "simple match hits" "emc hits" "smc hits" "megaflow hits" "miss with success upcall"; do
        echo "$stats" | awk -v f="$f" '/^main thread/ { exit } index($0, f ":") { split($0, v, ": "); printf "%s=%s ", f, v[2] }'
    done | sed 's/simple match hits/simple/; s/emc hits/emc/; s/smc hits/smc/; s/megaflow hits/megaflow/; s/miss with success upcall/upcall/; s/ $//')
    # Every packet received in the window must have left on the sink.
    local rx tx
    rx=$((${after% *} - ${before% *})) tx=$((${after#* } - ${before#* }))
    local hit total
    ovs_ofctl dump-flows "$OVS_BR" >"$WORK/rules"
    total=$(grep -c "actions=" "$WORK/rules" || true)
    hit=$(grep "actions=" "$WORK/rules" | grep -vc "n_packets=0," || true)
    ovs_appctl dpctl/dump-flows >"$WORK/mf"
    local mf
    mf=$(count_masks "$WORK/mf")
    record "$case" ovs "$round" "$samples" "$cpp" "$lookups" "$path" "$rx" "$tx" "$hit/$total" "${mf% *}" "${mf#* }" ""
    ovs_stop
}

# ---- pmdswitch ------------------------------------------------------------
PM_CTL=""
pm_ctl() { "$PMDSWITCH" ctl --socket "$PM_CTL" "$@"; }
pm_port_counts() {
    pm_ctl --json port-show | /usr/bin/python3 -c '
import json, sys
p = {x["name"]: x for x in json.load(sys.stdin)}
print(p["src"]["rx_packets"], p["sink"]["tx_packets"])'
}
pm_rx() { pm_ctl --json pmd-stats-show | sed -n 's/.*"packets_received": \([0-9]*\).*/\1/p' | head -1; }

run_pmdswitch() {  # CASE ROUND TRACE RULES PACKETS
    local case=$1 round=$2 trace=$3 rules=$4 packets=$5
    PM_CTL=$WORK/pm.ctl
    # net_pcap's infinite_rx holds the whole trace in mbufs of the port's pool.
    local mbufs=$((packets + 32768))
    cat >"$WORK/switch.toml" <<CFG
[eal]
file_prefix = "bpm$$"
in_memory = true
no_pci = true
main_core = $MAIN_CORE
[pmd]
cores = [$PMD_CORE]
[memory]
mbufs = $mbufs
[control]
socket = "$PM_CTL"
[[port]]
name = "src"
devargs = "net_pcap0,rx_pcap=$trace,infinite_rx=1"
[[port]]
name = "sink"
devargs = "$CASE_SINK"
[datapath]
flows_file = "$rules"
smc = $SMC
CFG
    "$PMDSWITCH" run -c "$WORK/switch.toml" --duration $((SECONDS_PER_RUN + 120)) --log warn \
        >"$WORK/pm.out" 2>"$WORK/pm.err" </dev/null &
    local pid=$!
    PIDS+=("$pid")
    local i rx=0
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        rx=$(pm_rx 2>/dev/null || echo 0)
        [ "${rx:-0}" -gt 0 ] && break
        sleep 0.1
    done
    if [ "${rx:-0}" -eq 0 ]; then
        echo "pmdswitch did not start forwarding; its output ends:" >&2
        tail -n 20 "$WORK/pm.out" "$WORK/pm.err" >&2
        exit 1
    fi
    sleep 1
    pm_ctl pmd-stats-clear >/dev/null
    local before samples after
    before=$(pm_port_counts)
    samples=$(sample_rate pm_rx)
    after=$(pm_port_counts)
    pm_ctl --json pmd-stats-show >"$WORK/pm-stats.json"
    pm_ctl dump-rules >"$WORK/rules"
    pm_ctl dump-flows >"$WORK/mf"
    kill -TERM "$pid"
    wait "$pid" || echo "  pmdswitch exited with status $? (see $WORK/pm.err)" >&2
    PIDS=()
    local vals mf hit total
    vals=$(/usr/bin/python3 - "$WORK/pm-stats.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["pmds"][0]
path = " ".join(f"{k}={p[v]}" for k, v in (("simple", "simple_match_hits"), ("emc", "emc_hits"),
                ("smc", "smc_hits"), ("megaflow", "megaflow_hits"), ("upcall", "upcalls")))
print(f'{p["avg_processing_cycles_per_packet"]:.2f}\t{p["avg_subtable_lookups_per_megaflow_hit"]:.2f}\t'
      f'{path}')
PY
)
    total=$(grep -c "actions=" "$WORK/rules" || true)
    hit=$(grep "actions=" "$WORK/rules" | grep -vc "n_packets=0," || true)
    mf=$(count_masks "$WORK/mf")
    local cpp lookups path rx tx
    IFS=$'\t' read -r cpp lookups path <<<"$vals"
    rx=$((${after% *} - ${before% *})) tx=$((${after#* } - ${before#* }))
    record "$case" pmdswitch "$round" "$samples" "$cpp" "$lookups" "$path" "$rx" "$tx" "$hit/$total" "${mf% *}" "${mf#* }" ""
}

# ---- dpdk-testpmd io: no lookup ---------------------------------------------
run_testpmd() {  # CASE ROUND TRACE
    local case=$1 round=$2 trace=$3
    # Output to a file, not a pipe; testpmd counts its start-up in the timeout.
    timeout --signal=INT "$((SECONDS_PER_RUN + 4))" dpdk-testpmd -l "$MAIN_CORE,$PMD_CORE" --no-pci --in-memory \
        --file-prefix "btp$$" --vdev="net_pcap0,rx_pcap=$trace,infinite_rx=1" --vdev="$SINK" -- \
        --forward-mode=io --auto-start --nb-cores=1 --stats-period 1 --total-num-mbufs=$(($(stat -c %s "$trace") / 60 + 32768)) \
        </dev/null >"$WORK/tp.out" 2>&1 || true
    local samples
    # Port 0's Rx-pps each second, the first two (start-up, warm-up) dropped.
    samples=$(grep -a "Rx-pps" "$WORK/tp.out" | awk 'NR % 2 == 1 { printf "%.3f ", $2 / 1e6 }' |
        awk '{ for (i = 3; i <= NF; i++) printf "%s ", $i }')
    local rx tx
    rx=$(grep -a -A3 "Forward statistics for port 0" "$WORK/tp.out" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | tail -1)
    tx=$(grep -a -A6 "Forward statistics for port 1" "$WORK/tp.out" | sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' | tail -1)
    [ -n "$samples" ] || { echo "  testpmd gave no samples; its output ends:" >&2; tail -n 15 "$WORK/tp.out" >&2; }
    record "$case" testpmd "$round" "${samples% }" "" "" "" "${rx:-0}" "${tx:-0}" "" "" "" ""
}

# ---- the cases ----------------------------------------------------------------
IFS=, read -r -a CASE_LIST <<<"$CASES"
for c in "${CASE_LIST[@]}"; do
    [[ $c =~ ^([0-9]+|l3(:[0-9]+)?|(mf|acl|normal|pipeline):[0-9]+)$ ]] ||
        { echo "bad case $c (a flow count, mf:FLOWS, l3, l3:FLOWS, acl:N, normal:N or pipeline:N)" >&2; exit 2; }
done
for c in "${CASE_LIST[@]}"; do
    trace=$WORK/trace-${c/:/-}.pcap rules=$WORK/rules-${c/:/-}.txt
    CASE_SINK=$SINK CASE_SHARE=1 CASE_ALL_RULES=yes
    if [[ $c =~ ^(acl|normal|pipeline):([0-9]+)$ ]]; then
        flows=10000
        /usr/bin/python3 scripts/gen_ruleset.py "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" --flows "$flows" \
            --rules "$rules" --trace "$trace" --expect "$WORK/expect"
        CASE_SHARE=$(sed -n 's/^share=//p' "$WORK/expect") CASE_ALL_RULES=no
        learn=$(sed -n 's/^learn=//p' "$WORK/expect")
        # The sink plays the learning trace once (its hosts are learned
        # there), then only sends: net_pcap without tx_pcap drops and counts.
        [ -n "$learn" ] && CASE_SINK="net_pcap1,rx_pcap=$learn"
    elif [[ $c == l3* ]]; then
        flows=10000
        [[ $c == l3:* ]] && flows=${c#l3:}
        /usr/bin/python3 scripts/gen_trace.py "$trace" --flows "$flows" --l3-rules "$rules"
    elif [[ $c == mf:* ]]; then
        flows=${c#mf:}
        /usr/bin/python3 scripts/gen_trace.py "$trace" --flows "$flows"
        echo "udp,nw_dst=192.168.0.1,tp_dst=5001,actions=output:2" >"$rules"
    else
        flows=$c
        /usr/bin/python3 scripts/gen_trace.py "$trace" --flows "$flows"
        echo "in_port=1,actions=output:2" >"$rules"
    fi
    packets=$((flows > 1024 ? flows : 1024))
    echo "case $c: $flows flows, $(grep -c . "$rules") rule(s), $packets packets in the trace" >&2
    for r in $(seq "$ROUNDS"); do
        # Odd rounds OVS first, even rounds pmdswitch first: neither always
        # gets the cooler (or warmer) machine.
        if [ $((r % 2)) -eq 1 ]; then
            run_ovs "$c" "$r" "$trace" "$rules"
            run_pmdswitch "$c" "$r" "$trace" "$rules" "$packets"
        else
            run_pmdswitch "$c" "$r" "$trace" "$rules" "$packets"
            run_ovs "$c" "$r" "$trace" "$rules"
        fi
        if [ "$TESTPMD" = all ] || { [ "$TESTPMD" = one ] && [ "$c" = 1 ]; }; then
            run_testpmd "$c" "$r" "$trace"
        fi
        awk -F'\t' -v c="$c" -v r="$r" '$1 == c && $3 == r { printf "  round %s %-9s %s\n", r, $2, ($4 == "" ? $13 : $4) }' "$RECORDS" >&2
    done
    rm -f "$trace" "${learn:-}"
done

cp "$RECORDS" "$OUT/records.tsv"
/usr/bin/python3 - "$RECORDS" "$OUT" "$ROUNDS" "$SECONDS_PER_RUN" "$SMC" <<'PY'
import csv, statistics, sys
recs_path, out, rounds, secs, smc = sys.argv[1:]
recs = [l.rstrip("\n").split("\t") for l in open(recs_path) if l.strip()]
cases = list(dict.fromkeys(r[0] for r in recs))
bad = []

def agg(case, sw):
    rs = [r for r in recs if r[0] == case and r[1] == sw]
    if not rs:
        return None
    samples = [float(x) for r in rs for x in r[3].split()]
    note = next((r[12] for r in rs if r[12]), "")
    med = lambda xs: statistics.median(xs) if xs else None
    cpp = med([float(r[4]) for r in rs if r[4]])
    look = med([float(r[5]) for r in rs if r[5]])
    # Verification: what the source received left on the sink.
    checks = []
    for r in rs:
        if not r[3]:
            continue
        rx, tx = int(r[7] or 0), int(r[8] or 0)
        share = float(r[13]) if len(r) > 13 and r[13] else 1.0
        if rx == 0 or abs(tx - share * rx) > 0.01 * rx:
            checks.append(f"round {r[2]}: sink sent {tx} of {rx} received in the window (expected {share:.3f} of them)")
        if (len(r) < 15 or r[14] == "yes") and r[9] and r[9].split("/")[0] != r[9].split("/")[1]:
            checks.append(f"round {r[2]}: rules hit {r[9]}")
    ok = "ok" if not checks else "; ".join(checks)
    if checks:
        bad.append(f"{case} {sw}: {ok}")
    last = rs[-1]
    return dict(mpps=med(samples), n=len(samples), cpp=cpp, look=look, path=last[6], rules=last[9],
                megaflows=last[10], masks=last[11], ok=ok, note=note)

rows = []
for c in cases:
    o, p, t = agg(c, "ovs"), agg(c, "pmdswitch"), agg(c, "testpmd")
    shape, _, n = c.partition(":")
    flows = {"l3": f"l3: {n or 10000} flows, 125 prefixes", "mf": f"mf: {n} flows, L4 rule",
             "acl": f"ACL, {n} rules, 10k flows", "normal": f"NORMAL, {n} hosts, 10k flows",
             "pipeline": f"4-table pipeline, {n} hosts, 10k flows"}.get(shape, c)
    f = lambda v, d=2: "" if v is None else f"{v:.{d}f}"
    om, pm = o and o["mpps"], p and p["mpps"]
    tm = t and t["mpps"]
    rows.append({
        "case": c, "flows": flows,
        "ovs_mpps": f(om), "pmdswitch_mpps": f(pm),
        "ratio": f(pm / om) if om and pm else "",
        "testpmd_mpps": f(tm), "pmdswitch_vs_testpmd": f(pm / tm) if tm and pm else "",
        "ovs_cycles_per_pkt": f(o and o["cpp"], 1), "pmdswitch_cycles_per_pkt": f(p and p["cpp"], 1),
        "ovs_subtable_lookups": f(o and o["look"]), "pmdswitch_subtable_lookups": f(p and p["look"]),
        "ovs_megaflows": o["megaflows"] if o else "", "ovs_masks": o["masks"] if o else "",
        "pmdswitch_megaflows": p["megaflows"] if p else "", "pmdswitch_masks": p["masks"] if p else "",
        "ovs_path": o["path"] if o else "", "pmdswitch_path": p["path"] if p else "",
        "ovs_check": (o["note"] or o["ok"]) if o else "", "pmdswitch_check": p["ok"] if p else "",
        "testpmd_check": t["ok"] if t else "",
    })

with open(f"{out}/results.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
with open(f"{out}/samples.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["case", "switch", "round", "second", "mpps"])
    for r in recs:
        for i, x in enumerate(r[3].split()):
            w.writerow([r[0], r[1], r[2], i + 1, x])

head = ["case", "OVS Mpps", "pmdswitch Mpps", "ratio", "testpmd Mpps", "pmds/testpmd",
        "OVS cyc/pkt", "pmds cyc/pkt", "OVS subt/hit", "pmds subt/hit", "OVS mf/masks", "pmds mf/masks"]
keys = ["flows", "ovs_mpps", "pmdswitch_mpps", "ratio", "testpmd_mpps", "pmdswitch_vs_testpmd",
        "ovs_cycles_per_pkt", "pmdswitch_cycles_per_pkt", "ovs_subtable_lookups", "pmdswitch_subtable_lookups"]
table = [[r[k] for k in keys] + [f'{r["ovs_megaflows"]}/{r["ovs_masks"]}'.strip("/"),
         f'{r["pmdswitch_megaflows"]}/{r["pmdswitch_masks"]}'.strip("/")] for r in rows]
widths = [max(len(h), *(len(x[i]) for x in table)) for i, h in enumerate(head)]
line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
print(line(head))
for t in table:
    print(line(t))
print(f"(medians of one-second samples over {rounds} round(s) x {secs} s; 1 PMD on the same core; smc={smc})")
print("lookup path (last round):")
for r in rows:
    print(f'  {r["case"]:>8} ovs: {r["ovs_path"] or "-"}')
    print(f'  {r["case"]:>8} pmdswitch: {r["pmdswitch_path"] or "-"}')
print("checks (the sink sent the share of received packets the rules allow; in the simple cases every rule matched):")
for r in rows:
    print(f'  {r["case"]:>8} ovs: {r["ovs_check"]}; pmdswitch: {r["pmdswitch_check"]}'
          + (f'; testpmd: {r["testpmd_check"]}' if r["testpmd_check"] else ""))
with open(f"{out}/results.md", "w") as fh:
    fh.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
    for t in table:
        fh.write("| " + " | ".join(t) + " |\n")
    fh.write(f"\nMedians of one-second samples over {rounds} round(s) x {secs} s; one PMD on the same core; smc={smc}.\n\n")
    for r in rows:
        fh.write(f'- {r["case"]}: ovs {r["ovs_path"]} ({r["ovs_check"]}); pmdswitch {r["pmdswitch_path"]} ({r["pmdswitch_check"]})\n')

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("no plot: python3-matplotlib is not installed (scripts/setup-host.sh installs it)")
else:
    num = [r for r in rows if r["case"].isdigit()]
    mf = [r for r in rows if r["case"].startswith("mf:")]
    l3 = [r for r in rows if r["case"].startswith("l3")]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [3, 1]})
    ax = axes[0]
    for key, label, m in (("ovs_mpps", "OVS-DPDK 3.1", "o"), ("pmdswitch_mpps", "pmdswitch", "s")):
        pts = [(int(r["case"]), float(r[key])) for r in num if r[key]]
        if pts:
            ax.plot(*zip(*pts), marker=m, label=label + ", in_port rule")
        pts = [(int(r["case"][3:]), float(r[key])) for r in mf if r[key]]
        if pts:
            ax.plot(*zip(*pts), marker=m, ls=":", label=label + ", L4 rule")
    tp = [float(r["testpmd_mpps"]) for r in rows if r["testpmd_mpps"] and r["case"] == "1"]
    if tp:
        ax.axhline(tp[0], ls="--", color="grey", label="testpmd io, 1 flow (no lookup)")
    ax.set_xscale("log")
    ax.set_xlabel("flows in the trace (64-byte UDP)")
    ax.set_ylabel("Mpps, 1 PMD")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if ax.get_lines():
        ax.legend()
    else:
        ax.axis("off")
    ax.set_title("pcap -> switch -> null, 1 PMD")
    ax = axes[1]
    if l3:
        r = l3[0]
        vals = [float(r["ovs_mpps"] or 0), float(r["pmdswitch_mpps"] or 0)]
        ax.bar(["OVS", "pmdswitch"], vals, color=["C0", "C1"])
        ax.set_title(r["flows"], fontsize=9)
        ax.set_ylabel("Mpps")
    else:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(f"{out}/mpps.png", dpi=110)
    print(f"wrote {out}/results.csv, results.md, samples.csv, mpps.png")
if bad:
    print("PROBLEMS: " + " | ".join(bad))
    sys.exit(1)
PY
