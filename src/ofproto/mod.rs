//! The slow path: OpenFlow rule tables, the flow-text parser, the NORMAL
//! action and upcall translation into datapath actions and megaflows.
pub mod normal;
pub mod parse;
pub mod rule;
pub mod table;
pub mod xlate;

pub use rule::{Action, FlowMod, Match};
pub use xlate::{Ofproto, Revalidate, Xlate};
