//! Answers in the shape of OVS's own, so that scripts written against
//! ovs-vswitchd (awk over `pmd-stats-show`, grep over `dpctl/dump-flows`)
//! read pmdswitch unchanged. The content is pmdswitch's; lines for what
//! pmdswitch does not measure are left out rather than faked.
use crate::datapath::dump::FlowDump;
use crate::flow::key::{Field, FlowKey, FRAG_ANY, FRAG_LATER};
use crate::packet::proto;
use serde_json::Value;
use std::fmt::Write;

fn num(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

/// `pmd thread numa_id N core_id C:` as OVS heads each PMD.
fn pmd_head(numa: i64, core: u64) -> String {
    format!("pmd thread numa_id {numa} core_id {core}:\n")
}

/// `dpif-netdev/pmd-stats-show` from `ctl pmd-stats-show`'s data, for the
/// PMDs `keep` accepts. The main thread, which polls nothing here, closes
/// the list as in OVS.
pub fn pmd_stats(data: &Value, keep: impl Fn(u64) -> bool) -> String {
    let mut t = String::new();
    let empty = Vec::new();
    for p in data["pmds"].as_array().unwrap_or(&empty) {
        let core = num(p, "core");
        if !keep(core) {
            continue;
        }
        t += &pmd_head(p["numa"].as_i64().unwrap_or(0), core);
        stats_body(&mut t, p);
    }
    t += "main thread:\n";
    stats_body(&mut t, &Value::Null);
    t
}

fn stats_body(t: &mut String, p: &Value) {
    let rx = num(p, "packets_received");
    let failed = p["drops"]["upcall_failed"].as_u64().unwrap_or(0);
    let _ = writeln!(t, "  packets received: {rx}");
    let _ = writeln!(t, "  packet recirculations: 0");
    let passes = if rx > 0 { 1.0 } else { 0.0 };
    let _ = writeln!(t, "  avg. datapath passes per packet: {passes:.2}");
    let _ = writeln!(t, "  phwol hits: 0");
    let _ = writeln!(t, "  simple match hits: {}", num(p, "simple_match_hits"));
    let _ = writeln!(t, "  emc hits: {}", num(p, "emc_hits"));
    let _ = writeln!(t, "  smc hits: {}", num(p, "smc_hits"));
    let _ = writeln!(t, "  megaflow hits: {}", num(p, "megaflow_hits"));
    let _ = writeln!(
        t,
        "  avg. subtable lookups per megaflow hit: {:.2}",
        p["avg_subtable_lookups_per_megaflow_hit"]
            .as_f64()
            .unwrap_or(0.0)
    );
    let _ = writeln!(t, "  miss with success upcall: {}", num(p, "upcalls"));
    let _ = writeln!(t, "  miss with failed upcall: {failed}");
    // OVS counts a sleeping PMD's cycles as idle.
    let idle = num(p, "idle_cycles") + num(p, "sleep_cycles");
    let busy = num(p, "processing_cycles");
    let total = idle + busy;
    if total == 0 {
        return;
    }
    let pct = |c: u64| c as f64 * 100.0 / total as f64;
    let _ = writeln!(t, "  idle cycles: {idle} ({:.2}%)", pct(idle));
    let _ = writeln!(t, "  processing cycles: {busy} ({:.2}%)", pct(busy));
    if rx == 0 {
        return;
    }
    let _ = writeln!(
        t,
        "  avg cycles per packet: {:.2} ({total}/{rx})",
        total as f64 / rx as f64
    );
    let _ = writeln!(
        t,
        "  avg processing cycles per packet: {:.2} ({busy}/{rx})",
        busy as f64 / rx as f64
    );
}

/// `dpif-netdev/pmd-rxq-show` from `ctl pmd-rxq-show`'s data.
pub fn pmd_rxq(data: &Value, keep: impl Fn(u64) -> bool) -> String {
    let mut t = String::new();
    let empty = Vec::new();
    for p in data["pmds"].as_array().unwrap_or(&empty) {
        let core = num(p, "core");
        if !keep(core) {
            continue;
        }
        t += &pmd_head(p["numa"].as_i64().unwrap_or(0), core);
        let queues = p["queues"].as_array().unwrap_or(&empty);
        let pinned = queues.iter().any(|q| q["pinned"].as_bool() == Some(true));
        let _ = writeln!(t, "  isolated : {pinned}");
        let mut sum = 0.0;
        for q in queues {
            let usage = q["usage_pct"].as_f64().unwrap_or(0.0);
            sum += usage;
            let _ = writeln!(
                t,
                "  port: {:<16}  queue-id: {:>2} (enabled)   pmd usage: {:>2} %",
                q["port"].as_str().unwrap_or(""),
                num(q, "queue"),
                usage as u64
            );
        }
        if !queues.is_empty() {
            let busy = p["busy_pct"].as_f64().unwrap_or(0.0);
            let _ = writeln!(t, "  overhead: {:>2} %", (busy - sum).max(0.0) as u64);
        }
    }
    t
}

fn value(f: Field, v: u128) -> String {
    match f {
        // The datapath notation writes EtherTypes with four digits.
        Field::DlType => format!("{v:#06x}"),
        _ => crate::datapath::dump::value(f, v),
    }
}

/// One ODP attribute, `name(sub=value,sub=value/mask,...)`, over the fields
/// of `subs` the mask touches; None when it touches none.
fn attr(f: &FlowDump, name: &str, subs: &[(&str, Field)]) -> Option<String> {
    let parts: Vec<String> = subs
        .iter()
        .filter_map(|&(sub, field)| {
            let m = f.mask.get(field);
            (m != 0).then(|| {
                let v = value(field, f.key.get(field));
                if m == field.full_mask() {
                    format!("{sub}={v}")
                } else {
                    format!("{sub}={v}/{}", value(field, m))
                }
            })
        })
        .collect();
    (!parts.is_empty()).then(|| format!("{name}({})", parts.join(",")))
}

fn frag(key: &FlowKey, mask: &FlowKey) -> Option<&'static str> {
    if mask.get(Field::NwFrag) == 0 {
        return None;
    }
    let v = key.get(Field::NwFrag) as u8;
    Some(if v & FRAG_LATER != 0 {
        "later"
    } else if v & FRAG_ANY != 0 {
        "first"
    } else {
        "no"
    })
}

/// A megaflow's match in the datapath's own notation (`dpctl/dump-flows`).
pub fn odp_match(f: &FlowDump) -> String {
    let mut out = vec!["recirc_id(0)".to_string()];
    if f.mask.get(Field::InPort) != 0 {
        out.push(format!("in_port({})", f.key.get(Field::InPort)));
    }
    out.push("packet_type(ns=0,id=0)".into());
    out.extend(attr(
        f,
        "eth",
        &[("src", Field::DlSrc), ("dst", Field::DlDst)],
    ));
    out.extend(attr(f, "vlan", &[("tci", Field::VlanTci0)]));
    out.extend(attr(f, "eth_type", &[("", Field::DlType)]).map(|s| s.replace("(=", "(")));
    let (ty, proto) = (
        f.key.get(Field::DlType) as u16,
        f.key.get(Field::NwProto) as u8,
    );
    let with_frag = |a: Option<String>, name: &str| -> Option<String> {
        match (a, frag(&f.key, &f.mask)) {
            (Some(a), Some(fr)) => Some(format!("{},frag={fr})", &a[..a.len() - 1])),
            (None, Some(fr)) => Some(format!("{name}(frag={fr})")),
            (a, None) => a,
        }
    };
    let ip4: &[(&str, Field)] = &[
        ("src", Field::NwSrc),
        ("dst", Field::NwDst),
        ("proto", Field::NwProto),
        ("tos", Field::NwTos),
        ("ttl", Field::NwTtl),
    ];
    let ip6: &[(&str, Field)] = &[
        ("src", Field::Ipv6Src),
        ("dst", Field::Ipv6Dst),
        ("label", Field::Ipv6Label),
        ("proto", Field::NwProto),
        ("tclass", Field::NwTos),
        ("hlimit", Field::NwTtl),
    ];
    match ty {
        proto::ETH_TYPE_IPV4 => out.extend(with_frag(attr(f, "ipv4", ip4), "ipv4")),
        proto::ETH_TYPE_IPV6 => out.extend(with_frag(attr(f, "ipv6", ip6), "ipv6")),
        proto::ETH_TYPE_ARP => out.extend(attr(
            f,
            "arp",
            &[
                ("sip", Field::NwSrc),
                ("tip", Field::NwDst),
                ("op", Field::NwProto),
                ("sha", Field::ArpSha),
                ("tha", Field::ArpTha),
            ],
        )),
        _ => {}
    }
    if matches!(ty, proto::ETH_TYPE_IPV4 | proto::ETH_TYPE_IPV6) {
        let l4 = match proto {
            proto::IPPROTO_TCP => Some("tcp"),
            proto::IPPROTO_UDP => Some("udp"),
            proto::IPPROTO_SCTP => Some("sctp"),
            proto::IPPROTO_ICMP => Some("icmp"),
            proto::IPPROTO_ICMPV6 => Some("icmpv6"),
            _ => None,
        };
        if let Some(l4) = l4 {
            let subs: &[(&str, Field)] = if l4.starts_with("icmp") {
                &[("type", Field::TpSrc), ("code", Field::TpDst)]
            } else {
                &[("src", Field::TpSrc), ("dst", Field::TpDst)]
            };
            out.extend(attr(f, l4, subs));
            if l4 == "tcp" {
                out.extend(
                    attr(f, "tcp_flags", &[("", Field::TcpFlags)]).map(|s| s.replace("(=", "(")),
                );
            }
            if l4 == "icmpv6" {
                out.extend(attr(
                    f,
                    "nd",
                    &[
                        ("target", Field::NdTarget),
                        ("sll", Field::ArpSha),
                        ("tll", Field::ArpTha),
                    ],
                ));
            }
        }
    }
    out.join(",")
}

/// One `dpctl/dump-flows` line.
pub fn odp_flow_line(f: &FlowDump) -> String {
    let used = if f.packets == 0 {
        "never".to_string()
    } else {
        format!("{:.3}s", f.used_s)
    };
    format!(
        "{}, packets:{}, bytes:{}, used:{used}, actions:{}",
        odp_match(f),
        f.packets,
        f.bytes,
        f.actions_text()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn dump(fields: &[(Field, u128)]) -> FlowDump {
        let (mut key, mut mask) = (FlowKey::ZERO, FlowKey::ZERO);
        for &(f, v) in fields {
            key.set(f, v);
            mask.set(f, f.full_mask());
        }
        FlowDump {
            core: 1,
            key,
            mask,
            actions: Arc::from(vec![crate::flow::actions::DpAction::Output(2)]),
            packets: 0,
            bytes: 0,
            used_s: 0.0,
        }
    }

    #[test]
    fn megaflows_print_in_the_datapath_notation() {
        let f = dump(&[
            (Field::InPort, 1),
            (Field::DlType, proto::ETH_TYPE_IPV4 as u128),
            (Field::NwDst, 0x0a00_0001),
            (Field::NwProto, proto::IPPROTO_UDP as u128),
            (Field::NwFrag, 0),
            (Field::TpDst, 53),
        ]);
        assert_eq!(
            odp_flow_line(&f),
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(dst=10.0.0.1,proto=17,frag=no),udp(dst=53), packets:0, bytes:0, used:never, actions:2"
        );
    }

    #[test]
    fn pmd_stats_read_as_ovs_scripts_expect() {
        let data = json!({"pmds": [{"core": 1, "numa": 0, "packets_received": 10, "emc_hits": 9,
            "upcalls": 1, "idle_cycles": 50, "sleep_cycles": 0, "processing_cycles": 150,
            "drops": {"upcall_failed": 0}}]});
        let t = pmd_stats(&data, |_| true);
        assert!(t.starts_with("pmd thread numa_id 0 core_id 1:\n  packets received: 10\n"));
        assert!(t.contains("  emc hits: 9\n"));
        assert!(t.contains("  processing cycles: 150 (75.00%)\n"));
        assert!(t.contains("  avg cycles per packet: 20.00 (200/10)\n"));
        assert!(t.ends_with("main thread:\n  packets received: 0\n  packet recirculations: 0\n  avg. datapath passes per packet: 0.00\n  phwol hits: 0\n  simple match hits: 0\n  emc hits: 0\n  smc hits: 0\n  megaflow hits: 0\n  avg. subtable lookups per megaflow hit: 0.00\n  miss with success upcall: 0\n  miss with failed upcall: 0\n"));
        assert_eq!(
            pmd_stats(&data, |c| c == 2),
            pmd_stats(&json!({}), |_| true)
        );
    }
}
