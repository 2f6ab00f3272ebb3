//! Every check `run` makes before it touches DPDK: the cores against this
//! machine, the rules, the files ports read, the hugepage memory the pools
//! need, the control socket's path. `check-config` runs the same checks,
//! so a file it accepts is refused by `run` only for what needs the devices.
use super::placement::{allowed_cores, plan_cores};
use super::rules::{config_rules, install_rules};
use crate::config::{Config, PortType};
use crate::dpdk::mempool::{buffer_size_for_mtu, data_room_for_mtu};
use crate::ofproto::normal::PortSet;
use crate::ofproto::xlate::Ofproto;
use crate::topology::Topology;
use anyhow::bail;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// What the checks worked out, for the start that follows.
pub struct Plan {
    /// The cores this process may run on.
    pub allowed: BTreeSet<usize>,
    /// NUMA nodes and their cores.
    pub topology: Topology,
    /// PMD cores.
    pub cores: Vec<usize>,
    /// The main thread's core.
    pub main_core: usize,
    /// The rules the configuration installs, each with where it came from.
    pub rules: Vec<(String, String)>,
    /// What may go wrong though the config is valid (logged at start).
    pub warnings: Vec<String>,
}

/// Runs every check that does not need the devices.
pub fn preflight(cfg: &Config) -> anyhow::Result<Plan> {
    let allowed = allowed_cores();
    let topology = Topology::discover(allowed.iter().copied());
    let (cores, main_core) = plan_cores(cfg, &allowed, &topology)?;
    let rules = config_rules(cfg)?;
    install_rules(&mut Ofproto::new(PortSet::default()), &rules)?;
    check_port_files(cfg)?;
    check_hugepages(cfg, &hugepage_bytes())?;
    crate::control::server::check_socket_path(&cfg.control.socket)
        .map_err(|e| anyhow::anyhow!("config: control.socket: {e:#}"))?;
    for (i, l) in cfg.openflow.listen.iter().enumerate() {
        if let Ok(crate::config::OfListen::Unix(p)) = crate::config::parse_of_listen(l) {
            crate::control::server::check_socket_path(&p)
                .map_err(|e| anyhow::anyhow!("config: openflow.listen[{i}]: {e:#}"))?;
        }
    }
    let warnings = pool_warnings(cfg);
    Ok(Plan {
        allowed,
        topology,
        cores,
        main_core,
        rules,
        warnings,
    })
}

/// The files a `net_pcap` port reads must exist; those it writes need
/// their folder.
fn check_port_files(cfg: &Config) -> anyhow::Result<()> {
    for (i, p) in cfg.ports.iter().enumerate() {
        if p.kind != PortType::Dpdk {
            continue;
        }
        for kv in p.devargs.split(',').skip(1) {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let path = Path::new(v.trim());
            match k.trim() {
                "rx_pcap" => {
                    if let Err(e) = std::fs::File::open(path) {
                        bail!("config: port[{i}].devargs: rx_pcap {}: {e}", path.display());
                    }
                }
                "tx_pcap" => {
                    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                    if dir.is_some_and(|d| !d.is_dir()) {
                        bail!(
                            "config: port[{i}].devargs: tx_pcap {}: no such folder",
                            path.display()
                        );
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Packets in a classic pcap file (None: not one, or unreadable).
fn pcap_packets(path: &Path) -> Option<u64> {
    let data = std::fs::read(path).ok()?;
    let magic = data.get(..4)?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let (mut at, mut n) = (24usize, 0u64);
    while let Some(h) = data.get(at..at + 16) {
        let b = [h[8], h[9], h[10], h[11]];
        let len = if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        };
        at += 16 + len as usize;
        n += 1;
    }
    Some(n)
}

/// Pools that the ports' rx rings plus the traces `infinite_rx` ports hold
/// may not fit in: their ports would receive nothing once it runs out.
fn pool_warnings(cfg: &Config) -> Vec<String> {
    let mut need: std::collections::BTreeMap<u32, (u64, Vec<&str>)> = Default::default();
    for p in &cfg.ports {
        let e = need.entry(data_room_for_mtu(p.mtu as u32)).or_default();
        e.0 += p.rxq as u64 * p.rx_desc as u64;
        if p.devargs.contains("infinite_rx=1") {
            let trace = p
                .devargs
                .split(',')
                .find_map(|kv| kv.trim().strip_prefix("rx_pcap="))
                .and_then(|f| pcap_packets(Path::new(f)));
            e.0 += trace.unwrap_or(0);
        }
        e.1.push(&p.name);
    }
    need.into_iter()
        .filter(|(_, (n, _))| *n > cfg.memory.mbufs as u64)
        .map(|(room, (n, ports))| {
            format!(
                "the pool of ports {} (data room {room}) has {} mbufs: their rx rings and infinite_rx traces need up to {n}, which cannot fit; raise [memory] mbufs",
                ports.join(","),
                cfg.memory.mbufs
            )
        })
        .collect()
}

/// Hugepage memory this process may use, in bytes: `socket_mem` when set,
/// else what the host has reserved (free or not: others may hold some now).
fn hugepage_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<u64> {
        info.lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some(field("HugePages_Total:")? * field("Hugepagesize:")? * 1024)
}

/// The pools at start (one per distinct buffer size; virtual devices share
/// the first PMD's node) must fit in the hugepage memory there is.
fn check_hugepages(cfg: &Config, host: &Option<u64>) -> anyhow::Result<()> {
    let rooms: HashSet<u32> = cfg
        .ports
        .iter()
        .map(|p| data_room_for_mtu(p.mtu as u32))
        .collect();
    let mtus: HashSet<u32> = cfg.ports.iter().map(|p| p.mtu as u32).collect();
    // One buffer per distinct data room, sized for the largest MTU using it.
    let per_pool: u64 = rooms
        .iter()
        .map(|r| {
            let mtu = mtus
                .iter()
                .filter(|m| data_room_for_mtu(**m) == *r)
                .max()
                .copied()
                .unwrap_or(1500);
            buffer_size_for_mtu(mtu) as u64
        })
        .sum();
    let need = per_pool * cfg.memory.mbufs as u64;
    let socket_mem = cfg.eal.socket_mem.as_deref().map(|m| {
        m.split(',')
            .filter_map(|x| x.trim().parse::<u64>().ok())
            .sum::<u64>()
            << 20
    });
    let (have, what) = match (socket_mem, host) {
        (Some(s), _) => (s, "eal.socket_mem allows"),
        (None, Some(h)) => (*h, "the host has in hugepages"),
        (None, None) => return Ok(()),
    };
    if need > have {
        bail!(
            "config: memory.mbufs: {} mbufs per pool need {} MB of buffers; {what} {} MB",
            cfg.memory.mbufs,
            need >> 20,
            have >> 20
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Config {
        Config::parse(&format!(
            "{extra}\n[[port]]\nname = \"a\"\ndevargs = \"net_null0\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn pools_must_fit_in_hugepages() {
        let big = cfg("[memory]\nmbufs = 16000000\n");
        let e = check_hugepages(&big, &Some(6 << 30)).unwrap_err();
        assert!(e.to_string().contains("memory.mbufs"), "{e}");
        assert!(check_hugepages(&cfg(""), &Some(6 << 30)).is_ok());
        let small = cfg("[eal]\nsocket_mem = \"64\"\n");
        let e = check_hugepages(&small, &Some(6 << 30)).unwrap_err();
        assert!(e.to_string().contains("socket_mem"), "{e}");
    }

    #[test]
    fn pools_too_small_for_rings_and_traces_are_warned_of() {
        let dir = tempfile::tempdir().unwrap();
        let pcap = dir.path().join("t.pcap");
        let mut b = vec![0xd4, 0xc3, 0xb2, 0xa1];
        b.extend_from_slice(&[0; 20]);
        for _ in 0..3000 {
            b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
        }
        std::fs::write(&pcap, b).unwrap();
        assert_eq!(pcap_packets(&pcap), Some(3000));
        let port = format!("net_pcap0,rx_pcap={},infinite_rx=1", pcap.display());
        let c = cfg(&format!(
            "[[port]]\nname = \"t\"\ndevargs = \"{port}\"\n[memory]\nmbufs = 2048"
        ));
        let w = pool_warnings(&c);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("cannot fit") && w[0].contains("5048"),
            "{w:?}"
        );
        assert!(pool_warnings(&cfg("")).is_empty());
    }

    #[test]
    fn pcap_files_are_checked() {
        let c = Config::parse(
            "[[port]]\nname = \"a\"\ndevargs = \"net_pcap0,rx_pcap=/nonexistent/in.pcap\"\n",
        )
        .unwrap();
        let e = check_port_files(&c).unwrap_err();
        assert!(e.to_string().contains("port[0].devargs"), "{e}");
        let c = Config::parse(
            "[[port]]\nname = \"a\"\ndevargs = \"net_pcap0,tx_pcap=/nonexistent/out.pcap\"\n",
        )
        .unwrap();
        assert!(check_port_files(&c).is_err());
    }
}
