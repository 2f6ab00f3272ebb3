//! The control socket: a unix stream socket speaking one JSON request and one
//! JSON reply per connection, and the `pmdswitch ctl` client for it.
pub mod client;
pub mod commands;
pub mod metrics;
pub mod perf;
pub mod reconfig;
pub mod serve;
pub mod server;
pub mod simd;

use serde::{Deserialize, Serialize};

/// A command for the running switch.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    /// The command, e.g. `pmd-stats-show`.
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
}

/// The switch's answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the command succeeded.
    pub ok: bool,
    /// Text for people (or the error message).
    pub text: String,
    /// The same content as data, for `--json`.
    #[serde(default)]
    pub data: serde_json::Value,
}

impl Reply {
    /// A successful reply.
    pub fn ok(text: String, data: serde_json::Value) -> Reply {
        Reply {
            ok: true,
            text,
            data,
        }
    }
    /// A refusal with its reason.
    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            text: text.into(),
            data: serde_json::Value::Null,
        }
    }
}
