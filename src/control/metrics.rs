//! A Prometheus text endpoint for per-port and per-PMD counters. Each scrape
//! is a client of its own (see [`super::serve`]); the text is rendered on
//! the main loop.
use super::serve::{Asker, Client, Handler, Limits, Server};
use crate::switch::Switch;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// The endpoint, served while it lives.
pub struct MetricsServer {
    addr: SocketAddr,
    _server: Server,
}

impl MetricsServer {
    /// Listens on `addr`, rendering through `asker`.
    pub fn bind(addr: SocketAddr, asker: Asker<Switch>) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let limits = Limits {
            max_request: 16 << 10,
            ..Limits::default()
        };
        let handler: Handler<Switch> = Arc::new(scrape);
        let server = Server::spawn("metrics", listener, limits, asker, handler)?;
        Ok(MetricsServer {
            addr,
            _server: server,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// One HTTP request: its request line, then headers up to an empty line.
fn scrape(c: &mut Client, ask: &Asker<Switch>) -> std::io::Result<()> {
    let first = c.read_until(b"\n")?;
    while !matches!(c.read_until(b"\n")?.as_slice(), b"\r\n" | b"\n") {}
    let line = String::from_utf8_lossy(&first);
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body) = if method == "GET" && (target == "/metrics" || target == "/") {
        let text = ask
            .ask(Box::new(|sw: &mut Switch| render(sw).into_bytes()))
            .ok_or_else(|| std::io::Error::other("the switch is stopping"))?;
        ("200 OK", text)
    } else {
        ("404 Not Found", b"try /metrics\n".to_vec())
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    c.write_reply(&out)
}

/// A label value as the text format wants it: backslash, double quote and
/// newline escaped.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
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
                    format!("port=\"{}\"", label(p.name())),
                    sw.port_counter(*i, f) as f64,
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
        .map(|(_, p)| (p.name().to_owned(), p.port().stats()))
        .collect();
    let dev_rows = |f: fn(&crate::dpdk::PortStats) -> u64| -> Vec<(String, f64)> {
        dev.iter()
            .map(|(n, s)| (format!("port=\"{}\"", label(n)), f(s) as f64))
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
        sw.pmds()
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
    for (p, s) in sw.pmds().iter().zip(&snaps) {
        for &r in crate::pmd::stats::DropReason::ALL {
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
        .pools()
        .entries()
        .map(|e| {
            (
                format!("pool=\"{}\"", label(e.pool.name())),
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
    let exhausted: Vec<_> = sw
        .pools()
        .entries()
        .map(|e| {
            (
                format!("pool=\"{}\"", label(e.pool.name())),
                e.exhausted_episodes as f64,
            )
        })
        .collect();
    metric(
        "mempool_exhausted_total",
        "Times the pool ran out of mbufs (its ports received nothing meanwhile).",
        "counter",
        exhausted,
    );
    t
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(super::label("plain"), "plain");
    }
}
