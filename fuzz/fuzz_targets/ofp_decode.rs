//! Fuzzes the OpenFlow 1.3 decoder: it must never panic; whatever decodes
//! must encode and decode back to the same message; a failure must name an
//! ERROR the switch can send; and the framer must never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openflow::{ErrorMsg, Framer, Message};

fuzz_target!(|data: &[u8]| {
    match Message::decode(data) {
        Ok((h, m)) => {
            let again = m.encode(h.xid).expect("a decoded message fits again");
            let (_, back) = Message::decode(&again).expect("our own encoding decodes");
            assert_eq!(back, m);
        }
        Err(e) => {
            let reply = Message::Error(ErrorMsg::for_decode_error(&e, data));
            assert!(reply.encode(0).is_ok());
        }
    }
    let mut framer = Framer::new(65535);
    framer.push(data);
    while let Ok(Some(msg)) = framer.next_message() {
        let _ = Message::decode(&msg);
    }
});
