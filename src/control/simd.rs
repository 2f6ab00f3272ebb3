//! The SIMD commands, after OVS's `dpif-netdev/subtable-lookup-prio-set`,
//! `subtable-lookup-info-get`, `miniflow-parser-set` and
//! `miniflow-parser-get`, plus the same pair for the packet hash. Each set
//! reaches every PMD at the top of its next loop.
use super::commands::usage;
use super::Reply;
use crate::simd::{Isa, Kernel, SimdConfig};
use crate::switch::Switch;
use serde_json::json;
use std::fmt::Write;

/// Hands the changed settings to the switch (which posts them to every PMD).
fn apply(sw: &mut Switch, name: &str, r: Result<(), String>, cfg: SimdConfig) -> Reply {
    match r {
        Err(e) => Reply::err(format!("{name}: {e}")),
        Ok(()) => match sw.set_simd(cfg.clone()) {
            Ok(()) => Reply::ok(String::new(), json!(cfg.choice())),
            Err(e) => Reply::err(format!("{name}: {e:#}")),
        },
    }
}

/// `subtable-lookup-prio-set scalar|avx2|avx512 PRIO`.
pub fn lookup_prio_set(sw: &mut Switch, args: &[String]) -> Reply {
    let [name, prio] = args else {
        return usage("subtable-lookup-prio-set");
    };
    let mut cfg = sw.simd_config();
    let r = cfg.set_lookup_prio(name, prio);
    apply(sw, "subtable-lookup-prio-set", r, cfg)
}

/// `miniflow-parser-set scalar|avx2|avx512`.
pub fn parser_set(sw: &mut Switch, args: &[String]) -> Reply {
    set_kernel(sw, args, Kernel::Parser, "miniflow-parser-set")
}

/// `packet-hash-set scalar|avx2|avx512`.
pub fn hash_set(sw: &mut Switch, args: &[String]) -> Reply {
    set_kernel(sw, args, Kernel::Hash, "packet-hash-set")
}

fn set_kernel(sw: &mut Switch, args: &[String], k: Kernel, name: &str) -> Reply {
    let [variant] = args else {
        return usage(name);
    };
    let mut cfg = sw.simd_config();
    let r = cfg.set(k, variant);
    apply(sw, name, r, cfg)
}

/// `subtable-lookup-info-get`.
pub fn lookup_info_get(sw: &mut Switch, args: &[String]) -> Reply {
    get_kernel(sw, args, Kernel::Lookup, "subtable-lookup-info-get")
}

/// `miniflow-parser-get`.
pub fn parser_get(sw: &mut Switch, args: &[String]) -> Reply {
    get_kernel(sw, args, Kernel::Parser, "miniflow-parser-get")
}

/// `packet-hash-get`.
pub fn hash_get(sw: &mut Switch, args: &[String]) -> Reply {
    get_kernel(sw, args, Kernel::Hash, "packet-hash-get")
}

fn get_kernel(sw: &mut Switch, args: &[String], k: Kernel, name: &str) -> Reply {
    if !args.is_empty() {
        return usage(name);
    }
    info(&sw.simd_config(), k)
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
