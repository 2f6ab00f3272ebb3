//! pmdswitch: a userspace virtual switch datapath on DPDK.
//!
//! Layers (see ARCHITECTURE.md at the repository's root): `dpdk` is the safe
//! layer over `dpdk-sys` and, with `simd` (the SIMD kernels behind safe
//! dispatchers), the only code allowed `unsafe` (the `unsafe_code` lint
//! enforces it); `packet` and `flow` are pure packet code;
//! `netdev` holds port types; `pmd` the polling threads; `control` the
//! control socket; `switch` ties them together behind one API that every
//! front-end calls; `run` is the main thread of `pmdswitch run`.
pub mod cache;
pub mod config;
pub mod control;
pub mod datapath;
#[allow(unsafe_code)] // the safe layer over dpdk-sys: the one home of FFI calls
pub mod dpdk;
pub mod flow;
pub mod netdev;
pub mod ofchannel;
pub mod ofproto;
pub mod packet;
pub mod pmd;
pub mod run;
pub mod simd;
pub mod switch;
pub mod topology;
pub mod unixctl;
