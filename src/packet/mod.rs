//! Packet parsing.
pub mod buf;
