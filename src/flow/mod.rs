//! Flow keys, masks and (later) actions.
pub mod key;
