//! Fuzzes the flow-text parser: it must never panic, errors must point
//! inside the text, and whatever parses must print and re-parse (a print
//! that does not parse again is a failure) to the same
//! match and actions, and translate without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmdswitch::flow::key::{Field, FlowKey};
use pmdswitch::ofproto::normal::PortSet;
use pmdswitch::ofproto::parse::{parse_flow, parse_match};
use pmdswitch::ofproto::rule::fmt_actions;
use pmdswitch::ofproto::Ofproto;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_match(text);
    match parse_flow(text) {
        Err(e) => assert!(e.pos <= text.len(), "{e} beyond {}", text.len()),
        Ok(fm) => {
            let again = format!(
                "table={},priority={},{} actions={}",
                fm.table,
                fm.priority,
                fm.m,
                fmt_actions(&fm.actions)
            );
            // What the printer writes must parse again: a failure here is
            // a bug in one of the two, not something to skip.
            let fm2 = parse_flow(&again).unwrap_or_else(|e| {
                panic!("{text:?} printed as {again:?}, which does not parse: {e}")
            });
            assert_eq!(fm.m, fm2.m, "{again}");
            assert_eq!(fm.actions, fm2.actions, "{again}");
            let mut of = Ofproto::new(PortSet::trunks(1..=4));
            of.pipeline.add(&fm);
            let mut k = FlowKey::ZERO;
            k.set(Field::InPort, 1);
            k.set(Field::DlType, 0x0800);
            let _ = of.translate(&k, 0);
            let _ = of.translate(&fm.m.key, 0);
        }
    }
});
