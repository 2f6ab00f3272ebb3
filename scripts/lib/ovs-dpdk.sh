# shellcheck shell=bash
# A private OVS-DPDK for benchmarks: its own ovsdb-server, database, run and
# log directories under one folder, never the system service. Source it, then:
#
#   ovs_start DIR PMD_MASK LCORE_MASK SOCKET_MEM "DPDK_EXTRA" [KEY=VALUE ...]
#                               # other_config extras, e.g. smc-enable=true
#   ovs_vsctl ARGS...           # ovs-vsctl on the private database
#   ovs_appctl ARGS...          # ovs-appctl on the private ovs-vswitchd
#   ovs_ofctl ARGS...           # ovs-ofctl (bridges live under OVS_RUNDIR)
#   ovs_pmd_field FIELD         # a number from pmd-stats-show of the (first) PMD thread
#   ovs_log_tail [N]            # the last N lines of ovs-vswitchd's log
#   ovs_stop                    # stops both daemons (by their pids), keeps DIR
#
# Requires openvswitch-switch-dpdk (ovs-vswitchd built with DPDK).

OVS_VSWITCHD_DPDK=${OVS_VSWITCHD_DPDK:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
OVS_DIR="" OVS_DB_PID="" OVS_VSWITCHD_PID="" OVS_CTL=""

ovs_vsctl() { ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=30 "$@"; }
ovs_appctl() { ovs-appctl -t "$OVS_CTL" --timeout=30 "$@"; }
ovs_ofctl() { OVS_RUNDIR=$OVS_DIR ovs-ofctl "$@"; }
ovs_log_tail() { tail -n "${1:-30}" "$OVS_DIR/ovs-vswitchd.log" 2>/dev/null; }

# Waits up to $1 seconds for the command in "$@" (after $1) to succeed.
_ovs_wait() {
    local t=$1; shift
    local i
    for ((i = 0; i < t * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

ovs_start() {
    local dir=$1 pmd_mask=$2 lcore_mask=$3 socket_mem=$4 extra=$5
    shift 5
    OVS_DIR=$dir
    mkdir -p "$OVS_DIR"
    export OVS_RUNDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
    ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" || return 1
    ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
        --pidfile="$OVS_DIR/ovsdb-server.pid" --log-file="$OVS_DIR/ovsdb-server.log" \
        --unixctl="$OVS_DIR/ovsdb-server.ctl" --detach --no-chdir 2>/dev/null || {
        echo "ovs: ovsdb-server did not start:" >&2
        tail -n 20 "$OVS_DIR/ovsdb-server.log" >&2
        return 1
    }
    OVS_DB_PID=$(cat "$OVS_DIR/ovsdb-server.pid")
    ovs_vsctl --no-wait init || return 1
    local kv=(dpdk-init=true "dpdk-lcore-mask=$lcore_mask" "pmd-cpu-mask=$pmd_mask"
        "dpdk-socket-mem=$socket_mem" "dpdk-extra=\"$extra\"")
    local a
    for a in "${kv[@]}" "$@"; do
        ovs_vsctl --no-wait set Open_vSwitch . "other_config:$a" || return 1
    done
    # --detach returns once initialisation (DPDK's EAL included) is done.
    "$OVS_VSWITCHD_DPDK" "unix:$OVS_DIR/db.sock" --pidfile="$OVS_DIR/ovs-vswitchd.pid" \
        --log-file="$OVS_DIR/ovs-vswitchd.log" --detach --no-chdir \
        >"$OVS_DIR/ovs-vswitchd.out" 2>&1 || {
        echo "ovs: ovs-vswitchd-dpdk did not start; its log ends:" >&2
        { ovs_log_tail 30; tail -n 10 "$OVS_DIR/ovs-vswitchd.out"; } >&2
        return 1
    }
    OVS_VSWITCHD_PID=$(cat "$OVS_DIR/ovs-vswitchd.pid")
    OVS_CTL=$OVS_DIR/$(basename "$OVS_VSWITCHD_DPDK").$OVS_VSWITCHD_PID.ctl
    if ! _ovs_wait 30 ovs_appctl version; then
        echo "ovs: ovs-vswitchd's control socket never answered; its log ends:" >&2
        ovs_log_tail 30 >&2
        return 1
    fi
    if [ "$(ovs_vsctl get Open_vSwitch . dpdk_initialized)" != true ]; then
        echo "ovs: DPDK did not initialise; the log ends:" >&2
        ovs_log_tail 30 >&2
        return 1
    fi
}

# ovs_add_bridge BR: a userspace (netdev) bridge with no rules.
ovs_add_bridge() {
    ovs_vsctl add-br "$1" -- set bridge "$1" datapath_type=netdev fail-mode=secure &&
        ovs_ofctl del-flows "$1"
}

# ovs_add_port BR NAME OFPORT TYPE [options...]: e.g. dpdk options:dpdk-devargs=...
# Fails (with the log's tail) when the interface reports an error.
ovs_add_port() {
    local br=$1 name=$2 ofport=$3 type=$4
    shift 4
    ovs_vsctl add-port "$br" "$name" -- set Interface "$name" "type=$type" \
        "ofport_request=$ofport" "$@" || { ovs_log_tail 20 >&2; return 1; }
    local err
    err=$(ovs_vsctl get Interface "$name" error 2>/dev/null || true)
    if [ -n "$err" ] && [ "$err" != "[]" ]; then
        echo "ovs: port $name: $err; the log ends:" >&2
        ovs_log_tail 20 >&2
        return 1
    fi
}

# ovs_pmd_field FIELD: e.g. "packets received", "avg cycles per packet",
# "avg. subtable lookups per megaflow hit", for the first PMD thread.
ovs_pmd_field() {
    ovs_appctl dpif-netdev/pmd-stats-show | awk -v f="$1" '
        /^pmd thread/ { pmd = 1; next }
        /^main thread/ { pmd = 0; next }
        pmd { line = $0; sub(/^ +/, "", line)
              if (index(line, f ":") == 1) { sub(/^[^:]*: */, "", line); split(line, v, " "); print v[1]; exit } }'
}

_ovs_kill() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

ovs_stop() {
    if [ -n "$OVS_VSWITCHD_PID" ]; then
        ovs_appctl exit --cleanup >/dev/null 2>&1 || true
        _ovs_kill "$OVS_VSWITCHD_PID"
    fi
    _ovs_kill "$OVS_DB_PID"
    OVS_VSWITCHD_PID="" OVS_DB_PID="" OVS_CTL=""
}
