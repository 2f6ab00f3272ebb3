//! Packet parsing.
pub mod buf;
pub mod extract;
pub mod proto;
