#!/usr/bin/python3
"""Writes a pcap of 64-byte UDP/IPv4 frames over N distinct flows.

usage: gen_trace.py OUT.pcap --flows N [--packets P] [--size 64]
Flows differ in source IP and UDP source port; packets cycle over them.
"""
import argparse
import struct


def ip_checksum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(i, size):
    payload_len = size - 14 - 20 - 8 - 4  # the FCS is not in the pcap
    src = (10 << 24) | (i & 0xFFFFFF)
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + 8 + payload_len, 0, 0, 64, 17, 0,
                     src, (192 << 24) | (168 << 16) | 1)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", 1024 + (i % 50000), 5001, 8 + payload_len, 0)
    return eth + ip + udp + bytes(payload_len)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--packets", type=int, default=0, help="default: max(flows, 1024)")
    ap.add_argument("--size", type=int, default=64)
    a = ap.parse_args()
    n = a.packets or max(a.flows, 1024)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        cache = {}
        for k in range(n):
            i = k % a.flows
            fr = cache.get(i) if a.flows <= 4096 else None
            if fr is None:
                fr = frame(i, a.size)
                if a.flows <= 4096:
                    cache[i] = fr
            f.write(struct.pack("<IIII", k // 1000000, k % 1000000, len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main()
