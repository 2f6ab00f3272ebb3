//! Upcall cost: translation + megaflow generation with 100 and 10k rules,
//! the same followed by installing the megaflow in a classifier (the whole
//! slow-path work of a miss), and revalidation of an installed megaflow.
//!
//! Rules mix several masks (so the tuple space has several subtables):
//! /24 and /16 destination prefixes, exact TCP ports and in_port rules,
//! with a goto_table into a second table and a catch-all.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use pmdswitch::cache::dpcls::Dpcls;
use pmdswitch::flow::key::{Field, FlowKey};
use pmdswitch::ofproto::normal::PortSet;
use pmdswitch::ofproto::Ofproto;

fn switch(n: u32) -> Ofproto {
    let mut of = Ofproto::new(PortSet::trunks(1..=8));
    for i in 0..n {
        let (a, b) = (i >> 8, i & 255);
        let text = match i % 4 {
            0 => format!("priority=300,ip,nw_dst=10.{a}.{b}.0/24 actions=mod_dl_dst:00:00:00:00:00:{:02x},output:{}", b, 1 + i % 8),
            1 => format!("priority=200,ip,nw_dst=11.{a}.{b}.0/16 actions=goto_table:1"),
            2 => format!("priority=250,tcp,in_port={},tp_dst={} actions=dec_ttl,output:2", 1 + i % 8, i % 65536),
            _ => format!("priority=100,udp,nw_src=172.{a}.{b}.1,tp_src={} actions=output:3", i % 1000),
        };
        of.add_flow(&text).unwrap();
    }
    of.add_flow("priority=0 actions=NORMAL").unwrap();
    of.add_flow("table=1,priority=0,ip actions=mod_nw_src:1.2.3.4,output:5")
        .unwrap();
    of
}

fn keys() -> Vec<FlowKey> {
    let mut v = Vec::new();
    let mut x: u64 = 0x1234_5678;
    for _ in 0..1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut k = FlowKey::ZERO;
        k.set(Field::InPort, u128::from(1 + x % 8));
        k.set(Field::DlType, 0x0800);
        k.set(Field::DlSrc, u128::from(x & 0xffff_ffff_fffe));
        k.set(Field::DlDst, u128::from((x >> 8) & 0xffff_ffff_fffe));
        let first = [10u128, 11, 172, 192][(x >> 20) as usize % 4];
        k.set(
            Field::NwDst,
            (first << 24) | u128::from((x >> 24) & 0xff_ffff),
        );
        k.set(
            Field::NwSrc,
            (172 << 24) | u128::from((x >> 30) & 0xff_ffff),
        );
        k.set(Field::NwProto, if x & 1 == 0 { 6 } else { 17 });
        k.set(Field::NwTtl, 64);
        k.set(Field::TpSrc, u128::from((x >> 40) % 2000));
        k.set(Field::TpDst, u128::from((x >> 44) % 4096));
        v.push(k);
    }
    v
}

fn bench(c: &mut Criterion) {
    let ks = keys();
    let mut g = c.benchmark_group("upcall");
    for n in [100u32, 10_000] {
        let of = switch(n);
        g.bench_with_input(BenchmarkId::new("translate", n), &of, |b, of| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(of.translate(black_box(&ks[i]), 0))
            })
        });
    }
    for n in [100u32, 10_000] {
        let of = switch(n);
        let mut cls = Dpcls::new();
        g.bench_with_input(BenchmarkId::new("translate+install", n), &of, |b, of| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                let k = &ks[i];
                let x = of.translate(k, 0);
                let id = cls.insert(&k.masked(&x.mask), &x.mask, x.actions);
                // Keep the classifier at a steady size.
                black_box(cls.remove(id))
            })
        });
    }
    for n in [100u32, 10_000] {
        let of = switch(n);
        let flows: Vec<_> = ks.iter().map(|k| (*k, of.translate(k, 0))).collect();
        g.bench_with_input(BenchmarkId::new("revalidate", n), &of, |b, of| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                let (k, x) = &flows[i];
                black_box(of.revalidate(k, &x.mask, &x.actions, 0))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
