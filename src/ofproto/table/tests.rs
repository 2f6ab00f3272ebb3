use super::*;
use crate::ofproto::parse::{parse_flow, parse_match};

fn add(p: &mut Pipeline, s: &str) -> Arc<Rule> {
    p.add(&parse_flow(s).unwrap())
}

fn key(fields: &[(Field, u128)]) -> FlowKey {
    let mut k = FlowKey::ZERO;
    for (f, v) in fields {
        k.set(*f, *v);
    }
    k
}

fn ip_key(in_port: u128, dst: u128) -> FlowKey {
    key(&[
        (Field::InPort, in_port),
        (Field::DlType, 0x0800),
        (Field::NwDst, dst),
        (Field::NwProto, 6),
        (Field::TpDst, 80),
    ])
}

fn lookup(p: &Pipeline, k: &FlowKey) -> Option<u64> {
    let mut wc = FlowKey::ZERO;
    p.table(0).unwrap().lookup(k, &mut wc).map(|r| r.id)
}

#[test]
fn priority_and_replace() {
    let mut p = Pipeline::new();
    let low = add(&mut p, "priority=1 actions=1");
    let hi = add(&mut p, "priority=10,ip,nw_dst=10.0.0.0/8 actions=2");
    assert_eq!(lookup(&p, &ip_key(1, 0x0a01_0101)), Some(hi.id));
    assert_eq!(lookup(&p, &ip_key(1, 0x0b01_0101)), Some(low.id));
    let g = p.generation();
    let hi2 = add(&mut p, "priority=10,ip,nw_dst=10.0.0.0/8 actions=3");
    assert!(p.generation() > g);
    assert_eq!(p.len(), 2, "identical match+priority replaces");
    assert_eq!(lookup(&p, &ip_key(1, 0x0a01_0101)), Some(hi2.id));
    // Same match, other priority: a second rule.
    add(&mut p, "priority=11,ip,nw_dst=10.0.0.0/8 actions=3");
    assert_eq!(p.len(), 3);
}

#[test]
fn equal_priority_ties_go_to_the_older_rule() {
    let mut p = Pipeline::new();
    let a = add(&mut p, "priority=5,ip,nw_dst=10.0.0.0/8 actions=1");
    let _b = add(&mut p, "priority=5,in_port=1 actions=2");
    assert_eq!(lookup(&p, &ip_key(1, 0x0a00_0001)), Some(a.id));
}

#[test]
fn delete_strict_and_loose() {
    let mut p = Pipeline::new();
    add(&mut p, "priority=5,tcp,tp_dst=80 actions=1");
    add(&mut p, "priority=6,tcp,tp_dst=80,in_port=2 actions=1");
    add(&mut p, "priority=7,udp actions=1");
    add(&mut p, "table=1,priority=7,tcp actions=1");
    let m = parse_match("tcp,tp_dst=80").unwrap().m;
    // Strict needs the exact priority.
    let gone = p.delete(&Selector {
        table: Some(0),
        m: &m,
        strict: true,
        priority: 6,
        cookie: None,
    });
    assert!(gone.is_empty());
    let gone = p.delete(&Selector {
        table: Some(0),
        m: &m,
        strict: true,
        priority: 5,
        cookie: None,
    });
    assert_eq!(gone.len(), 1);
    add(&mut p, "priority=5,tcp,tp_dst=80 actions=1");
    // Non-strict: everything at least as specific, any priority.
    let m = parse_match("tcp").unwrap().m;
    let gone = p.delete(&Selector {
        table: None,
        m: &m,
        strict: false,
        priority: 0,
        cookie: None,
    });
    assert_eq!(gone.len(), 3);
    assert_eq!(p.len(), 1);
    assert_eq!(lookup(&p, &ip_key(2, 1)), None);
}

#[test]
fn modify_keeps_counters_and_dump_orders() {
    let mut p = Pipeline::new();
    let r = add(&mut p, "priority=5,ip actions=1");
    r.stats.add(3, 300);
    add(&mut p, "priority=9 actions=drop");
    add(&mut p, "table=2,priority=1 actions=drop");
    let m = parse_match("ip").unwrap().m;
    let acts = [crate::ofproto::rule::Action::Output(7)];
    assert_eq!(
        p.modify(
            &Selector {
                table: Some(0),
                m: &m,
                strict: false,
                priority: 0,
                cookie: None
            },
            &acts
        ),
        1
    );
    let d = p.dump();
    assert_eq!(
        d.iter().map(|r| (r.table, r.priority)).collect::<Vec<_>>(),
        vec![(0, 9), (0, 5), (2, 1)]
    );
    assert_eq!(&*d[1].actions, &acts);
    assert_eq!(d[1].stats.packets.load(Ordering::Relaxed), 3);
    assert_eq!(
        d[1].to_string(),
        "cookie=0x0, table=0, n_packets=3, n_bytes=300, priority=5,dl_type=0x800 actions=output:7"
    );
}

#[test]
fn staged_lookup_unwildcards_only_the_failing_stage() {
    let mut p = Pipeline::new();
    add(
        &mut p,
        "priority=10,in_port=3,tcp,nw_dst=10.0.0.0/8,tp_dst=80 actions=1",
    );
    let mut wc = FlowKey::ZERO;
    assert!(p
        .table(0)
        .unwrap()
        .lookup(&ip_key(1, 0x0a00_0001), &mut wc)
        .is_none());
    // Missed at the in_port stage: only in_port was needed.
    assert_eq!(wc, key(&[(Field::InPort, 0xffff_ffff)]));
    let mut wc = FlowKey::ZERO;
    assert!(p
        .table(0)
        .unwrap()
        .lookup(&ip_key(3, 0x0b00_0001), &mut wc)
        .is_none());
    assert_eq!(wc.get(Field::NwDst), 0xff00_0000);
    assert_eq!(wc.get(Field::TpDst), 0, "L4 never looked at");
}

#[test]
fn ten_thousand_rules() {
    let mut p = Pipeline::new();
    for i in 0..10_000u32 {
        let fm = parse_flow(&format!(
            "priority={},ip,nw_dst=10.{}.{}.0/24 actions=1",
            100 + i % 7,
            i >> 8,
            i & 255
        ))
        .unwrap();
        p.add(&fm);
    }
    assert_eq!(p.len(), 10_000);
    assert_eq!(p.n_subtables(), 1);
    assert!(lookup(&p, &ip_key(1, 0x0a05_0709)).is_some());
    assert!(lookup(&p, &ip_key(1, 0x0b05_0709)).is_none());
}
