//! Property tests: every message round-trips through encode and decode, and
//! decoding arbitrary, truncated or mutated bytes never panics.

use crate::wire::FixedStr;
use crate::{Header, Message};
use proptest::prelude::*;

impl<const N: usize> Arbitrary for FixedStr<N> {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;
    fn arbitrary_with(_: ()) -> Self::Strategy {
        proptest::string::string_regex(&format!("[a-zA-Z0-9 ._-]{{0,{}}}", N - 1))
            .unwrap()
            .prop_map(FixedStr)
            .boxed()
    }
}

/// Messages whose encoding fits the 16-bit length.
fn message() -> impl Strategy<Value = Message> {
    any::<Message>().prop_filter("fits 65535 bytes", |m| m.encode(0).is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trips(m in message(), xid in any::<u32>()) {
        let bytes = m.encode(xid).unwrap();
        let (h, back) = Message::decode(&bytes).unwrap_or_else(|e| panic!("{e} decoding {m:?}"));
        prop_assert_eq!(h, Header { version: 4, typ: m.wire_type(), length: bytes.len() as u16, xid });
        prop_assert_eq!(back, m);
    }

    #[test]
    fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..600), typ in 0u8..32) {
        if bytes.len() >= 8 {
            bytes[0] = 4;
            bytes[1] = typ;
            let len = bytes.len() as u16;
            bytes[2..4].copy_from_slice(&len.to_be_bytes());
        }
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn truncated_and_mutated_messages_never_panic(m in message(), cut in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6)) {
        let mut bytes = m.encode(1).unwrap();
        for (at, v) in flips {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        let _ = Message::decode(&bytes);
        // Truncate and fix the header length, so the body itself is short.
        let n = 8 + cut.index(bytes.len() - 7);
        let mut short = bytes[..n.min(bytes.len())].to_vec();
        let len = short.len() as u16;
        short[2..4].copy_from_slice(&len.to_be_bytes());
        if let Ok((_, d)) = Message::decode(&short) {
            // Whatever decodes must encode again.
            let _ = d.encode(1);
        }
    }
}
