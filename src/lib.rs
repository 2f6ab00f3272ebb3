//! pmdswitch: a userspace virtual switch datapath on DPDK.
pub mod flow;
pub mod packet;
