#!/usr/bin/python3
"""Writes a pcap of 64-byte UDP/IPv4 frames over N distinct flows.

usage: gen_trace.py OUT.pcap --flows N [--packets P] [--size 64]
                    [--l3-rules RULES.txt [--l3-count 125] [--out-port 2] [--seed 1]]

Flows differ in source IP and UDP source port; packets cycle over them. All
go to 192.168.0.1, unless --l3-rules is given: then it also writes a rule set
(ovs-ofctl flow syntax, one rule a line) of --l3-count `ip,nw_dst=A.B.C.D/LEN`
rules over every prefix length from /8 to /32, each at priority 1000 + LEN
(longest prefix first) with `actions=output:OUT_PORT`, and flow i's
destination is a random address whose longest matching prefix is rule
(i mod count), so the destinations spread over all the rules, every packet
matches one and no rule is wholly shadowed by longer ones.
"""
import argparse
import random
import struct


def ip_checksum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(i, size, dst=(192 << 24) | (168 << 16) | 1):
    payload_len = size - 14 - 20 - 8 - 4  # the FCS is not in the pcap
    src = (10 << 24) | (i & 0xFFFFFF)
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + 8 + payload_len, 0, 0, 64, 17, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", 1024 + (i % 50000), 5001, 8 + payload_len, 0)
    return eth + ip + udp + bytes(payload_len)


def dotted(a):
    return ".".join(str((a >> s) & 0xFF) for s in (24, 16, 8, 0))


def l3_rules(count, rng):
    """`count` distinct (prefix, len) pairs, lengths /8../32 dealt round robin.

    Short prefixes are spread over 16.0.0.0/4 (so /8 to /11 rules do not
    all nest); longer ones are carved inside earlier, shorter rules half of
    the time, so that prefixes nest and a lookup must tell them apart.
    """
    rules, seen = [], set()
    lengths = list(range(8, 33))
    k = 0
    while len(rules) < count:
        plen = lengths[k % len(lengths)]
        k += 1
        for _ in range(1000):
            shorter = [r for r in rules if r[1] < plen]
            if shorter and rng.random() < 0.5:
                base, blen = rng.choice(shorter)
                addr = base | (rng.getrandbits(32 - blen) if blen < 32 else 0)
            else:
                addr = (1 << 28) | rng.getrandbits(28)
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            addr &= mask
            if (addr, plen) not in seen:
                seen.add((addr, plen))
                rules.append((addr, plen))
                break
    return rules


def lpm(rules, addr):
    """Index of the longest prefix in `rules` that holds `addr`, or None."""
    best = None
    for k, (base, plen) in enumerate(rules):
        mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
        if addr & mask == base and (best is None or plen > rules[best][1]):
            best = k
    return best


def inside(rule, rng):
    base, plen = rule
    return base | (rng.getrandbits(32 - plen) if plen < 32 else 0)


def reachable_rules(count, rng):
    """l3_rules, but none wholly shadowed by longer ones (each wins some address)."""
    rules = l3_rules(count, rng)
    while True:
        dead = [k for k, r in enumerate(rules)
                if not any(lpm(rules, inside(r, rng)) == k for _ in range(200))]
        if not dead:
            return rules
        # Replace the shadowed rules by new ones of the same length, outside.
        for k in dead:
            plen = rules[k][1]
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            while True:
                addr = ((1 << 28) | rng.getrandbits(28)) & mask
                if (addr, plen) not in rules:
                    rules[k] = (addr, plen)
                    break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--packets", type=int, default=0, help="default: max(flows, 1024)")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--l3-rules", metavar="FILE", help="also write an LPM rule set; spread destinations over it")
    ap.add_argument("--l3-count", type=int, default=125, help="rules in the L3 set (default 125)")
    ap.add_argument("--out-port", default="2", help="the L3 rules' output port (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    n = a.packets or max(a.flows, 1024)
    dst_of = None
    if a.l3_rules:
        rng = random.Random(a.seed)
        rules = reachable_rules(a.l3_count, rng)
        with open(a.l3_rules, "w") as f:
            for addr, plen in rules:
                f.write(f"priority={1000 + plen},ip,nw_dst={dotted(addr)}/{plen},"
                        f"actions=output:{a.out_port}\n")
        dsts = []
        for i in range(a.flows):
            k = i % len(rules)
            # An address that this rule (and no longer prefix) matches.
            for _ in range(1000):
                addr = inside(rules[k], rng)
                if lpm(rules, addr) == k:
                    break
            dsts.append(addr)
        dst_of = dsts.__getitem__
    small = a.flows <= 4096
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        cache = {}
        for k in range(n):
            i = k % a.flows
            fr = cache.get(i) if small else None
            if fr is None:
                fr = frame(i, a.size, dst_of(i)) if dst_of else frame(i, a.size)
                if small:
                    cache[i] = fr
            f.write(struct.pack("<IIII", k // 1000000, k % 1000000, len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main()
