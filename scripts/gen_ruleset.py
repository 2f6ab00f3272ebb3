#!/usr/bin/python3
"""Writes a rule set and a trace of the shapes users run, for bench-ovs.sh.

usage: gen_ruleset.py SHAPE N --rules RULES.txt --trace OUT.pcap [--flows F]
                      [--seed 1] [--expect EXPECT.txt]

Shapes (N is the rule count or the number of hosts):
  acl N       security-group style allow-list of N rules over the 5-tuple
              (source and destination prefixes /16../32, exact and masked
              ports, UDP and TCP) and a catch-all drop. 15 of every 16 flows
              fall inside an allow rule (chosen round robin, so N rules share
              the flows); the rest match only the drop.
  normal N    `actions=NORMAL`; N hosts (MACs) behind the sink port, learned
              from a short learning trace on that port, talking to N senders
              behind the source port.
  pipeline N  Faucet's shape over four tables joined by goto_table: VLAN
              (untagged in_port 1 gets VLAN 100), ACL (a few allows and a
              default allow), ether-src learning (N known sources) and
              forwarding (N known destinations, the rest flooded to port 2).

Every packet is a 64-byte frame; flows cycle. The expect file holds the
share of received packets the sink must send (1 unless the shape drops some),
and, for `normal`, the learning trace's path ("learn=FILE").
"""
import argparse
import random
import struct

SRC_PORT, SINK_PORT = 1, 2


def csum(hdr):
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(n, tag):
    """A locally administered unicast MAC: 02:TAG:n (n < 2**32)."""
    return bytes([0x02, tag]) + n.to_bytes(4, "big")


def frame(src_mac, dst_mac, ip_src, ip_dst, proto, sport, dport, size=64):
    l4 = 8 if proto == 17 else 20
    payload = size - 14 - 20 - l4 - 4  # the FCS is not in the pcap
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + l4 + payload, 0, 0, 64, proto, 0, ip_src, ip_dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    if proto == 17:
        hdr = struct.pack("!HHHH", sport, dport, 8 + payload, 0)
    else:
        hdr = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x10, 1024, 0, 0)
    return dst_mac + src_mac + b"\x08\x00" + ip + hdr + bytes(payload)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k, fr in enumerate(frames):
            f.write(struct.pack("<IIII", k // 1000000, k % 1000000, len(fr), len(fr)))
            f.write(fr)


def dotted(a):
    return ".".join(str((a >> s) & 0xFF) for s in (24, 16, 8, 0))


def prefix(rng, plen, base=10 << 24, space=8):
    """A /plen prefix inside BASE/SPACE."""
    addr = base | rng.getrandbits(32 - space)
    return addr & ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)


def inside(rng, addr, plen):
    return addr | (rng.getrandbits(32 - plen) if plen < 32 else 0)


# Security-group rule templates: (protocol, source prefix length, destination
# prefix length, destination port mask, source port mask). Real groups mix
# exact ports, port ranges (as masks) and address sets of several sizes.
ACL_TEMPLATES = [
    (17, 24, 0, 0xFFFF, 0),
    (6, 16, 0, 0xFFFF, 0),
    (6, 32, 24, 0xFFF0, 0),
    (17, 24, 0, 0xFFFF, 0xFFFC),
    (17, 0, 28, 0, 0),
    (6, 24, 32, 0xFFFF, 0),
]


def acl(n, flows, rng):
    rules, allow = [], []
    for k in range(n):
        proto, slen, dlen, dmask, smask = ACL_TEMPLATES[k % len(ACL_TEMPLATES)]
        r = dict(proto=proto, slen=slen, dlen=dlen, dmask=dmask, smask=smask,
                 src=prefix(rng, slen) if slen else 0,
                 dst=prefix(rng, dlen, base=172 << 24 | 16 << 16, space=12) if dlen else 0,
                 dport=(rng.randrange(1, 65536) & dmask) if dmask else 0,
                 sport=(rng.randrange(1024, 65536) & smask) if smask else 0)
        m = ["tcp" if proto == 6 else "udp"]
        if slen:
            m.append(f"nw_src={dotted(r['src'])}/{slen}")
        if dlen:
            m.append(f"nw_dst={dotted(r['dst'])}/{dlen}")
        if dmask:
            m.append(f"tp_dst={r['dport']}" + (f"/{dmask:#x}" if dmask != 0xFFFF else ""))
        if smask:
            m.append(f"tp_src={r['sport']}/{smask:#x}")
        rules.append(f"priority={10000 + n - k}," + ",".join(m) + f",actions=output:{SINK_PORT}")
        allow.append(r)
    rules.append("priority=0,actions=drop")
    frames, passed = [], 0
    a, b = mac(1, 1), mac(2, 2)
    for i in range(flows):
        if i % 16 == 15:
            # Outside every rule's addresses: 192.0.2.0/24 to 198.51.100.0/24.
            frames.append(frame(a, b, 0xC0000200 | (i & 0xFF), 0xC6336400 | (i >> 8 & 0xFF), 17,
                                1024 + i % 60000, 7))
            continue
        r = allow[(i - i // 16) % n]
        src = inside(rng, r["src"], r["slen"]) if r["slen"] else rng.getrandbits(32)
        dst = inside(rng, r["dst"], r["dlen"]) if r["dlen"] else rng.getrandbits(32)
        dport = r["dport"] | (rng.getrandbits(16) & ~r["dmask"] & 0xFFFF) if r["dmask"] else rng.randrange(1, 65536)
        sport = r["sport"] | (rng.getrandbits(16) & ~r["smask"] & 0xFFFF) if r["smask"] else rng.randrange(1024, 65536)
        frames.append(frame(a, b, src, dst, r["proto"], sport, dport))
        passed += 1
    return rules, frames, passed / flows


def normal(n, flows, rng):
    hosts = [mac(k, 0xB0) for k in range(n)]
    senders = [mac(k, 0xA0) for k in range(n)]
    learn = [frame(h, mac(0, 0xFF), 0x0A010000 | k, 0x0A020000, 17, 68, 67) for k, h in enumerate(hosts)]
    frames = [frame(senders[i % n], hosts[(i * 7919) % n], 0x0A000000 | i, 0x0A010000 | (i % n), 17,
                    1024 + i % 60000, 5001) for i in range(flows)]
    return ["actions=NORMAL"], frames, learn


def pipeline(n, flows, rng):
    vid = 100
    rules = [
        # Table 0, VLAN: the source port is an access port of VLAN 100.
        f"table=0,priority=9000,in_port={SRC_PORT},vlan_tci=0x0000/0x1fff,"
        f"actions=mod_vlan_vid:{vid},goto_table:1",
        "table=0,priority=0,actions=drop",
        # Table 1, ACL: a few drops, then allow.
        "table=1,priority=20010,udp,tp_dst=53,actions=drop",
        "table=1,priority=20009,tcp,tp_dst=23,actions=drop",
        "table=1,priority=20008,ip,nw_dst=224.0.0.0/4,actions=drop",
        "table=1,priority=20000,actions=goto_table:2",
        # Table 2, ether-src learning: known hosts go on, the rest would
        # go to the controller (here: on too, so the trace keeps flowing).
        "table=2,priority=0,actions=goto_table:3",
    ]
    srcs = [mac(k, 0xC0) for k in range(n)]
    dsts = [mac(k, 0xD0) for k in range(n)]
    for k in range(n):
        rules.append(f"table=2,priority=8191,in_port={SRC_PORT},dl_vlan={vid},"
                     f"dl_src={':'.join(f'{x:02x}' for x in srcs[k])},actions=goto_table:3")
        rules.append(f"table=3,priority=8192,dl_vlan={vid},"
                     f"dl_dst={':'.join(f'{x:02x}' for x in dsts[k])},actions=strip_vlan,output:{SINK_PORT}")
    rules.append(f"table=3,priority=8184,dl_vlan={vid},actions=strip_vlan,output:{SINK_PORT}")
    frames = []
    for i in range(flows):
        dst = dsts[(i * 7919) % n] if i % 8 else mac(i, 0xEE)  # 1 in 8 unknown: flooded
        frames.append(frame(srcs[i % n], dst, 0x0A000000 | i, 0x0A800000 | (i % n), 17, 1024 + i % 60000, 5001))
    return rules, frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape", choices=["acl", "normal", "pipeline"])
    ap.add_argument("n", type=int)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--flows", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--expect", help="write the expected sink share (and the learning trace) here")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    expect = ["share=1"]
    if a.shape == "acl":
        rules, frames, share = acl(a.n, a.flows, rng)
        expect = [f"share={share:.6f}"]
    elif a.shape == "normal":
        rules, frames, learn = normal(a.n, a.flows, rng)
        path = a.trace.rsplit(".", 1)[0] + "-learn.pcap"
        write_pcap(path, learn)
        expect.append(f"learn={path}")
    else:
        rules, frames = pipeline(a.n, a.flows, rng)
    with open(a.rules, "w") as f:
        f.write("\n".join(rules) + "\n")
    # Packets cycle over the flows; at least 1024 of them.
    write_pcap(a.trace, [frames[k % len(frames)] for k in range(max(len(frames), 1024))])
    if a.expect:
        with open(a.expect, "w") as f:
            f.write("\n".join(expect) + "\n")


if __name__ == "__main__":
    main()
