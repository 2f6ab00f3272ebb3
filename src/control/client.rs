//! `pmdswitch ctl`: sends one request and prints the reply.
use super::{Reply, Request};
use anyhow::Context;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Sends `req` to the switch listening on `socket` and returns its reply.
pub fn call(socket: &Path, req: &Request) -> anyhow::Result<Reply> {
    let mut s = UnixStream::connect(socket).with_context(|| {
        format!(
            "cannot connect to {} (is pmdswitch running?)",
            socket.display()
        )
    })?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut line = serde_json::to_string(req)?;
    line.push('\n');
    s.write_all(line.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(s)
        .read_line(&mut reply)
        .context("reading the reply")?;
    serde_json::from_str(&reply).with_context(|| format!("malformed reply {reply:?}"))
}
