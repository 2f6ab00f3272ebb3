//! `pmdswitch ctl`: sends one request and prints the reply (`capture`
//! sends several: it starts a capture and asks after it until it is done).
use super::{Reply, Request};
use anyhow::Context;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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

/// `ctl capture PORT --count N --file F [--dir rx|tx|both] [--timeout S]`:
/// starts a capture and waits until the file holds N packets (or the time
/// runs out, keeping what was captured).
fn ctl_capture(socket: &Path, args: &[String]) -> ExitCode {
    let usage = "usage: pmdswitch ctl capture PORT --count N --file FILE [--dir rx|tx|both] [--timeout SECS]";
    let Some(port) = args.first() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let (mut count, mut file, mut dir, mut timeout) = (None, None, "rx".to_string(), 10.0f64);
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let v = it.next();
        match (a.as_str(), v) {
            ("--count", Some(v)) => count = v.parse::<u64>().ok(),
            ("--file", Some(v)) => file = Some(v.clone()),
            ("--dir", Some(v)) => dir = v.clone(),
            ("--timeout", Some(v)) => timeout = v.parse().unwrap_or(timeout),
            _ => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(count), Some(file)) = (count, file) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    // The switch writes the file: give it an absolute path.
    let path = std::path::absolute(&file).unwrap_or_else(|_| file.clone().into());
    let start = Request {
        command: "capture-start".into(),
        args: vec![
            port.clone(),
            count.to_string(),
            dir,
            path.display().to_string(),
        ],
    };
    let id = match call(socket, &start) {
        Ok(r) if r.ok => r.data["id"].as_u64().unwrap_or(0),
        Ok(r) => {
            eprintln!("error: {}", r.text);
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let t0 = Instant::now();
    loop {
        let cmd = if t0.elapsed().as_secs_f64() > timeout {
            "capture-stop"
        } else {
            "capture-status"
        };
        let r = match call(
            socket,
            &Request {
                command: cmd.into(),
                args: vec![id.to_string()],
            },
        ) {
            Ok(r) if r.ok => r,
            Ok(r) => {
                eprintln!("error: {}", r.text);
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        if r.data["done"].as_bool().unwrap_or(false) {
            return emit(&r.text);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes `text` to stdout. A reader that went away (`ctl ... | head`) is
/// not an error: the output is simply no longer wanted.
fn emit(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the reply: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reports a failure: on stderr, or as JSON on stdout with `--json`.
fn fail(json: bool, msg: &str, code: u8) -> ExitCode {
    if json {
        let _ = emit(&format!(
            "{}\n",
            serde_json::json!({ "ok": false, "error": msg })
        ));
    } else {
        eprintln!("error: {msg}");
    }
    ExitCode::from(code)
}

/// `pmdswitch ctl [--json] COMMAND ARGS...`: exit 0 on success, 2 for a
/// refusal, 1 when the switch cannot be reached.
pub fn ctl(socket: &Path, json: bool, mut command: Vec<String>) -> ExitCode {
    if command[0] == "capture" {
        return ctl_capture(socket, &command[1..]);
    }
    let req = Request {
        command: command.remove(0),
        args: command,
    };
    match call(socket, &req) {
        Ok(r) if r.ok => {
            if json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&r.data).unwrap_or_default()
                ))
            } else {
                emit(&r.text)
            }
        }
        Ok(r) => fail(json, &r.text, 2),
        Err(e) => fail(json, &format!("{e:#}"), 1),
    }
}
