//! The `ovs-appctl` front-end: a unixctl JSON-RPC server at
//! `<rundir>/ovs-vswitchd.<pid>.ctl` beside a locked `ovs-vswitchd.pid`,
//! which is where `ovs-appctl` looks for ovs-vswitchd, so plain
//! `ovs-appctl dpif-netdev/pmd-stats-show` reaches pmdswitch. Commands
//! ([`commands`]) are OVS's names and arguments; their answers are shaped
//! like OVS's ([`format`]) from the same switch API `pmdswitch ctl` uses.
//! Clients are served as every front-end is ([`crate::control::serve`]):
//! a thread each, work on the main loop, deadlines on both directions.
pub mod commands;
mod format;
pub mod jsonrpc;
mod pidfile;

use crate::control::serve::{Asker, Client, Handler, Limits, Server};
use crate::control::server::check_socket_path;
use crate::switch::Switch;
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The program name `ovs-appctl` targets by default.
pub const TARGET: &str = "ovs-vswitchd";

/// pmdswitch's modules as `vlog/list` lists them and `vlog/set` names
/// them (each is the log target `pmdswitch::NAME`).
pub const MODULES: &[&str] = &[
    "cache",
    "control",
    "datapath",
    "dpdk",
    "flow",
    "netdev",
    "ofchannel",
    "ofproto",
    "packet",
    "pmd",
    "switch",
    "unixctl",
];

/// What the commands need beside the switch.
#[derive(Debug)]
pub struct Context {
    /// The bridge's name, as `fdb/show BR` and `ofproto/trace BR` name it.
    pub bridge: String,
    /// The log filter as `vlog/set` builds it: target ("" for all) to
    /// level.
    levels: Mutex<BTreeMap<String, String>>,
}

impl Context {
    /// For the bridge `bridge`, logging as the filter `log` says (the
    /// `--log` the switch started with).
    pub fn new(bridge: &str, log: &str) -> Context {
        let levels = log
            .split(',')
            .filter(|d| !d.trim().is_empty())
            .map(|d| match d.split_once('=') {
                Some((m, l)) => (m.trim().to_string(), l.trim().to_string()),
                None => (String::new(), d.trim().to_string()),
            })
            .collect();
        Context {
            bridge: bridge.to_string(),
            levels: Mutex::new(levels),
        }
    }
}

/// The unixctl server, served while this lives; its socket and pidfile are
/// removed when it is dropped.
pub struct AppctlServer {
    server: Option<Server>,
    socket: PathBuf,
    _pidfile: pidfile::Pidfile,
}

impl AppctlServer {
    /// Takes `<rundir>/ovs-vswitchd.pid` (refused while a running daemon
    /// holds it) and serves `<rundir>/ovs-vswitchd.<pid>.ctl`, running
    /// commands through `asker`; `exit` raises `stop`.
    pub fn bind(
        rundir: &Path,
        ctx: Arc<Context>,
        asker: Asker<Switch>,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<AppctlServer> {
        std::fs::create_dir_all(rundir)
            .with_context(|| format!("creating {}", rundir.display()))?;
        let pidfile = pidfile::Pidfile::create(&rundir.join(format!("{TARGET}.pid")))?;
        let socket = rundir.join(format!("{TARGET}.{}.ctl", std::process::id()));
        check_socket_path(&socket)?;
        if socket.symlink_metadata().is_ok() {
            std::fs::remove_file(&socket)
                .with_context(|| format!("removing stale {}", socket.display()))?;
        }
        let listener = UnixListener::bind(&socket)
            .with_context(|| format!("appctl: binding {}", socket.display()))?;
        // As OVS: only the owner (root, in practice) may drive the switch.
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o750))?;
        let handler: Handler<Switch> = Arc::new(move |c, ask| serve_client(c, ask, &ctx, &stop));
        let server = Server::spawn("appctl", listener, Limits::default(), asker, handler)?;
        Ok(AppctlServer {
            server: Some(server),
            socket,
            _pidfile: pidfile,
        })
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for AppctlServer {
    fn drop(&mut self) {
        drop(self.server.take());
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Answers requests on one connection until the client closes it (as
/// `ovs-appctl` does after one) or misbehaves.
fn serve_client(
    c: &mut Client,
    ask: &Asker<Switch>,
    ctx: &Arc<Context>,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut served = 0usize;
    loop {
        let msg = match c.read_frame(jsonrpc::frame_end) {
            Ok(m) => m,
            // A client that asked and left is done, not in error.
            Err(e) if served > 0 && e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let req = match jsonrpc::decode(&msg) {
            Ok(r) => r,
            Err(m) => {
                if let Some(id) = &m.id {
                    c.write_reply(&jsonrpc::encode_reply(id, &Err(m.reason.clone())))?;
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, m.reason));
            }
        };
        // `exit [--cleanup]` stops the switch once its answer is written.
        let exits = req.method == "exit"
            && req.params.iter().all(|p| p == "--cleanup")
            && req.params.len() <= 1;
        let ctx = ctx.clone();
        let id = req.id.clone();
        let out = ask
            .ask(Box::new(move |sw: &mut Switch| {
                jsonrpc::encode_reply(&id, &commands::execute(sw, &ctx, &req.method, &req.params))
            }))
            .ok_or_else(|| io::Error::other("the switch is stopping"))?;
        c.write_reply(&out)?;
        if exits {
            stop.store(true, Ordering::SeqCst);
        }
        served += 1;
        c.renew_deadline();
    }
}
