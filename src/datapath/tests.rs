//! The cache path (simple match, EMC, SMC, dpcls, upcall) against a fresh
//! translation of every packet through the rule tables, before and after
//! random rule changes.
use super::*;
use crate::dpdk::BURST_SIZE;
use crate::ofproto::normal::PortSet;
use crate::packet::buf::{PacketBuf, VecPacket};
use crate::packet::extract::extract;
use crate::pmd::stats::PmdStats;
use proptest::prelude::*;

const PORTS: [u32; 4] = [1, 2, 3, 4];

fn udp_frame(nw_dst: u32, tp_dst: u16, vlan: Option<u16>) -> VecPacket {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    if let Some(v) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 9, 0, 1];
    ip.extend_from_slice(&nw_dst.to_be_bytes());
    f.extend(ip);
    f.extend_from_slice(&[0x30, 0x39]);
    f.extend_from_slice(&tp_dst.to_be_bytes());
    f.extend_from_slice(&[0, 8, 0, 0]);
    VecPacket::new(&f)
}

/// (priority, in_port, address, prefix, tp_dst, output, drop)
type RuleSpec = (u16, u8, u8, u8, Option<u16>, u8, bool);

fn rule_text(r: &RuleSpec) -> String {
    let (prio, in_port, addr, plen, tp, out, drop) = *r;
    let mut t = format!("priority={prio},");
    if in_port != 0 {
        t += &format!("in_port={in_port},");
    }
    t += &format!("udp,nw_dst=10.0.{}.0/{},", addr % 4, 16 + plen % 17);
    if let Some(p) = tp {
        t += &format!("tp_dst={},", 5000 + p % 4);
    }
    if drop {
        t += "actions=drop";
    } else {
        t += &format!(
            "actions=mod_nw_tos:{},output:{}",
            (out % 4) * 4,
            PORTS[out as usize % 4]
        );
    }
    t
}

fn rule_strategy() -> impl Strategy<Value = RuleSpec> {
    (
        1u16..100,
        0u8..3,
        any::<u8>(),
        any::<u8>(),
        proptest::option::of(any::<u16>()),
        any::<u8>(),
        any::<bool>(),
    )
}

/// Runs packets (in_port, nw_dst, tp_dst, vlan) through the datapath in
/// bursts and checks each packet's actions against a fresh translation.
fn check(
    dp: &mut Datapath,
    shared: &Shared,
    pkts: &[(u8, u32, u16, Option<u16>)],
) -> Result<(), TestCaseError> {
    let stats = PmdStats::new(0);
    for chunk in pkts.chunks(BURST_SIZE) {
        // A burst comes from one port.
        let in_port = PORTS[chunk[0].0 as usize % 2];
        let slot = in_port as usize - 1;
        let bufs: Vec<VecPacket> = chunk.iter().map(|p| udp_frame(p.1, p.2, p.3)).collect();
        dp.revalidate_if_changed();
        let mut flow = [u32::MAX; BURST_SIZE];
        if dp
            .classify_simple(&bufs, slot, in_port, &mut flow)
            .is_none()
        {
            dp.classify(&bufs, in_port, 0, &mut flow, &stats);
        }
        for (i, b) in bufs.iter().enumerate() {
            let got = dp
                .dpcls
                .get(flow[i])
                .expect("every packet gets a megaflow")
                .value
                .actions
                .clone();
            let mut key = FlowKey::ZERO;
            extract(b.data(), in_port, &mut key);
            let want = shared.lock().ofproto.translate(&key, 0).actions;
            prop_assert_eq!(&*got, &*want, "packet {:?}", chunk[i]);
        }
    }
    Ok(())
}

fn new_datapath(rules: &[RuleSpec], smc: bool) -> (Arc<Shared>, Datapath) {
    let mut of = Ofproto::new(PortSet::trunks(PORTS));
    for r in rules {
        of.add_flow(&rule_text(r)).expect("generated rules parse");
    }
    let cfg = DatapathConfig {
        emc_insert_inv_prob: 1,
        smc,
        ..Default::default()
    };
    let shared = Arc::new(Shared::new(
        of,
        PORTS.iter().map(|p| Some(*p)).collect(),
        cfg,
    ));
    let dp = Datapath::new(shared.clone(), 0, 1_000_000_000);
    (shared, dp)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn caches_agree_with_the_rule_tables_across_changes(
        rules in proptest::collection::vec(rule_strategy(), 0..12),
        more in proptest::collection::vec(rule_strategy(), 1..6),
        deletions in proptest::collection::vec(any::<u8>(), 0..4),
        pkts in proptest::collection::vec((0u8..2, 0u32..4096, 0u16..6, proptest::option::of(0u16..3)), 1..160),
        smc in any::<bool>(),
    ) {
        let pkts: Vec<_> = pkts.into_iter().map(|(p, a, t, v)| (p, 0x0a00_0000 | (a & 0x3ff) << 6 | (a & 0x3), 5000 + t, v)).collect();
        let (shared, mut dp) = new_datapath(&rules, smc);
        check(&mut dp, &shared, &pkts)?;
        // Twice: the second pass hits the caches filled by the first.
        check(&mut dp, &shared, &pkts)?;
        {
            let mut slow = shared.lock();
            for r in &more {
                slow.ofproto.add_flow(&rule_text(r)).unwrap();
            }
            for d in &deletions {
                let addr = d % 4;
                slow.ofproto.del_flows(&format!("udp,nw_dst=10.0.{addr}.0/16"), false).unwrap();
            }
        }
        shared.changed();
        check(&mut dp, &shared, &pkts)?;
    }
}

#[test]
fn a_port_only_rule_takes_the_simple_path() {
    let mut of = Ofproto::new(PortSet::trunks(PORTS));
    of.add_flow("in_port=1,actions=output:2").unwrap();
    let shared = Arc::new(Shared::new(
        of,
        PORTS.iter().map(|p| Some(*p)).collect(),
        DatapathConfig::default(),
    ));
    let mut dp = Datapath::new(shared.clone(), 0, 1_000_000_000);
    let stats = PmdStats::new(0);
    let bufs: Vec<VecPacket> = (0..8)
        .map(|i| udp_frame(0x0a00_0000 + i, 5000, None))
        .collect();
    let mut flow = [u32::MAX; BURST_SIZE];
    assert!(
        dp.classify_simple(&bufs, 0, 1, &mut flow).is_none(),
        "nothing installed yet"
    );
    dp.classify(&bufs, 1, 0, &mut flow, &stats);
    assert_eq!(
        stats.lookups.upcalls.get(),
        1,
        "one megaflow covers them all"
    );
    let mut again = [u32::MAX; BURST_SIZE];
    let bytes: u64 = bufs.iter().map(|b| b.data().len() as u64).sum();
    assert_eq!(
        dp.classify_simple(&bufs, 0, 1, &mut again),
        Some((true, bytes)),
        "one flow, whole burst"
    );
    assert_eq!(&again[..8], &flow[..8]);
    // A runt in the burst sends it down the full path (which drops it).
    let mut with_runt = bufs.clone();
    with_runt.push(VecPacket::new(&[0u8; 13]));
    assert!(dp.classify_simple(&with_runt, 0, 1, &mut again).is_none());
    // A rule on nw_dst makes port 1's megaflows non-simple after revalidation.
    shared
        .lock()
        .ofproto
        .add_flow("priority=40000,in_port=1,ip,nw_dst=10.0.0.3,actions=drop")
        .unwrap();
    shared.changed();
    dp.revalidate_if_changed();
    dp.classify(&bufs, 1, 0, &mut flow, &stats);
    assert!(dp.classify_simple(&bufs, 0, 1, &mut again).is_none());
}

/// A datapath over two rules that split 10.0.0.0/24 from other UDP, so
/// packets to 10.0.0.x and 10.0.1.x make two megaflows; TSC at 1 GHz.
fn two_megaflow_datapath(cfg: DatapathConfig) -> (Arc<Shared>, Datapath) {
    let mut of = Ofproto::new(PortSet::trunks(PORTS));
    of.add_flow("priority=10,udp,nw_dst=10.0.0.0/24,actions=output:2")
        .unwrap();
    of.add_flow("priority=5,udp,actions=output:3").unwrap();
    let shared = Arc::new(Shared::new(
        of,
        PORTS.iter().map(|p| Some(*p)).collect(),
        cfg,
    ));
    let dp = Datapath::new(shared.clone(), 0, 1_000_000_000);
    (shared, dp)
}

fn two_flow_burst() -> Vec<VecPacket> {
    (0..8)
        .map(|i| udp_frame(0x0a00_0001 + (i % 2) * 0x100, 5000, None))
        .collect()
}

#[test]
fn idle_megaflows_expire_and_their_counts_reach_the_rules() {
    let cfg = DatapathConfig {
        max_idle_ms: 100,
        emc_insert_inv_prob: 1,
        ..DatapathConfig::default()
    };
    let (shared, mut dp) = two_megaflow_datapath(cfg);
    let stats = PmdStats::new(0);
    let bufs = two_flow_burst();
    let mut flow = [u32::MAX; BURST_SIZE];
    dp.classify(&bufs, 1, 0, &mut flow, &stats);
    assert_eq!((dp.flow_count(), stats.lookups.upcalls.get()), (2, 2));
    dp.classify(&bufs, 1, 10_000_000, &mut flow, &stats);
    assert_eq!(stats.lookups.emc_hits.get(), 8, "the EMC holds both");
    // As execution would count them.
    for id in [flow[0], flow[1]] {
        dp.dpcls.value_mut(id).unwrap().packets += 4;
    }
    // Not idle long enough yet; then idle past 100 ms.
    assert_eq!(dp.expire_idle(50_000_000), 0);
    assert_eq!(dp.expire_idle(200_000_000), 2);
    assert_eq!(dp.flow_count(), 0);
    let counted: u64 = shared
        .lock()
        .ofproto
        .pipeline
        .dump()
        .iter()
        .map(|r| r.stats.packets.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    assert_eq!(counted, 8, "removed megaflows' packets reach their rules");
    // The EMC no longer names the removed flows: the packets miss again.
    dp.classify(&bufs, 1, 300_000_000, &mut flow, &stats);
    assert_eq!(stats.lookups.upcalls.get(), 4);
    assert_eq!(stats.lookups.emc_hits.get(), 8);
}

#[test]
fn past_the_flow_limit_misses_are_executed_but_not_kept() {
    let cfg = DatapathConfig {
        flow_limit: 1,
        emc_insert_inv_prob: 1,
        ..DatapathConfig::default()
    };
    let (_shared, mut dp) = two_megaflow_datapath(cfg);
    let stats = PmdStats::new(0);
    let bufs = two_flow_burst();
    for round in 1..=3u64 {
        let mut flow = [u32::MAX; BURST_SIZE];
        dp.classify(&bufs, 1, 0, &mut flow, &stats);
        // Every packet has its flow, with the right actions.
        for (i, f) in flow[..bufs.len()].iter().enumerate() {
            let want = if i % 2 == 0 { 2 } else { 3 };
            let a = &dp.dpcls.get(*f).unwrap().value.actions;
            assert_eq!(**a, [DpAction::Output(want)], "packet {i}");
        }
        assert!(dp.has_transient());
        assert_eq!(dp.drop_transient(), 1);
        assert_eq!(dp.flow_count(), 1, "the limit holds");
        // The flow over the limit misses every burst; the other stays.
        assert_eq!(stats.lookups.upcalls.get(), 1 + round);
    }
}
