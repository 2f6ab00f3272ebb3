//! Per-packet costs of the datapath core, without DPDK: extraction and
//! hashing (one packet, a burst of 32), EMC hit, SMC hit, dpcls hit with 1,
//! 10 and 50 subtables; and each SIMD variant of the burst parser, hash and
//! subtable lookup. Criterion prints ns; the summary at the end turns
//! medians into TSC cycles at the rate measured here.
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pmdswitch::cache::dpcls::Dpcls;
use pmdswitch::cache::emc::Emc;
use pmdswitch::cache::smc::Smc;
use pmdswitch::flow::hash::{flow_hash, flow_hash_words};
use pmdswitch::flow::key::{Field, FlowKey};
use pmdswitch::packet::extract::{extract, extract_burst};
use pmdswitch::simd::{flow_hash_burst, Isa, Kernel};
use std::time::{Duration, Instant};

fn udp_frame(i: u32) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let mut ip = vec![0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0];
    ip.extend_from_slice(&(0x0a00_0000 | i).to_be_bytes());
    ip.extend_from_slice(&[192, 168, 1, 1]);
    f.extend(ip);
    f.extend_from_slice(&(1024 + (i % 50000) as u16).to_be_bytes());
    f.extend_from_slice(&[0x13, 0x89, 0, 26, 0, 0]);
    f.resize(60, 0);
    f
}

fn key_of(d: &[u8]) -> (FlowKey, u32) {
    let mut k = FlowKey::ZERO;
    let x = extract(d, 1, &mut k);
    (k, flow_hash(&k, x.map))
}

fn extract_and_hash(c: &mut Criterion) {
    let one = udp_frame(7);
    let mut g = c.benchmark_group("extract+hash");
    g.throughput(Throughput::Elements(1));
    g.bench_function("single", |b| {
        let mut k = FlowKey::ZERO;
        b.iter(|| {
            let x = extract(black_box(&one), 1, &mut k);
            black_box(flow_hash(&k, x.map))
        })
    });
    let burst: Vec<Vec<u8>> = (0..32).map(udp_frame).collect();
    g.throughput(Throughput::Elements(32));
    g.bench_function("burst of 32", |b| {
        let mut keys = [FlowKey::ZERO; 32];
        let mut hashes = [0u32; 32];
        b.iter(|| {
            for (i, p) in burst.iter().enumerate() {
                let x = extract(black_box(p), 1, &mut keys[i]);
                hashes[i] = flow_hash(&keys[i], x.map);
            }
            black_box(hashes[31])
        })
    });
    g.finish();
}

fn caches(c: &mut Criterion) {
    let pkts: Vec<(FlowKey, u32)> = (0..1024).map(|i| key_of(&udp_frame(i))).collect();
    let mut g = c.benchmark_group("cache hit");
    g.throughput(Throughput::Elements(1));
    let mut emc = Emc::new(1);
    for (i, (k, h)) in pkts.iter().enumerate() {
        emc.insert(k, *h, i as u32);
    }
    let mut n = 0usize;
    g.bench_function("emc", |b| {
        b.iter(|| {
            n = (n + 1) & 1023;
            let (k, h) = &pkts[n];
            black_box(emc.lookup(k, *h))
        })
    });
    let mut smc = Smc::new(1 << 20);
    let mut cls = Dpcls::new();
    let mut exact = FlowKey::ZERO;
    for w in 0..6 {
        exact.words[w] = u64::MAX;
    }
    for (k, h) in &pkts {
        let id = cls.insert(k, &exact, ());
        smc.insert(*h, id);
    }
    g.bench_function("smc (with megaflow check)", |b| {
        b.iter(|| {
            n = (n + 1) & 1023;
            let (k, h) = &pkts[n];
            black_box(smc.lookup(*h).filter(|id| cls.matches(*id, k)))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("dpcls hit, burst of 32");
    g.throughput(Throughput::Elements(32));
    for subtables in [1usize, 10, 50] {
        // `subtables` masks (prefix lengths on nw_src); each packet matches
        // in the last subtable tried, the worst case before ranking.
        let mut cls = Dpcls::new();
        for s in 0..subtables {
            let mut m = FlowKey::ZERO;
            m.set(Field::InPort, u32::MAX as u128);
            m.set(Field::DlType, 0xffff);
            m.set(Field::NwSrc, (u32::MAX << (s % 32)) as u128);
            m.set(Field::NwDst, if s >= 32 { 0xffff_0000 } else { 0 });
            let mut k = pkts[0].0;
            if s + 1 != subtables {
                k.set(Field::DlType, 0x86dd); // never matched
            }
            cls.insert(&k, &m, s);
        }
        let keys: Vec<FlowKey> = (0..32).map(|i| pkts[i].0).collect();
        let mut out = [0u32; 32];
        g.bench_with_input(
            BenchmarkId::from_parameter(subtables),
            &subtables,
            |b, _| b.iter(|| black_box(cls.lookup_batch(&keys, u32::MAX, &mut out))),
        );
    }
    g.finish();
}

/// Each SIMD variant of the three burst kernels, on the same bursts:
/// 32 UDP frames to extract, their keys to hash, and their keys looked up
/// in a classifier of 1 or 10 subtables (matching in the last), with 1,000
/// megaflows in the matching one. A variant this CPU lacks is SKIPPED.
fn simd_variants(c: &mut Criterion) {
    let burst: Vec<Vec<u8>> = (0..32).map(|i| udp_frame(i * 7919)).collect();
    let frames: Vec<&[u8]> = burst.iter().map(|f| f.as_slice()).collect();
    let keys: Vec<FlowKey> = frames.iter().map(|f| key_of(f).0).collect();
    let words = [flow_hash_words(0b11_1111); 32];
    let variants = |k: Kernel| {
        Isa::ALL.into_iter().filter(move |isa| {
            let ok = isa.available(k);
            if !ok {
                println!("SKIPPED: {isa} {k:?} (CPU lacks {})", isa.needs(k));
            }
            ok
        })
    };

    let mut g = c.benchmark_group("simd parser, burst of 32");
    g.throughput(Throughput::Elements(32));
    for isa in variants(Kernel::Parser) {
        let mut ks = [FlowKey::ZERO; 32];
        let mut xs = [extract(frames[0], 1, &mut ks[0]); 32];
        g.bench_function(isa.name(), |b| {
            b.iter(|| {
                extract_burst(isa, black_box(&frames), u32::MAX, 1, &mut ks, &mut xs);
                black_box(ks[31].words[5])
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("simd hash, burst of 32");
    g.throughput(Throughput::Elements(32));
    for isa in variants(Kernel::Hash) {
        let mut out = [0u32; 32];
        g.bench_function(isa.name(), |b| {
            b.iter(|| {
                flow_hash_burst(isa, black_box(&keys), &words, u32::MAX, &mut out);
                black_box(out[31])
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("simd lookup, burst of 32");
    g.throughput(Throughput::Elements(32));
    for subtables in [1usize, 10] {
        let mut cls = Dpcls::new();
        for s in 0..subtables {
            let mut m = FlowKey::ZERO;
            m.set(Field::InPort, u32::MAX as u128);
            m.set(Field::DlType, 0xffff);
            m.set(Field::NwSrc, (u32::MAX << (8 + s)) as u128);
            m.set(Field::TpSrc, 0xfffc);
            let matching = s + 1 == subtables;
            for f in 0..if matching { 1000 } else { 100 } {
                let mut k = keys[f % 32];
                k.set(Field::TpSrc, (f / 32 * 4) as u128);
                if !matching {
                    k.set(Field::DlType, 0x86dd); // never matched
                }
                cls.insert(&k, &m, ());
            }
        }
        for isa in variants(Kernel::Lookup) {
            cls.set_lookup(isa);
            let mut out = [0u32; 32];
            g.bench_function(BenchmarkId::new(isa.name(), subtables), |b| {
                b.iter(|| black_box(cls.lookup_batch(black_box(&keys), u32::MAX, &mut out)))
            });
        }
    }
    g.finish();
}

/// TSC ticks per nanosecond, measured against the monotonic clock.
fn tsc_per_ns() -> f64 {
    let (t0, c0) = (Instant::now(), pmdswitch::dpdk::lcore::rdtsc());
    std::thread::sleep(Duration::from_millis(100));
    (pmdswitch::dpdk::lcore::rdtsc() - c0) as f64 / t0.elapsed().as_nanos() as f64
}

fn summary(_: &mut Criterion) {
    println!(
        "TSC: {:.3} cycles per ns (multiply a median in ns by this for cycles)",
        tsc_per_ns()
    );
}

criterion_group!(benches, extract_and_hash, caches, simd_variants, summary);
criterion_main!(benches);
