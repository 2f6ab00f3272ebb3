#!/usr/bin/python3
"""One-way latency through the switch between two tap interfaces.

usage: latency_probe.py IN_IFACE OUT_IFACE [--count N] [--interval-us U] [--json]

Sends N probe frames (EtherType 0x88b5, local experimental) on IN_IFACE, one
every U microseconds, and receives them on OUT_IFACE; both ends are this
process, so send and receive times come from one clock. Prints percentiles
of the delay in microseconds. The kernel's tap path is in every figure alike:
compare settings with each other, not with a NIC.
"""
import argparse
import json
import select
import socket
import statistics
import struct
import sys
import time

ETH_P = 0x88B5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("in_iface")
    ap.add_argument("out_iface")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--interval-us", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
    tx.bind((a.in_iface, 0))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
    rx.bind((a.out_iface, 0))
    rx.setblocking(False)
    src = bytes.fromhex("020000000a01")
    dst = bytes.fromhex("020000000b01")

    sent = {}
    delays = []
    lost = 0
    for seq in range(a.count):
        t0 = time.monotonic_ns()
        frame = dst + src + struct.pack("!H", ETH_P) + struct.pack("!IQ", seq, t0) + bytes(46)
        tx.send(frame)
        sent[seq] = t0
        deadline = t0 + a.interval_us * 1000
        # Receive until the next probe is due; a probe later than 50 ms is lost.
        while True:
            left = (deadline - time.monotonic_ns()) / 1e9
            if left <= 0:
                break
            r, _, _ = select.select([rx], [], [], left)
            if not r:
                break
            now = time.monotonic_ns()
            data = rx.recv(2048)
            if len(data) < 26 or data[12:14] != struct.pack("!H", ETH_P):
                continue
            s, ts = struct.unpack("!IQ", data[14:26])
            if sent.pop(s, None) is not None:
                delays.append((now - ts) / 1000.0)
        for s in [s for s, t in sent.items() if time.monotonic_ns() - t > 50_000_000]:
            del sent[s]
            lost += 1
    time.sleep(0.05)
    lost += len(sent)
    if not delays:
        sys.exit("no probe came through")
    delays.sort()
    q = lambda p: delays[min(len(delays) - 1, int(p * len(delays)))]
    res = {
        "probes": a.count,
        "received": len(delays),
        "lost": lost,
        "p50_us": round(q(0.50), 1),
        "p90_us": round(q(0.90), 1),
        "p99_us": round(q(0.99), 1),
        "max_us": round(delays[-1], 1),
        "mean_us": round(statistics.fmean(delays), 1),
    }
    print(json.dumps(res) if a.json else
          " ".join(f"{k}={v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
