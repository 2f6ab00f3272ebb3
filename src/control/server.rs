//! The listening side of the control socket, polled by the main thread.
use super::{commands, Reply, Request};
use crate::switch::Switch;
use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A bound control socket; the file is removed when dropped.
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlServer {
    /// Binds `path` with permission bits `mode`, creating its directory. A
    /// stale socket (nobody listening) is replaced; a live one is refused.
    pub fn bind(path: &Path, mode: u32) -> anyhow::Result<ControlServer> {
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
        listener.set_nonblocking(true)?;
        Ok(ControlServer {
            listener,
            path: path.to_owned(),
        })
    }

    /// Serves every pending connection; returns without waiting.
    pub fn poll(&self, sw: &mut Switch) {
        while let Ok((conn, _)) = self.listener.accept() {
            if let Err(e) = serve(conn, sw) {
                tracing::debug!("control connection: {e}");
            }
        }
    }
}

fn serve(conn: UnixStream, sw: &mut Switch) -> anyhow::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line)?;
    let reply = match serde_json::from_str::<Request>(&line) {
        Ok(req) => commands::execute(sw, &req),
        Err(e) => Reply::err(format!("malformed request: {e}")),
    };
    let mut out = serde_json::to_string(&reply)?;
    out.push('\n');
    (&conn).write_all(out.as_bytes())?;
    Ok(())
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
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::ControlServer;

    #[test]
    fn never_replaces_what_is_not_a_stale_socket() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("switch.toml");
        std::fs::write(&file, "precious").unwrap();
        let e = ControlServer::bind(&file, 0o600).err().expect("refused");
        assert!(format!("{e:#}").contains("not a socket"), "{e:#}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(ControlServer::bind(&link, 0o600).is_err());
        assert!(link.symlink_metadata().is_ok());
        assert!(ControlServer::bind(dir.path(), 0o600).is_err());

        let sock = dir.path().join("ctl");
        let live = ControlServer::bind(&sock, 0o600).unwrap();
        assert!(ControlServer::bind(&sock, 0o600).is_err(), "a live socket");
        drop(live);
        // A stale socket file is what a crashed switch leaves: made here by
        // binding and dropping a plain listener (which keeps its file).
        let stale = dir.path().join("stale");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let s = ControlServer::bind(&stale, 0o600).expect("a stale socket is replaced");
        drop(s);
    }
}
