//! PMD threads: one pinned thread per core, each polling its own rx queues
//! in bursts and sending through its own per-port output batches.
pub mod assign;
pub mod capture;
pub mod load;
pub mod mailbox;
pub mod output;
pub mod pipeline;
pub mod quiesce;
pub mod stats;
pub mod thread;

pub use mailbox::{PmdCommand, PmdSettings, PollEntry};
pub use output::OutputBatches;
pub use pipeline::Pipeline;
pub use stats::{DropReason, PmdStats};
pub use thread::{PmdHandle, PollInfo};
