#!/usr/bin/env bash
# Prepares a Debian 12 host for pmdswitch: every Debian package it builds,
# runs and is tested with, and hugepages. Idempotent; run as root (or with sudo).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PACKAGES=(
    build-essential pkg-config clang libclang-dev   # the C shim and bindgen
    libdpdk-dev dpdk dpdk-dev libpcap-dev           # DPDK 22.11, its drivers, dpdk-testpmd
    openvswitch-common openvswitch-switch openvswitch-switch-dpdk  # OVS: oracle and rival
    python3 python3-scapy tshark                    # traces and captures
    libhwloc-dev libudev-dev                        # hwlocality (NUMA topology)
    python3-matplotlib                              # benchmark plots (bench-ovs.sh)
    python3-prometheus-client                       # parses /metrics in tests/hardening.rs
    procps iproute2
)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-host: installing ${missing[*]}"
    $SUDO apt-get update -q
    # OVS's packages would start the system service; it is not ours to run.
    echo exit 101 | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
    $SUDO rm -f /usr/sbin/policy-rc.d
fi

if ! command -v cargo >/dev/null; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "setup-host: cargo (Rust) is required" >&2; exit 1; }

# Hugepages: 512 x 2 MB, and hugetlbfs mounted where DPDK looks.
want=${PMDSWITCH_HUGEPAGES:-512}
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
    echo "$want" | $SUDO tee /proc/sys/vm/nr_hugepages >/dev/null
fi
$SUDO mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || $SUDO mount -t hugetlbfs nodev /dev/hugepages
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
echo "setup-host: $free hugepages free ($(awk '/Hugepagesize/ {print $2, $3}' /proc/meminfo) each)"
[ "$free" -ge 128 ] || { echo "setup-host: too few free hugepages for DPDK" >&2; exit 1; }
