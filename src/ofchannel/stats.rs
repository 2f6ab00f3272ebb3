//! What the switch reports over OpenFlow: features, description, flow,
//! aggregate, table and port statistics, port descriptions. Runs on the
//! main loop (it reads the switch).
use super::{actions, flows::Filter, matching, Refusal};
use crate::ofproto::table::{Rule, N_TABLES};
use crate::switch::{PortInfo, Switch};
use openflow::consts::error::{self as e, bad_request, BAD_REQUEST};
use openflow::consts::{capabilities as cap, port, port_features as feat, port_state};
use openflow::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The datapath id: the configured one, else the first port's MAC (as OVS
/// takes the bridge's).
pub fn datapath_id(sw: &Switch) -> u64 {
    if let Some(d) = &sw.config().openflow.datapath_id {
        if let Ok(d) = crate::config::parse_dpid(d) {
            return d;
        }
    }
    sw.port_infos()
        .first()
        .map(|p| p.mac.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
        .unwrap_or(0)
}

/// FEATURES_REPLY.
pub fn features(sw: &Switch) -> FeaturesReply {
    FeaturesReply {
        datapath_id: datapath_id(sw),
        n_buffers: 0,
        n_tables: N_TABLES as u8 - 1,
        auxiliary_id: 0,
        capabilities: cap::FLOW_STATS | cap::TABLE_STATS | cap::PORT_STATS,
        reserved: 0,
    }
}

fn split(d: Duration) -> (u32, u32) {
    (d.as_secs() as u32, d.subsec_nanos())
}

fn flow_stats(r: &Rule) -> FlowStats {
    let (duration_sec, duration_nsec) = split(r.created.elapsed());
    FlowStats {
        table_id: r.table,
        duration_sec,
        duration_nsec,
        priority: r.priority,
        idle_timeout: r.idle_timeout,
        hard_timeout: r.hard_timeout,
        flags: 0,
        cookie: r.cookie,
        packet_count: r.stats.packets.load(Ordering::Relaxed),
        byte_count: r.stats.bytes.load(Ordering::Relaxed),
        r#match: matching::to_oxm(&r.m),
        instructions: actions::to_instructions(&r.actions, &r.m),
    }
}

/// Every port's description, as PORT_DESC and PORT_STATUS give it.
pub fn port_descs(sw: &Switch) -> Vec<Port> {
    sw.port_infos().iter().map(port_desc).collect()
}

fn port_desc(p: &PortInfo) -> Port {
    let kbps = p.speed_mbps.saturating_mul(1000);
    let curr = match p.speed_mbps {
        0 => 0,
        10 => feat::F_10MB_FD,
        100 => feat::F_100MB_FD,
        1000 => feat::F_1GB_FD,
        10_000 => feat::F_10GB_FD,
        40_000 => feat::F_40GB_FD,
        100_000 => feat::F_100GB_FD,
        _ => feat::F_OTHER,
    };
    Port {
        port_no: p.ofport,
        hw_addr: p.mac,
        name: FixedStr::new(&p.name),
        config: 0,
        state: if p.link_up {
            port_state::LIVE
        } else {
            port_state::LINK_DOWN
        },
        curr,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: kbps,
        max_speed: kbps,
    }
}

fn port_stats(p: &PortInfo, up: Duration) -> PortStats {
    let (duration_sec, duration_nsec) = split(up);
    PortStats {
        port_no: p.ofport,
        rx_packets: p.rx_packets,
        tx_packets: p.tx_packets,
        rx_bytes: p.device.rx_bytes,
        tx_bytes: p.device.tx_bytes,
        rx_dropped: p.device.rx_missed + p.device.rx_nombuf,
        tx_dropped: p.tx_dropped,
        rx_errors: p.device.rx_errors,
        tx_errors: p.device.tx_errors,
        duration_sec,
        duration_nsec,
        ..Default::default()
    }
}

/// What table `t` can do: the matches, instructions and actions the
/// channel accepts.
fn table_features(t: u8) -> TableFeatures {
    use openflow::consts::instruction as i;
    let headers = |f: &dyn Fn(openflow::oxm::Field) -> bool| -> Vec<u32> {
        // Experimenter fields (ONF tcp_flags) would need their id beside
        // the header; NXM tcp_flags stands for them.
        matching::matchable()
            .filter(|x| x.experimenter().is_none() && f(*x))
            .map(|x| x.header(false))
            .collect()
    };
    let instructions: Vec<u16> = if t < N_TABLES as u8 - 2 {
        vec![i::APPLY_ACTIONS, i::CLEAR_ACTIONS, i::GOTO_TABLE]
    } else {
        vec![i::APPLY_ACTIONS, i::CLEAR_ACTIONS]
    };
    let next: Vec<u8> = (t.saturating_add(1)..N_TABLES as u8 - 1).collect();
    let settable = headers(&|f| !actions::read_only(f));
    let mut properties = Vec::new();
    for miss in [false, true] {
        properties.push(TableFeatureProp::Instructions {
            miss,
            ids: instructions.clone(),
        });
        properties.push(TableFeatureProp::NextTables {
            miss,
            tables: next.clone(),
        });
        properties.push(TableFeatureProp::WriteActions {
            miss,
            ids: Vec::new(),
        });
        properties.push(TableFeatureProp::ApplyActions {
            miss,
            ids: actions::SUPPORTED.to_vec(),
        });
        properties.push(TableFeatureProp::WriteSetfield {
            miss,
            fields: Vec::new(),
        });
        properties.push(TableFeatureProp::ApplySetfield {
            miss,
            fields: settable.clone(),
        });
    }
    properties.push(TableFeatureProp::Match(headers(&|_| true)));
    properties.push(TableFeatureProp::Wildcards(headers(&matching::maskable)));
    TableFeatures {
        table_id: t,
        name: FixedStr::new(&format!("table{t}")),
        metadata_match: 0,
        metadata_write: 0,
        config: 0,
        max_entries: 1_000_000,
        properties,
    }
}

/// The reply to a multipart request, or the ERROR that refuses it.
pub fn multipart(
    sw: &mut Switch,
    req: &MultipartRequestBody,
) -> Result<MultipartReplyBody, Refusal> {
    use MultipartReplyBody as R;
    use MultipartRequestBody as Q;
    let failed = |e: anyhow::Error| {
        tracing::warn!("openflow: statistics: {e:#}");
        Refusal::new(BAD_REQUEST, bad_request::EPERM)
    };
    let filter = |q: &FlowStatsRequest| {
        Filter::new(
            q.table_id,
            &q.r#match,
            q.cookie,
            q.cookie_mask,
            q.out_port,
            q.out_group,
        )
    };
    Ok(match req {
        Q::Desc => R::Desc(Desc {
            mfr_desc: FixedStr::new("pmdswitch"),
            hw_desc: FixedStr::new("pmdswitch userspace switch on DPDK"),
            sw_desc: FixedStr::new(env!("CARGO_PKG_VERSION")),
            serial_num: FixedStr::new("None"),
            dp_desc: FixedStr::new("pmdswitch"),
        }),
        Q::Flow(q) => {
            let rules = filter(q)?.rules(sw).map_err(failed)?;
            R::Flow(rules.iter().map(|r| flow_stats(r)).collect())
        }
        Q::Aggregate(q) => {
            let rules = filter(q)?.rules(sw).map_err(failed)?;
            R::Aggregate(AggregateReply {
                packet_count: rules
                    .iter()
                    .map(|r| r.stats.packets.load(Ordering::Relaxed))
                    .sum(),
                byte_count: rules
                    .iter()
                    .map(|r| r.stats.bytes.load(Ordering::Relaxed))
                    .sum(),
                flow_count: rules.len() as u32,
            })
        }
        Q::Table => {
            let mut active = vec![0u32; N_TABLES];
            for r in sw.installed_rules() {
                active[usize::from(r.table)] += 1;
            }
            // Lookups are not counted per table yet: OVS-style figures
            // would need a counter on the upcall path.
            R::Table(
                (0..N_TABLES - 1)
                    .map(|t| TableStats {
                        table_id: t as u8,
                        active_count: active[t],
                        lookup_count: 0,
                        matched_count: 0,
                    })
                    .collect(),
            )
        }
        Q::PortStats(which) => {
            let up = sw.started().elapsed();
            let ports: Vec<PortStats> = sw
                .port_infos()
                .iter()
                .filter(|p| *which == port::ANY || p.ofport == *which)
                .map(|p| port_stats(p, up))
                .collect();
            if ports.is_empty() && *which != port::ANY {
                return Err(Refusal::new(BAD_REQUEST, bad_request::BAD_PORT));
            }
            R::PortStats(ports)
        }
        Q::PortDesc => R::PortDesc(port_descs(sw)),
        // No groups exist until GROUP_MOD is built.
        Q::Group(_) => R::Group(Vec::new()),
        Q::GroupDesc => R::GroupDesc(Vec::new()),
        Q::GroupFeatures => R::GroupFeatures(GroupFeatures::default()),
        Q::TableFeatures(set) if set.is_empty() => {
            R::TableFeatures((0..N_TABLES as u8 - 1).map(table_features).collect())
        }
        // The tables' features are fixed.
        Q::TableFeatures(_) => {
            return Err(Refusal::new(
                e::TABLE_FEATURES_FAILED,
                e::table_features_failed::EPERM,
            ))
        }
        Q::Unknown { .. } => return Err(Refusal::new(BAD_REQUEST, bad_request::BAD_MULTIPART)),
    })
}
