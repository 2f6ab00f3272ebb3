//! The SIMD commands, after OVS's `dpif-netdev/subtable-lookup-prio-set`,
//! `subtable-lookup-info-get`, `miniflow-parser-set` and
//! `miniflow-parser-get`, plus the same pair for the packet hash. Each set
//! reaches every PMD at the top of its next loop.
use super::Reply;
use crate::simd::{Isa, Kernel, SimdConfig};
use crate::switch::Switch;
use serde_json::json;
use std::fmt::Write;

/// The commands, with a one-line description each.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "subtable-lookup-prio-set",
        "subtable-lookup-prio-set scalar|avx2|avx512 PRIO: the available dpcls lookup with the highest priority runs",
    ),
    (
        "subtable-lookup-info-get",
        "dpcls lookup variants: priority, whether this CPU runs it, which is in use",
    ),
    (
        "miniflow-parser-set",
        "miniflow-parser-set scalar|avx2|avx512: the IPv4 TCP/UDP fast-path parser",
    ),
    ("miniflow-parser-get", "parser variants and the one in use"),
    (
        "packet-hash-set",
        "packet-hash-set scalar|avx2|avx512: the burst flow hash",
    ),
    ("packet-hash-get", "packet hash variants and the one in use"),
];

/// Runs `command` if it is one of [`COMMANDS`].
pub fn execute(sw: &mut Switch, command: &str, args: &[String]) -> Option<Reply> {
    let mut cfg = sw.simd_config();
    let set = |r: Result<(), String>, cfg: SimdConfig, sw: &mut Switch| match r {
        Err(e) => Reply::err(format!("{command}: {e}")),
        Ok(()) => match sw.set_simd(cfg.clone()) {
            Ok(()) => Reply::ok(String::new(), json!(cfg.choice())),
            Err(e) => Reply::err(format!("{command}: {e:#}")),
        },
    };
    Some(match (command, args) {
        ("subtable-lookup-prio-set", [name, prio]) => {
            let r = cfg.set_lookup_prio(name, prio);
            set(r, cfg, sw)
        }
        ("subtable-lookup-info-get", []) => info(&cfg, Kernel::Lookup),
        ("miniflow-parser-set", [name]) => {
            let r = cfg.set(Kernel::Parser, name);
            set(r, cfg, sw)
        }
        ("miniflow-parser-get", []) => info(&cfg, Kernel::Parser),
        ("packet-hash-set", [name]) => {
            let r = cfg.set(Kernel::Hash, name);
            set(r, cfg, sw)
        }
        ("packet-hash-get", []) => info(&cfg, Kernel::Hash),
        _ => {
            let (_, usage) = COMMANDS.iter().find(|(c, _)| *c == command)?;
            Reply::err(format!("usage: {usage}"))
        }
    })
}

/// Each variant of kernel `k`: (for the lookup) its priority, whether this
/// CPU runs it, and which one the PMDs run.
fn info(cfg: &SimdConfig, k: Kernel) -> Reply {
    let choice = cfg.choice();
    let used = match k {
        Kernel::Hash => choice.hash,
        Kernel::Lookup => choice.lookup,
        Kernel::Parser => choice.parser,
    };
    let mut text = String::new();
    let mut rows = Vec::new();
    for isa in Isa::ALL {
        let mut notes = Vec::new();
        if k == Kernel::Lookup {
            notes.push(format!("priority {}", cfg.lookup_priority(isa)));
        }
        notes.push(if isa.available(k) {
            "available".to_string()
        } else {
            format!("not available: CPU lacks {}", isa.needs(k))
        });
        if isa == used {
            notes.push("in use".into());
        }
        let _ = writeln!(text, "  {isa} ({})", notes.join(", "));
        rows.push(json!({
            "name": isa.name(),
            "available": isa.available(k),
            "in_use": isa == used,
            "priority": (k == Kernel::Lookup).then(|| cfg.lookup_priority(isa)),
        }));
    }
    Reply::ok(text, json!({ "in_use": used, "variants": rows }))
}
