//! Flow keys, masks and (later) actions.
pub mod actions;
pub mod hash;
pub mod key;
