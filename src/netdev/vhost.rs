//! vhost-user ports: the VM side of the switch, server or client mode.
use super::mempools::MempoolRegistry;
use super::{MtuLimited, Port, PortQueues, RxPoll, TxSend};
use crate::config::{parse_mode, PortConfig, PortType};
use crate::dpdk::vhost::{VhostDriver, VhostOptions, VhostRxQueue, VhostTxQueue, FEATURE_NAMES};
use crate::dpdk::{MbufBurst, Mempool, PortStats};
use anyhow::{bail, Context};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;

impl RxPoll for VhostRxQueue {
    #[inline]
    fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        VhostRxQueue::rx_burst(self, burst)
    }
    fn queue(&self) -> u16 {
        self.pair()
    }
}

impl TxSend for VhostTxQueue {
    #[inline]
    fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        VhostTxQueue::tx_burst(self, burst)
    }
}

/// A vhost-user port.
pub struct VhostPort {
    driver: VhostDriver,
    pool: Arc<Mempool>,
    name: String,
    taken: bool,
    /// The port's MTU (what it may send: MTU + 18 bytes).
    mtu: u16,
}

impl VhostPort {
    /// Registers the socket of `cfg` and starts listening or connecting.
    pub fn open(cfg: &PortConfig, pools: &mut MempoolRegistry) -> anyhow::Result<VhostPort> {
        let path = cfg
            .path
            .as_deref()
            .expect("validated: vhost ports have a path");
        let client = cfg.kind == PortType::VhostClient;
        let ctx = || format!("port {:?} (vhost-user {})", cfg.name, path.display());
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("/"));
        if !dir.is_dir() {
            bail!("{}: directory {} does not exist", ctx(), dir.display());
        }
        if !client {
            clear_stale_socket(path).with_context(ctx)?;
        }
        let mut disable = 0u64;
        for f in &cfg.disable_features {
            let bit = FEATURE_NAMES
                .iter()
                .find(|(n, _)| n == f)
                .expect("validated")
                .1;
            disable |= 1 << bit;
        }
        let pool = pools.get(-1, cfg.mtu as u32, &cfg.name)?;
        let opts = VhostOptions {
            client,
            queue_pairs: cfg.rxq,
            disable_features: disable,
        };
        let driver = VhostDriver::register(&path.to_string_lossy(), &opts).with_context(ctx)?;
        if !client {
            if let Some(m) = &cfg.socket_mode {
                let mode = parse_mode(m).expect("validated");
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .with_context(ctx)?;
            }
            if let Some(o) = &cfg.socket_owner {
                let (uid, gid) = resolve_owner(o).with_context(ctx)?;
                std::os::unix::fs::chown(path, uid, gid).with_context(ctx)?;
            }
        }
        tracing::info!(port = %cfg.name, path = %path.display(), mode = if client { "client" } else { "server" }, queue_pairs = cfg.rxq, "vhost-user port ready");
        Ok(VhostPort {
            driver,
            pool,
            name: cfg.name.clone(),
            taken: false,
            mtu: cfg.mtu,
        })
    }
}

/// Removes a socket file nobody listens on; refuses a live one or a non-socket.
fn clear_stale_socket(path: &Path) -> anyhow::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        bail!("{} exists and is not a socket", path.display());
    }
    if UnixStream::connect(path).is_ok() {
        bail!("{} is in use: something listens on it", path.display());
    }
    std::fs::remove_file(path)?;
    Ok(())
}

fn lookup_id(file: &str, name: &str) -> anyhow::Result<u32> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    let text = std::fs::read_to_string(file)?;
    text.lines()
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(name))
                .then(|| f.nth(1).and_then(|id| id.parse().ok()))
                .flatten()
        })
        .with_context(|| format!("no entry {name:?} in {file}"))
}

/// Parses "user", "user:group" or ":group" (names or numbers).
pub fn resolve_owner(spec: &str) -> anyhow::Result<(Option<u32>, Option<u32>)> {
    let (u, g) = spec.split_once(':').unwrap_or((spec, ""));
    let uid = (!u.is_empty())
        .then(|| lookup_id("/etc/passwd", u))
        .transpose()?;
    let gid = (!g.is_empty())
        .then(|| lookup_id("/etc/group", g))
        .transpose()?;
    Ok((uid, gid))
}

impl Port for VhostPort {
    fn kind(&self) -> &'static str {
        if self.driver.shared().status().mode == "client" {
            "vhost-user-client"
        } else {
            "vhost-user-server"
        }
    }

    fn take_queues(&mut self, n_pmds: usize) -> Option<PortQueues> {
        if self.taken {
            return None;
        }
        self.taken = true;
        let pairs = self.driver.shared().status().queue_pairs;
        Some(PortQueues {
            rx: (0..pairs)
                .map(|q| Box::new(self.driver.rx_queue(q, self.pool.clone())) as Box<dyn RxPoll>)
                .collect(),
            tx: (0..n_pmds.max(1))
                .map(|i| {
                    Box::new(MtuLimited::new(self.driver.tx_queue(i), self.mtu)) as Box<dyn TxSend>
                })
                .collect(),
        })
    }

    fn reset_queues(&mut self, _n_pmds: usize) -> anyhow::Result<()> {
        // Queue handles are views of the guest's vrings (the guest decides how
        // many there are), so new ones can be made for any number of PMDs.
        self.taken = false;
        Ok(())
    }

    fn stats(&self) -> PortStats {
        let (rx, tx, full) = self.driver.shared().totals();
        PortStats {
            rx_packets: rx,
            tx_packets: tx,
            tx_errors: full,
            ..Default::default()
        }
    }

    fn mempool(&self) -> Option<Arc<Mempool>> {
        Some(self.pool.clone())
    }

    fn details(&self) -> serde_json::Value {
        let st = self.driver.shared().status();
        serde_json::json!({
            "name": self.name,
            "driver": "rte_vhost",
            "devargs": st.path,
            "mac": "",
            "link": { "up": st.connected },
            "mtu": st.mtu,
            "rx_queues": st.queue_pairs,
            "tx_queues": st.queue_pairs,
            "vhost": st,
        })
    }

    fn stop(&mut self) {}

    fn housekeeping(&self) {
        self.driver.shared().sample();
    }
}
