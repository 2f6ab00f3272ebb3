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
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                bail!(
                    "control socket {} is in use by another running switch",
                    path.display()
                );
            }
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

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
