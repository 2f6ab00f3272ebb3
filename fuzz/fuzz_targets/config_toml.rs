//! Fuzzes the configuration parser: any text must be refused with a field
//! and a reason, or accepted as a config that passes its own checks again;
//! never a panic, never an unbounded allocation (lists and sizes are
//! bounded before anything is expanded).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmdswitch::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text) {
        Ok(cfg) => {
            assert!(cfg.validate().is_ok());
            let _ = cfg.pmd_cores();
            for i in 0..cfg.ports.len() {
                let _ = cfg.ofport(i);
            }
        }
        Err(e) => assert!(!e.field.is_empty() && !e.reason.is_empty(), "{e}"),
    }
});
