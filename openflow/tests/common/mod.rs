//! Shared by the tests that use OVS's `ovs-ofctl` as the peer's decoder.
#![allow(dead_code)]

use openflow::consts;
use openflow::*;
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

pub fn mac(last: u8) -> [u8; 6] {
    [0x52, 0x54, 0, 0, 0, last]
}

pub fn sample_port(no: u32) -> Port {
    Port {
        port_no: no,
        hw_addr: mac(no as u8),
        name: FixedStr::new(&format!("p{no}")),
        config: consts::port_config::NO_FWD,
        state: consts::port_state::LIVE,
        curr: consts::port_features::F_10GB_FD | consts::port_features::F_COPPER,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: 10_000_000,
        max_speed: 10_000_000,
    }
}

/// A table that advertises what pmdswitch will: the properties OVS requires.
pub fn openflow_table_features(table_id: u8) -> TableFeatures {
    use consts::{action as a, instruction as i};
    let fields: Vec<u32> = [Field::InPort, Field::EthDst, Field::EthType, Field::Ipv4Src]
        .iter()
        .map(|f| f.header(false))
        .collect();
    let actions = vec![a::OUTPUT, a::GROUP, a::SET_FIELD];
    TableFeatures {
        table_id,
        name: FixedStr::new("classifier"),
        metadata_match: u64::MAX,
        metadata_write: u64::MAX,
        config: 0,
        max_entries: 1_000_000,
        properties: vec![
            TableFeatureProp::Instructions {
                miss: false,
                ids: vec![
                    i::GOTO_TABLE,
                    i::APPLY_ACTIONS,
                    i::WRITE_ACTIONS,
                    i::CLEAR_ACTIONS,
                ],
            },
            TableFeatureProp::NextTables {
                miss: false,
                tables: (table_id + 1..=table_id + 3).collect(),
            },
            TableFeatureProp::WriteActions {
                miss: false,
                ids: actions.clone(),
            },
            TableFeatureProp::ApplyActions {
                miss: false,
                ids: actions,
            },
            TableFeatureProp::Match(fields.clone()),
            TableFeatureProp::Wildcards(fields.clone()),
            TableFeatureProp::WriteSetfield {
                miss: false,
                fields: fields.clone(),
            },
            TableFeatureProp::ApplySetfield {
                miss: false,
                fields,
            },
        ],
    }
}
