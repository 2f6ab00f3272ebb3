//! Fuzzes what a control client sends before it reaches the switch: the
//! request line (JSON), and the argument parsers of the commands that take
//! lists, numbers and port tables, and the `ovs-appctl` front-end's
//! JSON-RPC framing and decoding. Any input gets a value or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmdswitch::config::{parse_affinity, parse_cpu_mask, MAX_CORES};
use pmdswitch::control::commands::parse_port;
use pmdswitch::control::reconfig::parse_core_list;
use pmdswitch::control::Request;
use pmdswitch::unixctl::jsonrpc;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some(end)) = jsonrpc::frame_end(rest) {
        assert!(end > 0 && end <= rest.len());
        let _ = jsonrpc::decode(&rest[..end]);
        rest = &rest[end..];
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(req) = serde_json::from_str::<Request>(text) {
        let _ = parse_port(&req.args);
    }
    for c in parse_core_list(text).into_iter().flatten() {
        assert!(c < MAX_CORES);
    }
    if let Ok(c) = parse_cpu_mask(text) {
        assert!(c.len() <= MAX_CORES && c.iter().all(|c| *c < MAX_CORES));
    }
    let _ = parse_affinity(text);
    let args: Vec<String> = text.split(' ').map(str::to_owned).collect();
    let _ = parse_port(&args);
});
