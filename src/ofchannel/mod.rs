//! The OpenFlow 1.3 channel: `[openflow] listen` sockets that `ovs-ofctl`
//! and controllers connect to. Each connection runs on a thread of its own
//! (the [`crate::control::serve`] pattern); messages become typed switch
//! operations run on the main loop, so the switch has one implementation
//! of rules and statistics whichever front-end asks. The wire format is
//! the `openflow` crate's; this module translates between OpenFlow and the
//! switch: matches ([`matching`]), instructions and actions ([`actions`]),
//! FLOW_MOD ([`flows`]), statistics ([`stats`]), the connection ([`conn`]).
pub mod actions;
mod conn;
pub mod flows;
pub mod matching;
pub mod stats;

use crate::config::{parse_of_listen, OfListen, OpenFlowConfig};
use crate::control::serve::{Asker, Handler, Limits, Server};
use crate::control::server::check_socket_path;
use crate::switch::Switch;
use anyhow::Context;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// An OpenFlow refusal: the ERROR type and code to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// `OFPET_*`.
    pub typ: u16,
    /// The code within the type.
    pub code: u16,
}

impl Refusal {
    /// A refusal of this type and code.
    pub fn new(typ: u16, code: u16) -> Refusal {
        Refusal { typ, code }
    }
}

#[derive(Default)]
struct Roles {
    next_id: u64,
    conns: HashMap<u64, u32>,
    /// The last generation_id a MASTER/SLAVE request carried.
    generation: Option<u64>,
}

/// What the connections share: their roles.
#[derive(Default)]
pub struct Channel {
    roles: Mutex<Roles>,
}

impl Channel {
    fn join(&self) -> u64 {
        let mut st = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        st.next_id += 1;
        let id = st.next_id;
        st.conns.insert(id, openflow::consts::role::EQUAL);
        id
    }

    fn leave(&self, id: u64) {
        let mut st = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        st.conns.remove(&id);
    }

    fn role(&self, id: u64) -> u32 {
        let st = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        st.conns
            .get(&id)
            .copied()
            .unwrap_or(openflow::consts::role::EQUAL)
    }
}

/// The OpenFlow listeners, served while this lives; unix socket files are
/// removed when it is dropped.
pub struct OpenFlowServer {
    servers: Vec<Server>,
    paths: Vec<PathBuf>,
}

impl OpenFlowServer {
    /// Binds every `listen` target and serves it, running switch work
    /// through `asker`. A unix path where something other than a stale
    /// socket lies is refused, as for the control socket.
    pub fn bind(cfg: &OpenFlowConfig, asker: Asker<Switch>) -> anyhow::Result<OpenFlowServer> {
        let ch = Arc::new(Channel::default());
        let handler: Handler<Switch> = Arc::new(move |c, ask| conn::serve(c, ask, &ch));
        // A connection stays open: the request deadline bounds only the
        // HELLO (conn.rs keeps its own clock); the write deadline holds.
        let limits = Limits::default();
        let mut out = OpenFlowServer {
            servers: Vec::new(),
            paths: Vec::new(),
        };
        for l in &cfg.listen {
            let target = parse_of_listen(l).map_err(|e| anyhow::anyhow!("{e}"))?;
            let server = match target {
                OfListen::Unix(path) => {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("creating {}", dir.display()))?;
                    }
                    check_socket_path(&path)?;
                    if path.symlink_metadata().is_ok() {
                        std::fs::remove_file(&path)
                            .with_context(|| format!("removing stale {}", path.display()))?;
                    }
                    let listener = std::os::unix::net::UnixListener::bind(&path)
                        .with_context(|| format!("openflow: binding {}", path.display()))?;
                    out.paths.push(path);
                    Server::spawn("openflow", listener, limits, asker.clone(), handler.clone())?
                }
                OfListen::Tcp(addr) => {
                    if !addr.ip().is_loopback() {
                        tracing::warn!(
                            %addr,
                            "OpenFlow listens beyond loopback: anyone who reaches it can change the rules"
                        );
                    }
                    let listener = std::net::TcpListener::bind(addr)
                        .with_context(|| format!("openflow: binding {addr}"))?;
                    Server::spawn("openflow", listener, limits, asker.clone(), handler.clone())?
                }
            };
            out.servers.push(server);
        }
        Ok(out)
    }
}

impl Drop for OpenFlowServer {
    fn drop(&mut self) {
        self.servers.clear();
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests;
