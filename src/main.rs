//! The `pmdswitch` command: `run` starts the switch, `ctl` talks to it.
use clap::{Parser, Subcommand};
use pmdswitch::config::{default_ctl_socket, Config};
use pmdswitch::control::{
    client, commands, metrics::MetricsServer, serve::Inbox, server::ControlServer, Request,
};
use pmdswitch::ofchannel::OpenFlowServer;
use pmdswitch::switch::{preflight, Switch};
use pmdswitch::unixctl::AppctlServer;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "pmdswitch",
    version,
    about = "A userspace virtual switch datapath on DPDK"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the switch from a configuration file until SIGINT/SIGTERM.
    Run {
        /// The TOML configuration.
        #[arg(long, short)]
        config: PathBuf,
        /// Stop by itself after this many seconds.
        #[arg(long)]
        duration: Option<f64>,
        /// Print port counters every this many seconds.
        #[arg(long)]
        stats_interval: Option<f64>,
        /// Log filter (tracing syntax), e.g. "info" or "pmdswitch=debug".
        #[arg(long, default_value = "info")]
        log: String,
    },
    /// Check a configuration file and exit.
    CheckConfig {
        /// The TOML configuration.
        config: PathBuf,
    },
    /// Send a command to the running switch (try `list-commands`).
    Ctl {
        /// The control socket.
        #[arg(long, short, default_value_os_t = default_ctl_socket())]
        socket: PathBuf,
        /// Print the reply as JSON.
        #[arg(long)]
        json: bool,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Run {
            config,
            duration,
            stats_interval,
            log,
        } => run(&config, duration, stats_interval, &log),
        Cmd::CheckConfig { config } => match Config::load(&config)
            .map_err(anyhow::Error::from)
            .and_then(|c| preflight(&c))
        {
            Ok(plan) => {
                for w in &plan.warnings {
                    eprintln!("warning: {w}");
                }
                println!("{}: ok", config.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Cmd::Ctl {
            socket,
            json,
            command,
        } => ctl(&socket, json, command),
    }
}

/// `ctl capture PORT --count N --file F [--dir rx|tx|both] [--timeout S]`:
/// starts a capture and waits until the file holds N packets (or the time
/// runs out, keeping what was captured).
fn ctl_capture(socket: &std::path::Path, args: &[String]) -> ExitCode {
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
    let id = match client::call(socket, &start) {
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
        let r = match client::call(
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
    use std::io::Write;
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

fn ctl(socket: &std::path::Path, json: bool, mut command: Vec<String>) -> ExitCode {
    if command[0] == "capture" {
        return ctl_capture(socket, &command[1..]);
    }
    let req = Request {
        command: command.remove(0),
        args: command,
    };
    match client::call(socket, &req) {
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

fn run(
    path: &std::path::Path,
    duration: Option<f64>,
    stats_interval: Option<f64>,
    log: &str,
) -> ExitCode {
    let filter = match tracing_subscriber::EnvFilter::try_new(log) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --log {log:?}: {e}");
            return ExitCode::from(2);
        }
    };
    // The filter sits behind a reload handle so `ctl log-level` can change it.
    let (filter, log_handle) = tracing_subscriber::reload::Layer::new(filter);
    {
        use tracing_subscriber::prelude::*;
        tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .init();
    }
    let set_log = move |spec: &str| -> Result<(), String> {
        let f = tracing_subscriber::EnvFilter::try_new(spec).map_err(|e| e.to_string())?;
        log_handle.reload(f).map_err(|e| e.to_string())
    };
    let cfg = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Everything that can be checked without the devices is, before the
    // EAL starts: a refusal here is a config error (exit 2).
    let plan = match preflight(&cfg) {
        Ok(p) => {
            for w in &p.warnings {
                tracing::warn!("{w}");
            }
            p
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let mode =
        u32::from_str_radix(cfg.control.mode.trim_start_matches("0o"), 8).expect("validated");
    let term = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, term.clone()) {
            eprintln!("error: installing signal handler: {e}");
            return ExitCode::FAILURE;
        }
    }
    // Bind the control socket before DPDK starts: a second switch on the
    // same socket is refused before it touches hugepages.
    // Clients are served on threads of their own; their commands wait here
    // for the main loop.
    let inbox = Inbox::<Switch>::default();
    let ctl = match ControlServer::bind(&cfg.control.socket, mode, inbox.asker()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let openflow = match OpenFlowServer::bind(&cfg.openflow, inbox.asker()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let appctl = match &cfg.control.appctl_rundir {
        Some(dir) => {
            let ctx = Arc::new(pmdswitch::unixctl::Context::new(&cfg.control.bridge, log));
            match AppctlServer::bind(dir, ctx, inbox.asker(), term.clone()) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("error: appctl: {e:#}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => None,
    };
    let mut sw = match Switch::start_planned(&cfg, plan) {
        Ok(mut s) => {
            s.log_setter = Some(Box::new(set_log));
            s.config_path = Some(path.to_path_buf());
            s
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "pmdswitch running: {} ports, {} PMD threads; control socket {}",
        sw.live_ports().count(),
        sw.pmds.len(),
        cfg.control.socket.display()
    );
    let metrics = match cfg
        .control
        .metrics
        .map(|a| MetricsServer::bind(a, inbox.asker()))
        .transpose()
    {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: metrics endpoint {:?}: {e}", cfg.control.metrics);
            return ExitCode::FAILURE;
        }
    };
    if let Some(m) = &metrics {
        println!("metrics on http://{}/metrics", m.local_addr());
        if !m.local_addr().ip().is_loopback() {
            tracing::warn!(
                addr = %m.local_addr(),
                "the metrics endpoint is not on a loopback address: anyone who can reach it reads the counters"
            );
        }
    }
    let started = Instant::now();
    let mut last_print = Instant::now();
    let mut last_rx = vec![0u64; pmdswitch::pmd::stats::MAX_PORTS];
    let mut last_housekeeping = Instant::now();
    let mut last_tick = Instant::now();
    while !term.load(Ordering::Relaxed) {
        // Waits up to 10 ms for a command: the loop's pace when idle.
        inbox.run(&mut sw, Duration::from_millis(10));
        if last_tick.elapsed() >= Duration::from_secs(1) {
            sw.tick();
            last_tick = Instant::now();
        }
        if !sw.captures.is_empty() {
            sw.pump_captures();
        }
        if last_housekeeping.elapsed() >= Duration::from_millis(100) {
            for (_, p) in sw.live_ports() {
                p.port.housekeeping();
            }
            sw.pools.watch();
            last_housekeeping = Instant::now();
        }
        if duration.is_some_and(|d| started.elapsed().as_secs_f64() >= d) {
            break;
        }
        if let Some(iv) = stats_interval {
            let dt = last_print.elapsed().as_secs_f64();
            if dt >= iv {
                print_rates(&sw, &mut last_rx, dt);
                last_print = Instant::now();
            }
        }
    }
    drop(metrics);
    // Captures still running keep what they have.
    let running: Vec<u64> = sw
        .captures
        .iter()
        .filter(|c| c.running())
        .map(|c| c.id)
        .collect();
    for id in running {
        if let Err(e) = sw.stop_capture(id) {
            tracing::error!("capture {id}: {e:#}");
        }
    }
    drop(openflow);
    drop(appctl);
    sw.stop();
    println!(
        "pmdswitch stopping after {:.1} s; final counters:",
        started.elapsed().as_secs_f64()
    );
    print!("{}", commands::pmd_stats_show(&sw).text);
    print!("{}", commands::port_show(&sw, None).text);
    print!("{}", commands::mempool_show(&sw).text);
    drop(ctl);
    drop(sw);
    ExitCode::SUCCESS
}

fn print_rates(sw: &Switch, last_rx: &mut [u64], dt: f64) {
    let mut line = String::new();
    for (i, p) in sw.live_ports() {
        let rx: u64 = sw.pmds.iter().map(|m| m.stats.ports[i].rx.get()).sum();
        let tx: u64 = sw.pmds.iter().map(|m| m.stats.ports[i].tx.get()).sum();
        // A port added or removed since the last line restarts from zero.
        let rate = rx.saturating_sub(last_rx[i]) as f64 / dt / 1e6;
        last_rx[i] = rx;
        line.push_str(&format!("  {}: rx {rx} ({rate:.2} Mpps) tx {tx}", p.name));
    }
    println!("[{:6.1}s]{line}", sw.started.elapsed().as_secs_f64());
}
