//! OpenFlow 1.3 wire codec: typed messages decoded from and encoded to
//! bytes, with no I/O and no switch logic. Decoders never panic; every
//! failure is a [`DecodeError`] that names the ERROR type and code to
//! answer with. Semantics (which fields a table supports, prerequisites,
//! what a FLOW_MOD does) belong to the switch side.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod wire;

pub mod action;
pub mod consts;
pub mod error;
pub mod flow;
pub mod framing;
pub mod group;
pub mod instruction;
pub mod message;
pub mod meter;
pub mod multipart;
pub mod oxm;
pub mod structs;
pub mod table_features;

pub use action::Action;
pub use error::{DecodeError, Scope};
pub use flow::{FlowMod, FlowRemoved, FlowStats, FlowStatsRequest, PacketIn, PacketOut};
pub use framing::{FrameError, Framer};
pub use group::{Bucket, GroupDesc, GroupMod, GroupStats};
pub use instruction::Instruction;
pub use message::{ErrorMsg, ExperimenterMsg, Header, Hello, Message, PortStatus, TooLong};
pub use meter::{BandKind, MeterBand, MeterMod};
pub use multipart::{
    encode_reply_parts, MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
pub use oxm::{Field, Match, Oxm};
pub use structs::*;
pub use table_features::{TableFeatureProp, TableFeatures};
pub use wire::FixedStr;

#[cfg(test)]
mod proptests;
