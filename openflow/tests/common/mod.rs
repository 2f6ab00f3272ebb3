//! Shared by the tests that use OVS's `ovs-ofctl` as the peer's decoder.
#![allow(dead_code)]

use std::process::Command;

/// Whether to run: `ovs-ofctl` must exist unless PMDSWITCH_SKIP_OVS=1,
/// in which case the test prints SKIPPED and returns.
pub fn ovs_ofctl_or_skip(test: &str) -> bool {
    if std::env::var("PMDSWITCH_SKIP_OVS").as_deref() == Ok("1") {
        println!("SKIPPED {test}: PMDSWITCH_SKIP_OVS=1");
        return false;
    }
    match Command::new("ovs-ofctl").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => panic!(
            "ovs-ofctl not found (install openvswitch-common, or set PMDSWITCH_SKIP_OVS=1 to skip)"
        ),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
