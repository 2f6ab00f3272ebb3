//! The commands the control socket answers, each as text and as JSON.
use super::{Reply, Request};
use crate::pmd::stats::DropReason;
use crate::switch::Switch;
use serde_json::json;
use std::fmt::Write;

/// One ctl command: its name, its arguments, what it does, and the
/// function that does it. [`COMMANDS`] is the only list: dispatch,
/// `list-commands` and usage messages all read it.
pub struct Command {
    /// The command word.
    pub name: &'static str,
    /// Its arguments, as usage shows them ("" when it takes none).
    pub args: &'static str,
    /// What it does, in one line.
    pub help: &'static str,
    /// Runs it with the arguments after the command word.
    pub run: fn(&mut Switch, &[String]) -> Reply,
}

macro_rules! commands {
    ($( $name:literal, $args:literal, $help:literal => $run:expr; )*) => {
        /// Every command the control socket answers.
        pub const COMMANDS: &[Command] = &[$( Command { name: $name, args: $args, help: $help, run: $run } ),*];
    };
}

commands! {
    "pmd-stats-show", "", "per-PMD packet and cycle counters since the last clear" => |sw, a| none(a).unwrap_or_else(|| pmd_stats_show(sw));
    "pmd-stats-clear", "", "start the PMD counters from zero" => |sw, a| none(a).unwrap_or_else(|| {
        sw.clear_pmd_stats();
        Reply::ok(String::new(), json!(null))
    });
    "pmd-perf-show", "", "per-PMD iterations, cycles per iteration, packets per rx poll, cycles per packet by stage, classifier subtables" => |sw, a| none(a).unwrap_or_else(|| super::perf::pmd_perf_show(sw));
    "pmd-set", "[tx_flush_interval_us=N] [max_sleep_us=N] [stage_cycles=0|1] [cores=LIST|cpu_mask=0xMASK]", "change the PMD loop settings, or move the PMDs to other cores" => pmd_set;
    "pmd-rxq-show", "", "which PMD polls which rx queue, and each queue's share of its PMD" => |sw, a| none(a).unwrap_or_else(|| pmd_rxq_show(sw));
    "pmd-rxq-rebalance", "", "place rx queues anew by policy and measured load" => |sw, a| none(a).unwrap_or_else(|| rebalance(sw));
    "port-show", "[NAME]", "ports: device, link, queues and counters" => port_show_cmd;
    "port-set", "NAME [mtu=N] [rxq=N] [txq=N]", "reopen a port with new settings, keeping its OpenFlow number" => super::reconfig::port_set;
    "add-port", "NAME key=value...", "open a port while traffic flows (keys as in a [[port]] table)" => add_port;
    "del-port", "NAME", "close a port while traffic flows" => del_port;
    "add-xconnect", "FROM TO", "the rule in_port=FROM,actions=output:TO" => |sw, a| xconnect(sw, a, true);
    "del-xconnect", "FROM", "remove the cross-connect from FROM" => |sw, a| xconnect(sw, a, false);
    "reload", "[FILE]", "apply the configuration file again (ports, cores, rules)" => super::reconfig::reload;
    "mempool-show", "", "mempools: socket, MTU, buffer size, mbufs in use, users" => |sw, a| none(a).unwrap_or_else(|| mempool_show(sw));
    "add-flow", "\"FLOW\"", "add a rule (ovs-ofctl syntax, quoted as one argument)" => add_flow;
    "del-flows", "[--strict] [\"MATCH\"]", "delete rules" => del_flows;
    "dump-flows", "[--subtables]", "installed megaflows per PMD (match, packets, bytes, used, actions), or each PMD's classifier subtables" => dump_flows;
    "dump-rules", "", "rules with their counters" => |sw, a| none(a).unwrap_or_else(|| dump_rules(sw));
    "capture-start", "PORT COUNT rx|tx|both FILE", "copy packets from the fast path into a pcap (pmdswitch ctl capture wraps it)" => capture_start;
    "capture-status", "[ID]", "one capture, or every capture" => |sw, a| if a.is_empty() { capture_list(sw) } else { capture_report(sw, a, false) };
    "capture-stop", "ID", "end a capture" => |sw, a| capture_report(sw, a, true);
    "subtable-lookup-prio-set", "scalar|avx2|avx512 PRIO", "the available dpcls lookup with the highest priority runs" => super::simd::lookup_prio_set;
    "subtable-lookup-info-get", "", "dpcls lookup variants: priority, whether this CPU runs it, which is in use" => super::simd::lookup_info_get;
    "miniflow-parser-set", "scalar|avx2|avx512", "the IPv4 TCP/UDP fast-path parser" => super::simd::parser_set;
    "miniflow-parser-get", "", "parser variants and the one in use" => super::simd::parser_get;
    "packet-hash-set", "scalar|avx2|avx512", "the burst flow hash" => super::simd::hash_set;
    "packet-hash-get", "", "packet hash variants and the one in use" => super::simd::hash_get;
    "log-level", "FILTER", "change what is logged (tracing filter syntax: info, debug, pmdswitch::dpdk=debug)" => log_level;
    "version", "", "pmdswitch version" => |_, a| none(a).unwrap_or_else(|| Reply::ok(
        format!("pmdswitch {}\n", env!("CARGO_PKG_VERSION")),
        json!(env!("CARGO_PKG_VERSION")),
    ));
    "list-commands", "", "this list" => |_, a| none(a).unwrap_or_else(list_commands);
}

/// The command named `name`.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Runs one request against the switch.
pub fn execute(sw: &mut Switch, req: &Request) -> Reply {
    match find(&req.command) {
        Some(c) => (c.run)(sw, &req.args),
        None => Reply::err(format!(
            "unknown command {:?}; try list-commands",
            req.command
        )),
    }
}

/// The refusal for a command given the wrong arguments.
pub fn usage(name: &str) -> Reply {
    match find(name) {
        Some(c) => Reply::err(format!("usage: {} {}", c.name, c.args)),
        None => Reply::err(format!("unknown command {name:?}")),
    }
}

/// For a command that takes no arguments: the refusal if it got some.
fn none(args: &[String]) -> Option<Reply> {
    args.first()
        .map(|a| Reply::err(format!("unexpected argument {a:?}")))
}

fn list_commands() -> Reply {
    let mut t = String::new();
    for c in COMMANDS {
        let _ = writeln!(t, "  {:<26} {}", format!("{} {}", c.name, c.args), c.help);
    }
    Reply::ok(
        t,
        json!(COMMANDS.iter().map(|c| c.name).collect::<Vec<_>>()),
    )
}

fn rebalance(sw: &mut Switch) -> Reply {
    match sw.rebalance() {
        Ok(r) => Reply::ok(
            format!(
                "moved {} rx queues; load variance {:.3e} -> {:.3e}\n",
                r.moved, r.variance_before, r.variance_after
            ),
            json!(r),
        ),
        Err(e) => Reply::err(format!("pmd-rxq-rebalance: {e:#}")),
    }
}

fn port_show_cmd(sw: &mut Switch, args: &[String]) -> Reply {
    match args {
        [] => port_show(sw, None),
        [name] => match sw.port_index(name) {
            Some(i) => port_show(sw, Some(i)),
            None => Reply::err(format!("port-show: no port named {name:?}")),
        },
        _ => usage("port-show"),
    }
}

fn add_port(sw: &mut Switch, args: &[String]) -> Reply {
    match parse_port(args) {
        Ok(pc) => match sw.add_port(pc) {
            Ok(slot) => Reply::ok(
                format!("port {} added (index {slot})\n", args[0]),
                json!({ "index": slot }),
            ),
            Err(e) => Reply::err(format!("add-port: {e:#}")),
        },
        Err(e) => Reply::err(format!("add-port: {e}")),
    }
}

fn del_port(sw: &mut Switch, args: &[String]) -> Reply {
    let [name] = args else {
        return usage("del-port");
    };
    match sw.del_port(name) {
        Ok(()) => Reply::ok(format!("port {name} removed\n"), json!(null)),
        Err(e) => Reply::err(format!("del-port: {e:#}")),
    }
}

fn xconnect(sw: &mut Switch, args: &[String], add: bool) -> Reply {
    let cmd = if add { "add-xconnect" } else { "del-xconnect" };
    let (from, to) = match (args, add) {
        ([from, to], true) => (from, Some(to)),
        ([from], false) => (from, None),
        _ => return usage(cmd),
    };
    match sw.set_xconnect(from, to.map(String::as_str)) {
        Ok(()) => Reply::ok(
            format!("{from} -> {}\n", to.map_or("(nothing)", |t| t.as_str())),
            json!(null),
        ),
        Err(e) => Reply::err(format!("{cmd}: {e:#}")),
    }
}

fn log_level(sw: &mut Switch, args: &[String]) -> Reply {
    match (args, sw.log_setter()) {
        ([spec], Some(set)) => match set(spec) {
            Ok(()) => Reply::ok(format!("log filter: {spec}\n"), json!(spec)),
            Err(e) => Reply::err(format!("log-level: {spec:?}: {e}")),
        },
        (_, None) => Reply::err("log-level: this switch has no adjustable logger"),
        _ => usage("log-level"),
    }
}

/// `capture-status ID` (and, with `stop`, `capture-stop ID`).
fn capture_report(sw: &mut Switch, args: &[String], stop: bool) -> Reply {
    let name = if stop {
        "capture-stop"
    } else {
        "capture-status"
    };
    let Some(id) = args.first().and_then(|a| a.parse::<u64>().ok()) else {
        return usage(name);
    };
    sw.touch_capture(id);
    if stop {
        if let Err(e) = sw.stop_capture(id) {
            return Reply::err(format!("capture-stop: {e:#}"));
        }
    }
    sw.pump_captures();
    match sw.captures().iter().find(|c| c.id == id) {
        Some(c) => {
            let why = c
                .ended
                .as_deref()
                .map(|w| format!(" (ended: {w})"))
                .unwrap_or_default();
            Reply::ok(
                format!(
                    "capture {id}: {} of {} written to {}, {} missed{why}\n",
                    c.written,
                    c.wanted,
                    c.path.display(),
                    c.missed
                ),
                json!({ "id": id, "written": c.written, "wanted": c.wanted, "missed": c.missed, "done": !c.running(), "ended": c.ended, "file": c.path }),
            )
        }
        None => Reply::err(format!("no capture {id}")),
    }
}

fn add_flow(sw: &mut Switch, args: &[String]) -> Reply {
    let [text] = args else {
        return usage("add-flow");
    };
    match sw.add_flow(text) {
        Ok(()) => Reply::ok(String::new(), json!(null)),
        Err(e) => Reply::err(format!("add-flow: {e:#}")),
    }
}

fn del_flows(sw: &mut Switch, args: &[String]) -> Reply {
    let strict = args.iter().any(|a| a == "--strict");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "--strict").collect();
    let text = match rest.as_slice() {
        [] => "",
        [t] => t.as_str(),
        _ => return usage("del-flows"),
    };
    match sw.del_flows(text, strict) {
        Ok(n) => Reply::ok(format!("deleted {n} rules\n"), json!({ "deleted": n })),
        Err(e) => Reply::err(format!("del-flows: {e:#}")),
    }
}

fn dump_flows(sw: &mut Switch, args: &[String]) -> Reply {
    match args {
        [] => {}
        [a] if a == "--subtables" => return super::perf::dump_subtables(sw),
        _ => return usage("dump-flows"),
    }
    match sw.dump_flows() {
        Ok(flows) => {
            let mut t = String::new();
            let mut data = Vec::new();
            for f in &flows {
                let (m, a) = (f.match_text(), f.actions_text());
                let _ = writeln!(
                    t,
                    "pmd core {}: {m}, packets:{}, bytes:{}, used:{:.3}s, actions:{a}",
                    f.core, f.packets, f.bytes, f.used_s
                );
                data.push(json!({ "core": f.core, "match": m, "actions": a, "packets": f.packets, "bytes": f.bytes, "used_s": f.used_s }));
            }
            Reply::ok(t, json!(data))
        }
        Err(e) => Reply::err(format!("dump-flows: {e:#}")),
    }
}

fn dump_rules(sw: &mut Switch) -> Reply {
    match sw.dump_rules() {
        Ok(rules) => {
            let mut t = String::new();
            let mut data = Vec::new();
            for r in &rules {
                let _ = writeln!(t, " {r}");
                data.push(json!({
                    "table": r.table,
                    "priority": r.priority,
                    "cookie": r.cookie,
                    "n_packets": r.stats.packets.load(std::sync::atomic::Ordering::Relaxed),
                    "n_bytes": r.stats.bytes.load(std::sync::atomic::Ordering::Relaxed),
                    "text": r.to_string(),
                }));
            }
            Reply::ok(t, json!(data))
        }
        Err(e) => Reply::err(format!("dump-rules: {e:#}")),
    }
}

/// Every capture, running or ended.
fn capture_list(sw: &Switch) -> Reply {
    let mut t = String::new();
    let mut data = Vec::new();
    for c in sw.captures() {
        let state = if c.running() { "running" } else { "ended" };
        let _ = writeln!(
            t,
            "capture {}: port {} {state}, {} of {} written to {}, {} missed",
            c.id,
            c.port_name,
            c.written,
            c.wanted,
            c.path.display(),
            c.missed
        );
        data.push(json!({ "id": c.id, "port": c.port_name, "running": c.running(), "written": c.written, "wanted": c.wanted, "missed": c.missed, "ended": c.ended, "file": c.path }));
    }
    Reply::ok(t, json!(data))
}

/// The most packets one capture may ask for.
const MAX_CAPTURE: u64 = 1_000_000_000;

fn capture_start(sw: &mut Switch, args: &[String]) -> Reply {
    let [port, count, dir, file] = args else {
        return usage("capture-start");
    };
    let Some(count) = count
        .parse::<u64>()
        .ok()
        .filter(|c| (1..=MAX_CAPTURE).contains(c))
    else {
        return Reply::err(format!(
            "capture-start: {count:?} is not a count in 1..{MAX_CAPTURE}"
        ));
    };
    let dirs = match dir.as_str() {
        "rx" => crate::pmd::capture::DIR_RX,
        "tx" => crate::pmd::capture::DIR_TX,
        "both" => crate::pmd::capture::DIR_RX | crate::pmd::capture::DIR_TX,
        d => {
            return Reply::err(format!(
                "capture-start: direction {d:?} is not rx, tx or both"
            ))
        }
    };
    let path = std::path::PathBuf::from(file);
    if !path.is_absolute() {
        return Reply::err("capture-start: the file path must be absolute");
    }
    match sw.start_capture(port, dirs, count, path) {
        Ok(id) => Reply::ok(format!("capture {id} started\n"), json!({ "id": id })),
        Err(e) => Reply::err(format!("capture-start: {e:#}")),
    }
}

/// Builds a port from `NAME key=value...`, with the keys and checks of a
/// `[[port]]` table in the config file. Numbers are numbers, a
/// comma-separated `disable_features` is a list, the rest are strings.
pub fn parse_port(args: &[String]) -> Result<crate::config::PortConfig, String> {
    let (name, kvs) = args
        .split_first()
        .ok_or("usage: add-port NAME key=value...")?;
    let mut t = toml::Table::new();
    t.insert("name".into(), toml::Value::String(name.clone()));
    for kv in kvs {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("{kv:?} is not key=value"))?;
        let val = match k {
            "ofport" | "rxq" | "txq" | "rx_desc" | "tx_desc" | "mtu" => toml::Value::Integer(
                v.parse()
                    .map_err(|_| format!("{k}: {v:?} is not a number"))?,
            ),
            "disable_features" => toml::Value::Array(
                v.split(',')
                    .map(|f| toml::Value::String(f.into()))
                    .collect(),
            ),
            _ => toml::Value::String(v.into()),
        };
        t.insert(k.into(), val);
    }
    let pc: crate::config::PortConfig = t
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    pc.validate(name).map_err(|e| e.to_string())?;
    Ok(pc)
}

pub(super) fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// Per-PMD counters since the last `pmd-stats-clear`, in OVS's words where
/// they mean the same.
pub fn pmd_stats_show(sw: &Switch) -> Reply {
    let mut t = String::new();
    let mut data = Vec::new();
    for (p, s) in sw.pmds().iter().zip(sw.pmd_snapshots()) {
        let (rx, busy, idle, sleep) = (s.rx_packets, s.busy_cycles, s.idle_cycles, s.sleep_cycles);
        let total = busy + idle + sleep;
        let per = |c: u64| if rx == 0 { 0.0 } else { c as f64 / rx as f64 };
        let drops: serde_json::Map<String, serde_json::Value> = DropReason::ALL
            .iter()
            .map(|r| (r.name().to_string(), json!(s.drops[*r as usize])))
            .collect();
        let numa = sw.topology().node_of(p.stats.core).unwrap_or(-1);
        let _ = writeln!(t, "pmd thread numa_id {numa} core {}:", p.stats.core);
        let _ = writeln!(t, "  packets received: {rx}");
        let _ = writeln!(t, "  packets sent: {}", s.tx_packets);
        let _ = writeln!(t, "  packets dropped: {}", s.total_drops());
        for (n, v) in &drops {
            let _ = writeln!(t, "    {n}: {v}");
        }
        let avg_sub = if s.megaflow_hits == 0 {
            0.0
        } else {
            s.subtable_lookups as f64 / s.megaflow_hits as f64
        };
        let _ = writeln!(t, "  simple match hits: {}", s.simple_hits);
        let _ = writeln!(t, "  emc hits: {}", s.emc_hits);
        let _ = writeln!(t, "  smc hits: {}", s.smc_hits);
        let _ = writeln!(t, "  megaflow hits: {}", s.megaflow_hits);
        let _ = writeln!(t, "  avg. subtable lookups per megaflow hit: {avg_sub:.2}");
        let _ = writeln!(t, "  miss with success upcall: {}", s.upcalls);
        let _ = writeln!(
            t,
            "  miss with failed upcall: {}",
            s.drops[DropReason::UpcallFailed as usize]
        );
        let _ = writeln!(t, "  partly parsed packets: {}", s.partial_parse);
        let _ = writeln!(
            t,
            "  upcalls past the flow limit (not installed): {}",
            s.uninstalled
        );
        let _ = writeln!(t, "  iterations: {}", s.iterations);
        let _ = writeln!(t, "  idle cycles: {idle} ({:.2}%)", pct(idle, total));
        let _ = writeln!(t, "  processing cycles: {busy} ({:.2}%)", pct(busy, total));
        let _ = writeln!(
            t,
            "  sleep time: {:.0} us ({:.2}%)",
            sleep as f64 * 1e6 / sw.tsc_hz().max(1) as f64,
            pct(sleep, total)
        );
        let _ = writeln!(t, "  avg cycles per packet: {:.2}", per(total));
        let _ = writeln!(t, "  avg processing cycles per packet: {:.2}", per(busy));
        data.push(json!({
            "core": p.stats.core,
            "numa": numa,
            "packets_received": rx,
            "packets_sent": s.tx_packets,
            "packets_dropped": s.total_drops(),
            "drops": drops,
            "simple_match_hits": s.simple_hits,
            "emc_hits": s.emc_hits,
            "smc_hits": s.smc_hits,
            "megaflow_hits": s.megaflow_hits,
            "avg_subtable_lookups_per_megaflow_hit": avg_sub,
            "upcalls": s.upcalls,
            "partial_parse": s.partial_parse,
            "uninstalled_upcalls": s.uninstalled,
            "iterations": s.iterations,
            "idle_cycles": idle,
            "processing_cycles": busy,
            "sleep_cycles": sleep,
            "sleep_us": sleep as f64 * 1e6 / sw.tsc_hz().max(1) as f64,
            "avg_cycles_per_packet": per(total),
            "avg_processing_cycles_per_packet": per(busy),
        }));
    }
    Reply::ok(t, json!({ "tsc_hz": sw.tsc_hz(), "pmds": data }))
}

/// `pmd-set key=value...`: changes the PMD loop settings on every PMD.
fn pmd_set(sw: &mut Switch, args: &[String]) -> Reply {
    if args.is_empty() {
        return usage("pmd-set");
    }
    let mut s = sw.settings();
    let mut cores = None;
    for kv in args {
        let Some((k, v)) = kv.split_once('=') else {
            return Reply::err(format!("pmd-set: {kv:?} is not key=value"));
        };
        match k {
            "cores" => match super::reconfig::parse_core_list(v) {
                Ok(c) => cores = Some(c),
                Err(e) => return Reply::err(format!("pmd-set: cores: {e}")),
            },
            "cpu_mask" => match crate::config::parse_cpu_mask(v) {
                Ok(c) => cores = Some(c),
                Err(e) => return Reply::err(format!("pmd-set: cpu_mask: {e}")),
            },
            _ => {
                let Ok(n) = v.parse::<u32>() else {
                    return Reply::err(format!("pmd-set: {k}: {v:?} is not a number"));
                };
                match k {
                    "tx_flush_interval_us" if n <= 1_000_000 => s.tx_flush_interval_us = n,
                    "max_sleep_us" if n <= 10_000 => s.max_sleep_us = n,
                    "stage_cycles" if n <= 1 => s.stage_cycles = n == 1,
                    "stage_cycles" => return Reply::err("pmd-set: stage_cycles: 0 or 1"),
                    "tx_flush_interval_us" => {
                        return Reply::err("pmd-set: tx_flush_interval_us: at most 1000000")
                    }
                    "max_sleep_us" => return Reply::err("pmd-set: max_sleep_us: at most 10000"),
                    _ => return Reply::err(format!("pmd-set: unknown setting {k:?}")),
                }
            }
        }
    }
    if let Some(c) = &cores {
        if let Err(e) = sw.set_pmd_cores(c) {
            return Reply::err(format!("pmd-set: {e:#}"));
        }
    }
    match sw.set_settings(s) {
        Ok(()) => Reply::ok(
            format!(
                "tx_flush_interval_us={} max_sleep_us={} stage_cycles={} cores={:?}\n",
                s.tx_flush_interval_us,
                s.max_sleep_us,
                s.stage_cycles as u8,
                sw.cores()
            ),
            json!({
                "tx_flush_interval_us": s.tx_flush_interval_us,
                "max_sleep_us": s.max_sleep_us,
                "stage_cycles": s.stage_cycles,
                "cores": sw.cores(),
            }),
        ),
        Err(e) => Reply::err(format!("pmd-set: {e:#}")),
    }
}

/// Port counters: the PMDs' (what the switch did) and the device's.
pub fn port_show(sw: &Switch, only: Option<usize>) -> Reply {
    let mut t = String::new();
    let mut data = Vec::new();
    for (i, p) in sw.live_ports() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let sum = |f| sw.port_counter(i, f);
        let (rx, tx, txd, mtud) = (
            sum(|c| c.rx.get()),
            sum(|c| c.tx.get()),
            sum(|c| c.tx_dropped.get()),
            sum(|c| c.tx_mtu_dropped.get()),
        );
        let dev = p.port().stats();
        let det = p.port().details();
        let _ = writeln!(
            t,
            "port {} ({}): ofport {} type {}",
            i,
            p.name(),
            p.ofport(),
            p.port().kind()
        );
        let _ = writeln!(
            t,
            "  driver {} devargs {}",
            det["driver"].as_str().unwrap_or("?"),
            det["devargs"].as_str().unwrap_or("?")
        );
        let _ = writeln!(
            t,
            "  mac {} mtu {} link {} rxq {} txq {}",
            det["mac"].as_str().unwrap_or("?"),
            det["mtu"],
            if det["link"]["up"].as_bool().unwrap_or(false) {
                "up"
            } else {
                "down"
            },
            det["rx_queues"],
            det["tx_queues"]
        );
        if let Some(v) = det.get("vhost") {
            let _ = writeln!(
                t,
                "  vhost-user {} {}: {} vid {} features {:#x} [{}] vrings {} enabled {:#b} connects {} disconnects {} guest notifications {}",
                v["mode"].as_str().unwrap_or("?"),
                v["path"].as_str().unwrap_or("?"),
                if v["connected"].as_bool().unwrap_or(false) { "connected" } else { "not connected" },
                v["vid"],
                v["features"].as_u64().unwrap_or(0),
                v["feature_names"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(",")).unwrap_or_default(),
                v["guest_vrings"],
                v["enabled_vrings"].as_u64().unwrap_or(0),
                v["connects"],
                v["disconnects"],
                v["guest_notifications"],
            );
            if let Some(qs) = v["queues"].as_array() {
                for (q, c) in qs.iter().enumerate() {
                    let _ = writeln!(
                        t,
                        "    queue {q}: from guest {} to guest {} guest ring full {}",
                        c[0], c[1], c[2]
                    );
                }
            }
        }
        let _ = writeln!(
            t,
            "  rx packets: {rx}  tx packets: {tx}  tx dropped: {txd} (over MTU: {mtud})"
        );
        let pool = sw.pools().of_user(p.name());
        let (episodes, exhausted_ms) = pool.map_or((0, 0), |e| {
            (e.exhausted_episodes, e.exhausted_time().as_millis() as u64)
        });
        if episodes > 0 {
            let _ = writeln!(
                t,
                "  its mempool ran out {episodes} times, {exhausted_ms} ms in all: nothing received meanwhile"
            );
        }
        let _ = writeln!(
            t,
            "  device: rx {} tx {} rx_missed {} rx_errors {} tx_errors {} rx_nombuf {}",
            dev.rx_packets,
            dev.tx_packets,
            dev.rx_missed,
            dev.rx_errors,
            dev.tx_errors,
            dev.rx_nombuf
        );
        data.push(json!({
            "index": i,
            "name": p.name(),
            "ofport": p.ofport(),
            "type": p.port().kind(),
            "details": det,
            "rx_packets": rx,
            "tx_packets": tx,
            "tx_dropped": txd,
            "tx_mtu_dropped": mtud,
            "device": dev,
            "mempool_exhausted_episodes": episodes,
            "mempool_exhausted_ms": exhausted_ms,
        }));
    }
    Reply::ok(t, json!(data))
}

/// Rx queue placement, with each queue's share of its PMD's cycles over the
/// load window (the last ten seconds).
pub fn pmd_rxq_show(sw: &Switch) -> Reply {
    let mut t = String::new();
    let mut data = Vec::new();
    let loads = sw.balance().loads();
    for (k, p) in sw.pmds().iter().enumerate() {
        let total = loads.pmd_cycles(k);
        let busy = loads.pmd_busy_pct(k);
        let numa = sw.topology().node_of(p.stats.core).unwrap_or(-1);
        let _ = writeln!(t, "pmd thread numa_id {numa} core {}:", p.stats.core);
        let _ = writeln!(t, "  busy: {busy:.0} %");
        let mut qs = Vec::new();
        for q in &p.polls {
            let name = sw.port(q.port).map_or("(removed)", |e| e.name());
            let pinned = sw.port(q.port).is_some_and(|e| e.is_pinned(q.queue));
            let usage = pct(loads.rxq_load((q.port, q.queue)), total);
            let _ = writeln!(
                t,
                "  port: {name:<16} queue-id: {:>2} {} pmd usage: {usage:>3.0} %",
                q.queue,
                if pinned { "(pinned)" } else { "        " }
            );
            qs.push(json!({ "port": name, "queue": q.queue, "pinned": pinned, "usage_pct": usage, "packets": q.stats.packets.get() }));
        }
        data.push(json!({ "core": p.stats.core, "numa": numa, "busy_pct": busy, "queues": qs }));
    }
    let b = sw.balance();
    let _ = writeln!(
        t,
        "rxq assignment: {}; auto load balance: {} (threshold {} %, improvement {} %, every {} s; {} runs moved {} queues)",
        b.cfg().rxq_assign.name(),
        if b.cfg().auto_lb { "on" } else { "off" },
        b.cfg().auto_lb_load_threshold,
        b.cfg().auto_lb_improvement_threshold,
        b.cfg().auto_lb_interval_s,
        b.runs(),
        b.moves()
    );
    Reply::ok(
        t,
        json!({ "pmds": data, "rxq_assign": b.cfg().rxq_assign.name(), "auto_lb": b.cfg().auto_lb, "auto_lb_runs": b.runs(), "auto_lb_moves": b.moves() }),
    )
}

/// Mempools and who shares them.
pub fn mempool_show(sw: &Switch) -> Reply {
    let mut t = String::new();
    let mut data = Vec::new();
    for e in sw.pools().entries() {
        let p = &e.pool;
        let buf = crate::dpdk::mempool::buffer_size_for_mtu(e.mtu);
        let _ = writeln!(
            t,
            "mempool {}: socket {} mtu {} data room {} buffer {} bytes, {} mbufs, {} in use (baseline {}), ports: {}",
            p.name(),
            p.socket(),
            e.mtu,
            p.data_room(),
            buf,
            p.count(),
            p.in_use(),
            e.baseline_in_use,
            e.users.join(", ")
        );
        let exhausted_ms = e.exhausted_time().as_millis() as u64;
        let _ = writeln!(
            t,
            "  exhausted: {} ({} episodes, {exhausted_ms} ms in all)",
            if e.exhausted_since.is_some() {
                "yes"
            } else {
                "no"
            },
            e.exhausted_episodes,
        );
        data.push(json!({
            "name": p.name(),
            "socket": p.socket(),
            "mtu": e.mtu,
            "data_room": p.data_room(),
            "buffer_size": buf,
            "mbufs": p.count(),
            "in_use": p.in_use(),
            "baseline_in_use": e.baseline_in_use,
            "ports": e.users,
            "exhausted": e.exhausted_since.is_some(),
            "exhausted_episodes": e.exhausted_episodes,
            "exhausted_ms": exhausted_ms,
        }));
    }
    Reply::ok(t, json!(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_serves_dispatch_list_and_usage() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        // Dispatch finds every listed command, and only those.
        for n in &names {
            assert_eq!(find(n).map(|c| c.name), Some(*n));
        }
        assert!(find("no-such-command").is_none());
        // list-commands lists exactly the table, in order.
        let listed = list_commands();
        assert!(listed.ok);
        assert_eq!(listed.data, json!(names));
        for c in COMMANDS {
            assert!(listed.text.contains(c.help), "{}", c.name);
            assert!(usage(c.name)
                .text
                .starts_with(&format!("usage: {}", c.name)));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len(), "a command is listed twice");
    }

    #[test]
    fn the_readme_documents_every_command() {
        let readme = include_str!("../../README.md");
        for c in COMMANDS {
            assert!(
                readme.contains(&format!("`{}", c.name)),
                "README.md does not mention `{}`",
                c.name
            );
        }
    }
}
