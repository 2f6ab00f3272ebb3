//! Fuzzes miniflow extraction: arbitrary bytes must never panic; the
//! offsets must lie inside the frame (L4 after L3); the word map must cover
//! every non-zero word of the key; and extracting again, into a key full of
//! stale bits, must give the same result. (`cargo test` runs the same checks
//! as a property test: `arbitrary_bytes_hold_the_invariants`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmdswitch::packet::extract::check_invariants;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the port, so in_port varies too.
    let port = data.first().map_or(0, |b| u32::from(*b) * 0x0101_0101);
    check_invariants(data, port);
});
