//! The safe layer over `dpdk-sys`: the only place outside `dpdk-sys` where
//! `unsafe` is allowed. Each type here owns one DPDK object and releases it
//! when dropped.
pub mod eal;
pub mod error;
pub mod ethdev;
pub mod lcore;
pub mod mbuf;
pub mod mempool;
pub mod vhost;

pub use eal::Eal;
pub use error::DpdkError;
pub use ethdev::{EthPort, PortStats, RxQueue, TxQueue};
pub use mbuf::{Mbuf, MbufBurst, BURST_SIZE};
pub use mempool::Mempool;
