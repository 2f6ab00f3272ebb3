//! `pmdswitch run`: the main thread from start to exit. It sets up the
//! logger, checks the configuration, binds every front-end (control socket,
//! OpenFlow listeners, `ovs-appctl` socket, metrics) before DPDK starts, starts the [`Switch`],
//! then loops every 10 ms: commands from the front-ends, the once-a-second
//! tick (auto load balance), captures, port housekeeping, the optional
//! counter line. SIGINT, SIGTERM or `--duration` end the loop; the switch
//! stops and prints its final counters.
use crate::config::Config;
use crate::control::{commands, metrics::MetricsServer, serve::Inbox, server::ControlServer};
use crate::ofchannel::OpenFlowServer;
use crate::pmd::stats::MAX_PORTS;
use crate::switch::{preflight, LogSetter, Switch};
use crate::unixctl::AppctlServer;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `pmdswitch run` was asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The TOML configuration.
    pub config: PathBuf,
    /// Stop by itself after this many seconds.
    pub duration: Option<f64>,
    /// Print port counters every this many seconds.
    pub stats_interval: Option<f64>,
    /// Log filter (tracing syntax).
    pub log: String,
}

/// Runs the switch until a signal or the duration; the exit code is 2 for
/// a configuration refused before DPDK starts, 1 for any other failure to
/// start.
pub fn run(opts: &RunOptions) -> ExitCode {
    let set_log = match init_logger(&opts.log) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --log {:?}: {e}", opts.log);
            return ExitCode::from(2);
        }
    };
    let cfg = match Config::load(&opts.config) {
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
            let ctx = Arc::new(crate::unixctl::Context::new(&cfg.control.bridge, &opts.log));
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
            s.set_log_setter(set_log);
            s.set_config_path(opts.config.clone());
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
        sw.pmds().len(),
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
    main_loop(&mut sw, &inbox, &term, opts);
    drop(metrics);
    // Captures still running keep what they have.
    sw.stop_all_captures();
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

/// Installs the logger with `spec` as its filter; returns what changes the
/// filter later (`ctl log-level`).
fn init_logger(spec: &str) -> Result<LogSetter, String> {
    let filter = tracing_subscriber::EnvFilter::try_new(spec).map_err(|e| e.to_string())?;
    // The filter sits behind a reload handle so `ctl log-level` can change it.
    let (filter, log_handle) = tracing_subscriber::reload::Layer::new(filter);
    {
        use tracing_subscriber::prelude::*;
        tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .init();
    }
    Ok(Box::new(move |spec: &str| -> Result<(), String> {
        let f = tracing_subscriber::EnvFilter::try_new(spec).map_err(|e| e.to_string())?;
        log_handle.reload(f).map_err(|e| e.to_string())
    }))
}

/// The main thread's loop, until `term` is set or the duration is over.
fn main_loop(sw: &mut Switch, inbox: &Inbox<Switch>, term: &AtomicBool, opts: &RunOptions) {
    let started = Instant::now();
    let mut last_print = Instant::now();
    let mut last_rx = vec![0u64; MAX_PORTS];
    let mut last_housekeeping = Instant::now();
    let mut last_tick = Instant::now();
    while !term.load(Ordering::Relaxed) {
        // Waits up to 10 ms for a command: the loop's pace when idle.
        inbox.run(sw, Duration::from_millis(10));
        if last_tick.elapsed() >= Duration::from_secs(1) {
            sw.tick();
            last_tick = Instant::now();
        }
        if !sw.captures().is_empty() {
            sw.pump_captures();
        }
        if last_housekeeping.elapsed() >= Duration::from_millis(100) {
            sw.housekeeping();
            last_housekeeping = Instant::now();
        }
        if opts
            .duration
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d)
        {
            break;
        }
        if let Some(iv) = opts.stats_interval {
            let dt = last_print.elapsed().as_secs_f64();
            if dt >= iv {
                print_rates(sw, &mut last_rx, dt);
                last_print = Instant::now();
            }
        }
    }
}

/// The `--stats-interval` line: per port, packets received and sent, and
/// the receive rate since the last line.
fn print_rates(sw: &Switch, last_rx: &mut [u64], dt: f64) {
    let mut line = String::new();
    for (i, p) in sw.live_ports() {
        let rx = sw.port_counter(i, |c| c.rx.get());
        let tx = sw.port_counter(i, |c| c.tx.get());
        // A port added or removed since the last line restarts from zero.
        let rate = rx.saturating_sub(last_rx[i]) as f64 / dt / 1e6;
        last_rx[i] = rx;
        line.push_str(&format!("  {}: rx {rx} ({rate:.2} Mpps) tx {tx}", p.name()));
    }
    println!("[{:6.1}s]{line}", sw.started().elapsed().as_secs_f64());
}
