//! Flow keys, masks and (later) actions.
pub mod actions;
#[allow(unsafe_code)] // SSE4.2 CRC32-C behind a run-time CPU check
pub mod hash;
pub mod key;
