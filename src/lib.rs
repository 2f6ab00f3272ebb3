//! pmdswitch: a userspace virtual switch datapath on DPDK.
//!
//! Layers (see DESIGN.md): `dpdk` is the safe layer over `dpdk-sys` and,
//! with `simd` (the SIMD kernels behind safe dispatchers), the only module
//! with `unsafe`; `packet` and `flow` are pure packet code;
//! `netdev` holds port types; `pmd` the polling threads; `control` the
//! control socket; `switch` ties them together.
pub mod cache;
pub mod config;
pub mod control;
pub mod datapath;
pub mod dpdk;
pub mod flow;
pub mod netdev;
pub mod ofproto;
pub mod packet;
pub mod pmd;
pub mod simd;
pub mod switch;
pub mod topology;
