//! pmdswitch: a userspace virtual switch datapath on DPDK.
pub mod flow;
pub mod ofproto;
pub mod packet;
