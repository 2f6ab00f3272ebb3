//! Control commands that reconfigure the running switch: `port-set`,
//! `reload`, and the core list of `pmd-set`.
use super::Reply;
use crate::config::{Config, MAX_CORES};
use crate::switch::{PortChange, Switch};
use serde_json::json;

/// Parses "1,2,4-6" into cores. Numbers are checked against
/// [`MAX_CORES`] before a range is expanded, so no list can grow past it.
pub fn parse_core_list(s: &str) -> Result<Vec<usize>, String> {
    let mut cores = Vec::new();
    for part in s.split(',').map(str::trim) {
        let num = |t: &str| {
            t.parse::<usize>()
                .ok()
                .filter(|c| *c < MAX_CORES)
                .ok_or_else(|| format!("{t:?} is not a core number (0..{})", MAX_CORES - 1))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("range {part:?} runs backwards"));
                }
                cores.extend(a..=b);
            }
            None => cores.push(num(part)?),
        }
        if cores.len() > MAX_CORES {
            return Err(format!("more than {MAX_CORES} cores listed"));
        }
    }
    Ok(cores)
}

/// `port-set NAME mtu=N rxq=N txq=N`.
pub fn port_set(sw: &mut Switch, args: &[String]) -> Reply {
    let Some((name, kvs)) = args.split_first() else {
        return super::commands::usage("port-set");
    };
    if kvs.is_empty() {
        return Reply::err("port-set: nothing to change (mtu=N, rxq=N, txq=N)");
    }
    let mut change = PortChange::default();
    for kv in kvs {
        let Some((k, v)) = kv.split_once('=') else {
            return Reply::err(format!("port-set: {kv:?} is not key=value"));
        };
        let Ok(n) = v.parse::<u16>() else {
            return Reply::err(format!("port-set: {k}: {v:?} is not a number up to 65535"));
        };
        match k {
            "mtu" => change.mtu = Some(n),
            "rxq" => change.rxq = Some(n),
            "txq" => change.txq = Some(n),
            _ => return Reply::err(format!("port-set: unknown setting {k:?}")),
        }
    }
    match sw.set_port_options(name, change) {
        Ok(()) => Reply::ok(format!("port {name} reopened\n"), json!(null)),
        Err(e) => Reply::err(format!("port-set: {e:#}")),
    }
}

/// `reload [FILE]`: the file the switch started from unless one is named.
pub fn reload(sw: &mut Switch, args: &[String]) -> Reply {
    let path = match args {
        [] => match sw.config_path() {
            Some(p) => p.to_path_buf(),
            None => return Reply::err("reload: the switch was not started from a file; name one"),
        },
        [p] => p.into(),
        _ => return super::commands::usage("reload"),
    };
    let cfg = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            return Reply::err(format!(
                "reload: {}: {e}; nothing was applied",
                path.display()
            ))
        }
    };
    match sw.reload(&cfg) {
        Ok(r) => {
            let list = |v: &[String]| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.join(",")
                }
            };
            let text = format!(
                "reloaded {}\n  ports added: {}\n  ports removed: {}\n  ports reopened: {}\n  ports unchanged: {}\n  pmd cores: {}\n  rules: {}{}\n",
                path.display(),
                list(&r.added),
                list(&r.removed),
                list(&r.changed),
                list(&r.unchanged),
                r.pmd_cores
                    .as_ref()
                    .map(|c| format!("{c:?}"))
                    .unwrap_or_else(|| "unchanged".into()),
                r.rules,
                if r.rules_replaced { " (replaced)" } else { " (unchanged)" },
            );
            Reply::ok(text, json!(r))
        }
        Err(e) => Reply::err(format!("reload: {e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_core_list;

    #[test]
    fn core_lists() {
        assert_eq!(parse_core_list("1"), Ok(vec![1]));
        assert_eq!(parse_core_list("1,3-5"), Ok(vec![1, 3, 4, 5]));
        assert!(parse_core_list("5-3").is_err());
        assert!(parse_core_list("x").is_err());
        assert!(parse_core_list("").is_err());
        assert!(parse_core_list("0-4000000000").is_err());
        assert!(parse_core_list("0-18446744073709551615").is_err());
        assert!(parse_core_list("0-1023,".repeat(3).trim_end_matches(',')).is_err());
    }
}
