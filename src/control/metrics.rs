//! A Prometheus text endpoint for per-port and per-PMD counters, served by
//! the main loop (non-blocking accept, one small reply per scrape).
use crate::switch::Switch;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// The listening endpoint.
pub struct MetricsServer {
    listener: TcpListener,
}

impl MetricsServer {
    /// Listens on `addr`.
    pub fn bind(addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(MetricsServer { listener })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Answers every pending scrape; returns without waiting.
    pub fn poll(&self, sw: &Switch) {
        while let Ok((conn, _)) = self.listener.accept() {
            if let Err(e) = serve(conn, sw) {
                tracing::debug!("metrics scrape: {e}");
            }
        }
    }
}

fn serve(mut conn: TcpStream, sw: &Switch) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_millis(500)))?;
    let mut req = [0u8; 1024];
    let n = conn.read(&mut req)?;
    let head = String::from_utf8_lossy(&req[..n]);
    let (status, body) = if head.starts_with("GET /metrics") || head.starts_with("GET / ") {
        ("200 OK", render(sw))
    } else {
        ("404 Not Found", "try /metrics\n".to_string())
    };
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The exposition text.
pub fn render(sw: &Switch) -> String {
    let mut t = String::new();
    let mut metric = |name: &str, help: &str, kind: &str, rows: Vec<(String, f64)>| {
        let _ = writeln!(
            t,
            "# HELP pmdswitch_{name} {help}\n# TYPE pmdswitch_{name} {kind}"
        );
        for (labels, v) in rows {
            let _ = writeln!(t, "pmdswitch_{name}{{{labels}}} {v}");
        }
    };
    let ports: Vec<_> = sw.live_ports().collect();
    let per_port = |f: fn(&crate::pmd::stats::PortCounters) -> u64| -> Vec<(String, f64)> {
        ports
            .iter()
            .map(|(i, p)| {
                (
                    format!("port=\"{}\"", p.name),
                    sw.pmds.iter().map(|m| f(&m.stats.ports[*i])).sum::<u64>() as f64,
                )
            })
            .collect()
    };
    metric(
        "port_rx_packets_total",
        "Packets the PMDs received from the port.",
        "counter",
        per_port(|c| c.rx.get()),
    );
    metric(
        "port_tx_packets_total",
        "Packets the PMDs sent on the port.",
        "counter",
        per_port(|c| c.tx.get()),
    );
    metric(
        "port_tx_dropped_total",
        "Packets the port would not take.",
        "counter",
        per_port(|c| c.tx_dropped.get()),
    );
    metric(
        "port_tx_mtu_dropped_total",
        "Packets longer than the port's MTU allows (counted in tx_dropped too).",
        "counter",
        per_port(|c| c.tx_mtu_dropped.get()),
    );
    let dev: Vec<_> = ports
        .iter()
        .map(|(_, p)| (p.name.clone(), p.port.stats()))
        .collect();
    let dev_rows = |f: fn(&crate::dpdk::PortStats) -> u64| -> Vec<(String, f64)> {
        dev.iter()
            .map(|(n, s)| (format!("port=\"{n}\""), f(s) as f64))
            .collect()
    };
    metric(
        "port_rx_missed_total",
        "Packets the device dropped: rx queues full.",
        "counter",
        dev_rows(|s| s.rx_missed),
    );
    metric(
        "port_rx_errors_total",
        "Device receive errors.",
        "counter",
        dev_rows(|s| s.rx_errors),
    );
    metric(
        "port_rx_nombuf_total",
        "Receives that found no mbuf.",
        "counter",
        dev_rows(|s| s.rx_nombuf),
    );
    let snaps = sw.pmd_snapshots();
    let per_pmd = |f: fn(&crate::pmd::stats::PmdSnapshot) -> u64| -> Vec<(String, f64)> {
        sw.pmds
            .iter()
            .zip(&snaps)
            .map(|(p, s)| (format!("core=\"{}\"", p.stats.core), f(s) as f64))
            .collect()
    };
    metric(
        "pmd_rx_packets_total",
        "Packets the PMD received.",
        "counter",
        per_pmd(|s| s.rx_packets),
    );
    metric(
        "pmd_busy_cycles_total",
        "TSC cycles in iterations that received packets.",
        "counter",
        per_pmd(|s| s.busy_cycles),
    );
    metric(
        "pmd_idle_cycles_total",
        "TSC cycles in iterations that received nothing.",
        "counter",
        per_pmd(|s| s.idle_cycles),
    );
    metric(
        "pmd_sleep_cycles_total",
        "TSC cycles asleep.",
        "counter",
        per_pmd(|s| s.sleep_cycles),
    );
    let mut drops = Vec::new();
    for (p, s) in sw.pmds.iter().zip(&snaps) {
        for r in crate::pmd::stats::DropReason::ALL {
            drops.push((
                format!("core=\"{}\",reason=\"{}\"", p.stats.core, r.name()),
                s.drops[r as usize] as f64,
            ));
        }
    }
    metric(
        "pmd_dropped_total",
        "Packets dropped, by reason.",
        "counter",
        drops,
    );
    let pools: Vec<_> = sw
        .pools
        .entries()
        .map(|e| {
            (
                format!("pool=\"{}\"", e.pool.name()),
                e.pool.in_use() as f64,
            )
        })
        .collect();
    metric(
        "mempool_in_use",
        "Mbufs taken from the pool.",
        "gauge",
        pools,
    );
    t
}
