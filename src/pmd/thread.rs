//! The PMD thread: pinned to its core, registered with DPDK, looping over
//! its poll list until told to stop.
use super::output::OutputBatches;
use super::pipeline::Pipeline;
use super::stats::PmdStats;
use crate::dpdk::lcore;
use crate::dpdk::MbufBurst;
use crate::netdev::{RxPoll, TxSend};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One rx queue in a PMD's poll list.
pub struct PollEntry {
    /// The switch's index of the port.
    pub port: usize,
    /// The queue.
    pub rxq: Box<dyn RxPoll>,
}

/// A running PMD thread.
pub struct PmdHandle {
    /// Its counters.
    pub stats: Arc<PmdStats>,
    /// (port index, queue) it polls.
    pub polls: Vec<(usize, u16)>,
    join: Option<JoinHandle<()>>,
}

impl PmdHandle {
    /// Starts a PMD on `core` polling `polls`, sending through `txqs`
    /// (indexed by port) and processing with `pipeline`.
    pub fn spawn<P: Pipeline>(
        core: usize,
        polls: Vec<PollEntry>,
        txqs: Vec<Option<Box<dyn TxSend>>>,
        pipeline: P,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<PmdHandle> {
        let stats = Arc::new(PmdStats::new(core, txqs.len()));
        super::quiesce::register(&stats);
        let ids = polls.iter().map(|p| (p.port, p.rxq.queue())).collect();
        let st = stats.clone();
        let join = std::thread::Builder::new()
            .name(format!("pmd-c{core:02}"))
            .spawn(move || run(core, polls, OutputBatches::new(txqs), pipeline, st, stop))?;
        Ok(PmdHandle {
            stats,
            polls: ids,
            join: Some(join),
        })
    }

    /// Waits for the thread to end (after the stop flag was raised).
    pub fn join(&mut self) {
        if let Some(j) = self.join.take() {
            if j.join().is_err() {
                tracing::error!(core = self.stats.core, "PMD thread panicked");
            }
        }
    }
}

fn run<P: Pipeline>(
    core: usize,
    mut polls: Vec<PollEntry>,
    mut out: OutputBatches,
    mut pipeline: P,
    stats: Arc<PmdStats>,
    stop: Arc<AtomicBool>,
) {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        tracing::warn!(core, "could not pin PMD thread to its core");
    }
    let lcore = match lcore::register_thread() {
        Ok(l) => Some(l),
        Err(e) => {
            // Still correct without an lcore id, only slower (no mempool cache).
            tracing::warn!(core, "{e}");
            None
        }
    };
    tracing::info!(core, ?lcore, queues = polls.len(), "PMD thread running");
    let mut burst = MbufBurst::new();
    let mut last = lcore::rdtsc();
    let mut epoch = 0u64;
    stats.running.store(true, Ordering::SeqCst);
    while !stop.load(Ordering::Relaxed) {
        epoch += 1;
        stats.epoch.store(epoch, Ordering::SeqCst);
        let mut got = 0;
        for p in polls.iter_mut() {
            let n = p.rxq.rx_burst(&mut burst);
            if n > 0 {
                got += n;
                stats.ports[p.port].rx.add(n as u64);
                pipeline.process(p.port, &mut burst, &mut out, &stats);
            }
        }
        out.flush_all(&stats);
        let now = lcore::rdtsc();
        if got > 0 {
            stats.rx_packets.add(got as u64);
            stats.busy_cycles.add(now - last);
        } else {
            stats.idle_cycles.add(now - last);
        }
        stats.iterations.add(1);
        last = now;
    }
    out.flush_all(&stats);
    stats.running.store(false, Ordering::SeqCst);
    drop(burst);
    if lcore.is_some() {
        lcore::unregister_thread();
    }
    tracing::info!(core, "PMD thread stopped");
}
