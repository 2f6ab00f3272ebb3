//! Fuzzes the OpenFlow 1.3 decoder: it must never panic; whatever decodes
//! must encode to bytes that decode and re-encode identically; a failure
//! must name an ERROR the switch can send; the framer must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openflow::{ErrorMsg, Framer, Message};

fuzz_target!(|data: &[u8]| {
    match Message::decode(data) {
        Ok((h, m)) => {
            // Names that are not UTF-8 or fill their field are normalised on
            // the first encoding; from then on encoding is a fixed point.
            let again = m.encode(h.xid).expect("a decoded message fits again");
            let (_, back) = Message::decode(&again).expect("our own encoding decodes");
            assert_eq!(back.encode(h.xid).unwrap(), again);
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
