//! Packet parsing.
pub mod buf;
pub mod bytes;
pub mod extract;
pub mod proto;
