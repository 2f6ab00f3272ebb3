//! How the control thread changes a running PMD: it posts commands, the PMD
//! applies them at the top of its next loop iteration, and the control
//! thread waits for the acknowledgement. The PMD's only cost when nothing is
//! posted is one relaxed load per iteration.
use super::stats::RxqStats;
use crate::netdev::{RxPoll, TxSend};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One rx queue in a PMD's poll list. Its counters travel with it when it
/// moves to another PMD.
pub struct PollEntry {
    /// The switch's index of the port.
    pub port: usize,
    /// The queue.
    pub rxq: Box<dyn RxPoll>,
    /// Packets and processing cycles of this queue.
    pub stats: Arc<RxqStats>,
}

impl PollEntry {
    /// A poll entry with fresh counters.
    pub fn new(port: usize, rxq: Box<dyn RxPoll>) -> Self {
        PollEntry {
            port,
            rxq,
            stats: Arc::default(),
        }
    }
}

/// A change to a running PMD.
pub enum PmdCommand<U> {
    /// Start polling this queue.
    AddRx(PollEntry),
    /// Send to port `usize` through this handle (None: the port is gone).
    /// The PMD flushes what it holds for the port first.
    SetTx(usize, Option<Box<dyn TxSend>>),
    /// Stop polling queue `.1` of port `.0` and hand it back (see
    /// [`Mailbox::take_returned`]); the PMD flushes all its output first, so
    /// the queue's packets cannot be overtaken by its next poller's.
    TakeRx(usize, u16),
    /// Forget a port: stop polling its queues, flush and drop its tx handle,
    /// zero its counters, and tell the pipeline.
    RemovePort(usize),
    /// A change to the pipeline's configuration.
    Pipeline(U),
    /// New loop settings.
    Settings(PmdSettings),
}

/// How a PMD loop behaves, changeable at run time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PmdSettings {
    /// Hold output up to this long (µs) for fuller batches.
    pub tx_flush_interval_us: u32,
    /// Longest nap (µs) when the PMD finds little to do; 0: never.
    pub max_sleep_us: u32,
    /// Whether the PMD counts cycles per stage of the packet path.
    pub stage_cycles: bool,
}

/// Commands waiting for one PMD.
pub struct Mailbox<U> {
    pending: AtomicBool,
    queue: Mutex<(u64, Vec<PmdCommand<U>>)>,
    applied: AtomicU64,
    returned: Mutex<Vec<PollEntry>>,
}

impl<U> Default for Mailbox<U> {
    fn default() -> Self {
        Mailbox {
            pending: AtomicBool::new(false),
            queue: Mutex::new((0, Vec::new())),
            applied: AtomicU64::new(0),
            returned: Mutex::new(Vec::new()),
        }
    }
}

impl<U> Mailbox<U> {
    /// Posts commands; returns the generation to wait for.
    pub fn post(&self, cmds: Vec<PmdCommand<U>>) -> u64 {
        let mut q = self.queue.lock().expect("mailbox poisoned");
        q.0 += 1;
        q.1.extend(cmds);
        let gen = q.0;
        drop(q);
        self.pending.store(true, Ordering::Release);
        gen
    }

    /// Called by the PMD: the commands to apply, if any, and their generation.
    #[inline(always)]
    pub fn take(&self) -> Option<(u64, Vec<PmdCommand<U>>)> {
        if !self.pending.load(Ordering::Relaxed) {
            return None;
        }
        // Clear first: a post that lands after this is seen next iteration.
        self.pending.store(false, Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::Acquire);
        let mut q = self.queue.lock().expect("mailbox poisoned");
        Some((q.0, std::mem::take(&mut q.1)))
    }

    /// Called by the PMD once commands up to `gen` are applied.
    pub fn ack(&self, gen: u64) {
        self.applied.store(gen, Ordering::Release);
    }

    /// Called by the PMD: hands a queue back to the control thread.
    pub fn give_back(&self, e: PollEntry) {
        self.returned.lock().expect("mailbox poisoned").push(e);
    }

    /// Queues the PMD handed back.
    pub fn take_returned(&self) -> Vec<PollEntry> {
        std::mem::take(&mut *self.returned.lock().expect("mailbox poisoned"))
    }

    /// Waits until the PMD applied generation `gen`, while `alive()` holds.
    /// False if it gave up (PMD gone or over `limit`).
    pub fn wait(&self, gen: u64, limit: Duration, alive: impl Fn() -> bool) -> bool {
        let t0 = Instant::now();
        while self.applied.load(Ordering::Acquire) < gen {
            if !alive() || t0.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        true
    }
}
