//! The commands `ovs-appctl` may send, with OVS's names, arguments and
//! refusals. Each runs on the main loop against the same switch API as
//! `pmdswitch ctl`; [`COMMANDS`] is the only list (dispatch and
//! `list-commands` read it).
use super::{format, Context};
use crate::control::{commands as ctl, Request};
use crate::datapath::dump::FlowDump;
use crate::switch::Switch;
use std::fmt::Write;

/// Runs a command with its arguments.
type Run = fn(&mut Switch, &Context, &[String]) -> Result<String, String>;

/// One unixctl command.
pub struct AppctlCommand {
    /// Its name, as OVS spells it.
    pub name: &'static str,
    /// Its arguments, as `list-commands` shows them.
    pub usage: &'static str,
    /// Fewest arguments.
    pub min: usize,
    /// Most arguments.
    pub max: usize,
    run: Run,
}

const fn cmd(
    name: &'static str,
    usage: &'static str,
    min: usize,
    max: usize,
    run: Run,
) -> AppctlCommand {
    AppctlCommand {
        name,
        usage,
        min,
        max,
        run,
    }
}

/// Every command served.
pub const COMMANDS: &[AppctlCommand] = &[
    cmd(
        "dpif-netdev/pmd-stats-show",
        "[-pmd core] [dp]",
        0,
        3,
        pmd_stats_show,
    ),
    cmd(
        "dpif-netdev/pmd-stats-clear",
        "[-pmd core] [dp]",
        0,
        3,
        pmd_stats_clear,
    ),
    cmd(
        "dpif-netdev/pmd-rxq-show",
        "[-pmd core] [dp]",
        0,
        3,
        pmd_rxq_show,
    ),
    cmd(
        "dpif-netdev/pmd-perf-show",
        "[-pmd core] [dp]",
        0,
        3,
        pmd_perf_show,
    ),
    cmd(
        "dpif-netdev/pmd-rxq-rebalance",
        "[dp]",
        0,
        1,
        pmd_rxq_rebalance,
    ),
    cmd(
        "dpif-netdev/subtable-lookup-info-get",
        "[dp]",
        0,
        1,
        |sw, _, _| via_ctl(sw, "subtable-lookup-info-get", &[]),
    ),
    cmd(
        "dpif-netdev/subtable-lookup-prio-set",
        "name priority",
        2,
        2,
        |sw, _, a| via_ctl(sw, "subtable-lookup-prio-set", a),
    ),
    cmd("dpif-netdev/miniflow-parser-get", "", 0, 0, |sw, _, _| {
        via_ctl(sw, "miniflow-parser-get", &[])
    }),
    cmd("dpctl/dump-flows", "[-m] [dp]", 0, 2, dump_flows),
    cmd("dpctl/show", "[-s] [dp]", 0, 2, dpctl_show),
    cmd("fdb/show", "bridge", 1, 1, fdb_show),
    cmd("fdb/flush", "[bridge]", 0, 1, fdb_flush),
    cmd("ofproto/trace", "bridge br_flow", 2, 2, trace),
    cmd(
        "vlog/set",
        "{spec | PATTERN:destination:pattern}",
        0,
        3,
        vlog_set,
    ),
    cmd("vlog/list", "", 0, 0, vlog_list),
    cmd("version", "", 0, 0, |_, _, _| {
        Ok(format!(
            "ovs-vswitchd (pmdswitch) {}\n",
            env!("CARGO_PKG_VERSION")
        ))
    }),
    cmd("list-commands", "", 0, 0, |_, _, _| Ok(list_commands())),
    // The connection raises the stop flag once this answer is written.
    cmd("exit", "[--cleanup]", 0, 1, |_, _, a| match a {
        [] => Ok(String::new()),
        [c] if c == "--cleanup" => Ok(String::new()),
        [o] => Err(format!("unknown option {o:?}")),
        _ => Err("\"exit\" command takes at most 1 arguments".into()),
    }),
];

/// The command named `name`.
pub fn find(name: &str) -> Option<&'static AppctlCommand> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Runs `method` with `params`, refusing unknown commands and argument
/// counts as OVS words it.
pub fn execute(
    sw: &mut Switch,
    ctx: &Context,
    method: &str,
    params: &[String],
) -> Result<String, String> {
    let Some(c) = find(method) else {
        return Err(format!(
            "\"{method}\" is not a valid command (use \"list-commands\" to see a list of valid commands)"
        ));
    };
    if params.len() < c.min {
        return Err(format!(
            "\"{method}\" command requires at least {} arguments",
            c.min
        ));
    }
    if params.len() > c.max {
        return Err(format!(
            "\"{method}\" command takes at most {} arguments",
            c.max
        ));
    }
    (c.run)(sw, ctx, params)
}

fn list_commands() -> String {
    let mut t = String::from("The available commands are:\n");
    for c in COMMANDS {
        let _ = writeln!(t, "  {:<32}{}", c.name, c.usage);
    }
    t
}

/// A ctl command's reply: its text, or its refusal.
fn via_ctl(sw: &mut Switch, command: &str, args: &[String]) -> Result<String, String> {
    let r = ctl::execute(
        sw,
        &Request {
            command: command.into(),
            args: args.to_vec(),
        },
    );
    if r.ok {
        Ok(r.text)
    } else {
        Err(r.text)
    }
}

/// A ctl command's data.
fn ctl_data(sw: &mut Switch, command: &str) -> Result<serde_json::Value, String> {
    let r = ctl::execute(
        sw,
        &Request {
            command: command.into(),
            args: Vec::new(),
        },
    );
    if r.ok {
        Ok(r.data)
    } else {
        Err(r.text)
    }
}

/// The datapath name OVS gives the userspace datapath; the only one here.
const DP_NAME: &str = "netdev@ovs-netdev";

/// `[-pmd core] [dp]`: which PMDs to show.
fn pmd_filter(args: &[String]) -> Result<Option<u64>, String> {
    let mut core = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-pmd" => {
                let v = it.next().ok_or("Invalid pmd core id")?;
                core = Some(v.parse().map_err(|_| "Invalid pmd core id".to_string())?);
            }
            dp if dp == DP_NAME || dp == "ovs-netdev" => {}
            other => return Err(format!("No such datapath: {other}")),
        }
    }
    Ok(core)
}

fn pmd_stats_show(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    let core = pmd_filter(a)?;
    let data = ctl_data(sw, "pmd-stats-show")?;
    Ok(format::pmd_stats(&data, |c| core.is_none_or(|k| k == c)))
}

fn pmd_stats_clear(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    pmd_filter(a)?;
    sw.clear_pmd_stats();
    Ok(String::new())
}

fn pmd_rxq_show(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    let core = pmd_filter(a)?;
    let data = ctl_data(sw, "pmd-rxq-show")?;
    Ok(format::pmd_rxq(&data, |c| core.is_none_or(|k| k == c)))
}

fn pmd_perf_show(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    pmd_filter(a)?;
    via_ctl(sw, "pmd-perf-show", &[])
}

fn pmd_rxq_rebalance(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    pmd_filter(a)?;
    sw.rebalance().map_err(|e| format!("{e:#}"))?;
    Ok("pmd rxq rebalance requested.\n".into())
}

fn dump_flows(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    for x in a {
        if x != "-m" && x != "--more" && x != DP_NAME {
            return Err(format!("No such datapath or option: {x}"));
        }
    }
    let mut flows: Vec<FlowDump> = sw.dump_flows().map_err(|e| format!("{e:#}"))?;
    flows.sort_by_key(|f| f.core);
    let mut t = String::new();
    let mut last = None;
    for f in &flows {
        if last != Some(f.core) {
            let _ = writeln!(t, "flow-dump from pmd on cpu core: {}", f.core);
            last = Some(f.core);
        }
        let _ = writeln!(t, "{}", format::odp_flow_line(f));
    }
    Ok(t)
}

fn dpctl_show(sw: &mut Switch, _: &Context, a: &[String]) -> Result<String, String> {
    for x in a {
        if x != "-s" && x != DP_NAME {
            return Err(format!("No such datapath or option: {x}"));
        }
    }
    let stats = ctl_data(sw, "pmd-stats-show")?;
    let empty = Vec::new();
    let pmds = stats["pmds"].as_array().unwrap_or(&empty);
    let sum = |k: &str| pmds.iter().map(|p| p[k].as_u64().unwrap_or(0)).sum::<u64>();
    let hit = sum("simple_match_hits") + sum("emc_hits") + sum("smc_hits") + sum("megaflow_hits");
    let flows = sw.dump_flows().map_err(|e| format!("{e:#}"))?.len();
    let mut t = format!("{DP_NAME}:\n");
    let _ = writeln!(
        t,
        "  lookups: hit:{hit} missed:{} lost:{}\n  flows: {flows}",
        sum("upcalls"),
        pmds.iter()
            .map(|p| p["drops"]["upcall_failed"].as_u64().unwrap_or(0))
            .sum::<u64>()
    );
    let mut ports = sw.port_infos();
    ports.sort_by_key(|p| p.ofport);
    for p in &ports {
        let _ = writeln!(t, "  port {}: {} (dpdk)", p.ofport, p.name);
        if a.iter().any(|x| x == "-s") {
            let _ = writeln!(
                t,
                "    RX packets:{} errors:{} dropped:{}\n    TX packets:{} errors:{} dropped:{}",
                p.rx_packets,
                p.device.rx_errors,
                p.device.rx_missed + p.device.rx_nombuf,
                p.tx_packets,
                p.device.tx_errors,
                p.tx_dropped
            );
        }
    }
    Ok(t)
}

fn check_bridge(ctx: &Context, name: &str) -> Result<(), String> {
    if name == ctx.bridge {
        Ok(())
    } else {
        Err("no such bridge".into())
    }
}

fn fdb_show(sw: &mut Switch, ctx: &Context, a: &[String]) -> Result<String, String> {
    check_bridge(ctx, &a[0])?;
    let mut t = String::from(" port  VLAN  MAC                Age\n");
    for e in sw.mac_table() {
        let (b, port, vlan, age) = (e.mac.to_be_bytes(), e.port, e.vlan, e.age_s);
        let _ = writeln!(
            t,
            "{port:>5}  {vlan:>4}  {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}  {age:>3}",
            b[2], b[3], b[4], b[5], b[6], b[7]
        );
    }
    Ok(t)
}

fn fdb_flush(sw: &mut Switch, ctx: &Context, a: &[String]) -> Result<String, String> {
    if let [br] = a {
        check_bridge(ctx, br)?;
    }
    sw.flush_macs().map_err(|e| format!("{e:#}"))?;
    Ok("table successfully flushed".into())
}

fn trace(sw: &mut Switch, ctx: &Context, a: &[String]) -> Result<String, String> {
    check_bridge(ctx, &a[0])?;
    let spec = crate::ofproto::parse::parse_match(&a[1]).map_err(|e| format!("{}: {e}", a[1]))?;
    let key = spec.m.key;
    let x = sw.trace(&key);
    let mut t = format!(
        "Flow: {}\n\nbridge(\"{}\")\n-------------\n",
        a[1], ctx.bridge
    );
    if x.rules.is_empty() {
        t += " No match.\n";
    }
    for r in &x.rules {
        let _ = writeln!(t, " {}. {r}", r.table);
    }
    let masked = key.masked(&x.mask);
    let mf = FlowDump {
        core: 0,
        key: masked,
        mask: x.mask,
        actions: x.actions.clone(),
        packets: 0,
        bytes: 0,
        used_s: 0.0,
    };
    let _ = write!(
        t,
        "\nFinal flow: unchanged\nMegaflow: {}\n",
        mf.match_text()
    );
    if let Some(e) = x.error {
        let _ = writeln!(t, "Translation failed ({e}), so the datapath drops.");
    }
    let _ = writeln!(t, "Datapath actions: {}", mf.actions_text());
    Ok(t)
}

/// OVS log levels and the tracing level each stands for.
const LEVELS: &[(&str, &str)] = &[
    ("off", "off"),
    ("emer", "error"),
    ("err", "error"),
    ("warn", "warn"),
    ("info", "info"),
    ("dbg", "debug"),
];

/// `vlog/set` in OVS's `module:destination:level` form (any order, any
/// part omitted, `ANY` for all): pmdswitch logs to one place, so the
/// destination is accepted and ignored; a module is a pmdswitch module
/// (`ofchannel`, `pmd`, ...) or `ANY`.
fn vlog_set(sw: &mut Switch, ctx: &Context, a: &[String]) -> Result<String, String> {
    let words: Vec<&str> = a
        .iter()
        .flat_map(|s| s.split([':', ' ']))
        .filter(|w| !w.is_empty())
        .collect();
    let (mut module, mut level) = (None, None);
    for w in &words {
        let lw = w.to_ascii_lowercase();
        if let Some((_, l)) = LEVELS.iter().find(|(o, _)| *o == lw) {
            level = Some(*l);
        } else if ["any", "console", "syslog", "file"].contains(&lw.as_str()) {
        } else if module.is_none() {
            module = Some(w.to_string());
        } else {
            return Err(format!("{w}: unknown module, destination or level"));
        }
    }
    let Some(level) = level else {
        return Err("a log level (off, emer, err, warn, info, dbg) is required".into());
    };
    let Some(set) = sw.log_setter() else {
        return Err("this switch has no adjustable logger".into());
    };
    let mut levels = ctx.levels.lock().unwrap_or_else(|e| e.into_inner());
    match module {
        None => {
            levels.clear();
            levels.insert(String::new(), level.to_string());
        }
        Some(m) => {
            let target = if m.starts_with("pmdswitch") {
                m
            } else {
                format!("pmdswitch::{m}")
            };
            levels.insert(target, level.to_string());
        }
    }
    let spec = levels
        .iter()
        .map(|(m, l)| {
            if m.is_empty() {
                l.clone()
            } else {
                format!("{m}={l}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    set(&spec)?;
    Ok(String::new())
}

fn vlog_list(_: &mut Switch, ctx: &Context, _: &[String]) -> Result<String, String> {
    let levels = ctx.levels.lock().unwrap_or_else(|e| e.into_inner());
    let default = levels.get("").cloned().unwrap_or_else(|| "info".into());
    let ovs = |l: &str| match l {
        "off" => "OFF",
        "error" => "ERR",
        "warn" => "WARN",
        "debug" | "trace" => "DBG",
        _ => "INFO",
    };
    let mut t = String::from("                 console    syslog    file\n                 -------    ------    ------\n");
    for m in super::MODULES {
        let l = levels.get(&format!("pmdswitch::{m}")).unwrap_or(&default);
        let _ = writeln!(t, "{m:<19}{:<11}OFF       OFF", ovs(l));
    }
    Ok(t)
}
