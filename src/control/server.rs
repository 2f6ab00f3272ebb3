//! The control socket: one JSON request line in, one JSON reply line out,
//! each client on a thread of its own (see [`super::serve`]); the commands
//! run on the main loop.
use super::serve::{Asker, Handler, Limits, Server};
use super::{commands, Reply, Request};
use crate::switch::Switch;
use anyhow::{bail, Context};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A bound control socket, served while it lives; the file is removed when
/// dropped.
pub struct ControlServer {
    server: Option<Server>,
    path: PathBuf,
}

impl ControlServer {
    /// Binds `path` with permission bits `mode`, creating its directory, and
    /// serves it, running commands through `asker`. A stale socket (nobody
    /// listening) is replaced; anything else there is refused.
    pub fn bind(path: &Path, mode: u32, asker: Asker<Switch>) -> anyhow::Result<ControlServer> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        check_socket_path(path)?;
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(path)
                .with_context(|| format!("removing stale {}", path.display()))?;
        }
        let listener = UnixListener::bind(path)
            .with_context(|| format!("binding control socket {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        let handler: Handler<Switch> = Arc::new(serve_client);
        let server = Server::spawn("ctl", listener, Limits::default(), asker, handler)?;
        Ok(ControlServer {
            server: Some(server),
            path: path.to_owned(),
        })
    }
}

fn reply_line(r: &Reply) -> Vec<u8> {
    let mut out = serde_json::to_vec(r).unwrap_or_else(|_| b"{}".to_vec());
    out.push(b'\n');
    out
}

fn serve_client(c: &mut super::serve::Client, ask: &Asker<Switch>) -> std::io::Result<()> {
    let line = c.read_until(b"\n")?;
    let req = std::str::from_utf8(&line)
        .map_err(|e| format!("malformed request: not UTF-8 ({e})"))
        .and_then(|t| {
            serde_json::from_str::<Request>(t).map_err(|e| format!("malformed request: {e}"))
        });
    let out = match req {
        Ok(req) => ask
            .ask(Box::new(move |sw: &mut Switch| {
                reply_line(&commands::execute(sw, &req))
            }))
            .ok_or_else(|| std::io::Error::other("the switch is stopping"))?,
        Err(e) => reply_line(&Reply::err(e)),
    };
    c.write_reply(&out)
}

/// Refuses a control socket path where something other than a stale socket
/// lies (a regular file, a directory, a link, a live socket): binding there
/// would have to delete it.
pub fn check_socket_path(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = path.symlink_metadata() else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        bail!(
            "control socket {} exists and is not a socket; refusing to replace it",
            path.display()
        );
    }
    if UnixStream::connect(path).is_ok() {
        bail!(
            "control socket {} is in use by another running switch",
            path.display()
        );
    }
    Ok(())
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        // Stop accepting (which connects to the socket) before removing it.
        drop(self.server.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::ControlServer;
    use crate::control::serve::Inbox;
    use crate::switch::Switch;

    #[test]
    fn never_replaces_what_is_not_a_stale_socket() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::<Switch>::default();
        let file = dir.path().join("switch.toml");
        std::fs::write(&file, "precious").unwrap();
        let e = ControlServer::bind(&file, 0o600, inbox.asker())
            .err()
            .expect("refused");
        assert!(format!("{e:#}").contains("not a socket"), "{e:#}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(ControlServer::bind(&link, 0o600, inbox.asker()).is_err());
        assert!(link.symlink_metadata().is_ok());
        assert!(ControlServer::bind(dir.path(), 0o600, inbox.asker()).is_err());

        let sock = dir.path().join("ctl");
        let live = ControlServer::bind(&sock, 0o600, inbox.asker()).unwrap();
        assert!(
            ControlServer::bind(&sock, 0o600, inbox.asker()).is_err(),
            "a live socket"
        );
        drop(live);
        // A stale socket file is what a crashed switch leaves: made here by
        // binding and dropping a plain listener (which keeps its file).
        let stale = dir.path().join("stale");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let s =
            ControlServer::bind(&stale, 0o600, inbox.asker()).expect("a stale socket is replaced");
        drop(s);
    }
}
