//! The `pmdswitch` command: `run` starts the switch, `ctl` talks to it.
use clap::{Parser, Subcommand};
use pmdswitch::config::{default_ctl_socket, Config};
use pmdswitch::control::client;
use pmdswitch::run::{run, RunOptions};
use pmdswitch::switch::preflight;
use std::path::PathBuf;
use std::process::ExitCode;

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
        } => run(&RunOptions {
            config,
            duration,
            stats_interval,
            log,
        }),
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
        } => client::ctl(&socket, json, command),
    }
}
