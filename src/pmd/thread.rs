//! The PMD thread: pinned to its core, registered with DPDK, looping over
//! its poll list until told to stop, and applying the control thread's
//! changes between iterations.
use super::capture::{Taps, DIR_RX};
use super::mailbox::{Mailbox, PmdCommand, PmdSettings, PollEntry};
use super::output::OutputBatches;
use super::pipeline::Pipeline;
use super::stats::{PmdStats, RxqStats, Stage, StageClock};
use crate::dpdk::lcore;
use crate::dpdk::{MbufBurst, BURST_SIZE};
use crate::netdev::TxSend;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// An rx queue a PMD polls, as the control thread tracks it.
#[derive(Debug, Clone)]
pub struct PollInfo {
    /// Port slot.
    pub port: usize,
    /// Queue index.
    pub queue: u16,
    /// Its counters (shared with the PMD polling it).
    pub stats: Arc<RxqStats>,
}

/// `pause` instructions after an iteration that found no packet at all.
const IDLE_PAUSES: u32 = 4;

/// Loop iterations per quiescent-state epoch (see `pmd::quiesce`).
const EPOCH_EVERY: u32 = 32;
/// A running PMD thread, as the control thread sees it.
pub struct PmdHandle<U> {
    /// Its counters.
    pub stats: Arc<PmdStats>,
    /// The queues it polls: the control thread's copy.
    pub polls: Vec<PollInfo>,
    mailbox: Arc<Mailbox<U>>,
    join: Option<JoinHandle<()>>,
}

fn info(e: &PollEntry) -> PollInfo {
    PollInfo {
        port: e.port,
        queue: e.rxq.queue(),
        stats: e.stats.clone(),
    }
}

impl<U: Send + 'static> PmdHandle<U> {
    /// Starts a PMD on `core` polling `polls`, sending through `txqs`
    /// (indexed by port) and processing with `pipeline`.
    pub fn spawn<P: Pipeline<Update = U>>(
        core: usize,
        polls: Vec<PollEntry>,
        txqs: Vec<Option<Box<dyn TxSend>>>,
        pipeline: P,
        settings: PmdSettings,
        taps: Arc<Taps>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<PmdHandle<U>> {
        let stats = Arc::new(PmdStats::new(core));
        super::quiesce::register(&stats);
        let infos = polls.iter().map(info).collect();
        let mailbox = Arc::new(Mailbox::default());
        let (st, mb) = (stats.clone(), mailbox.clone());
        let join = std::thread::Builder::new()
            .name(format!("pmd-c{core:02}"))
            .spawn(move || {
                let mut pmd = Pmd {
                    core,
                    polls,
                    out: OutputBatches::new(txqs, taps.clone()),
                    taps,
                    pipeline,
                    stats: st,
                    mailbox: mb,
                    settings: PmdSettings::default(),
                    tsc_hz: lcore::tsc_hz(),
                };
                pmd.set(settings);
                pmd.run(stop)
            })?;
        // Commands posted before the loop runs would be taken for a dead PMD.
        let t0 = std::time::Instant::now();
        while !stats.running.load(Ordering::SeqCst) {
            if join.is_finished() || t0.elapsed() > Duration::from_secs(5) {
                return Err(std::io::Error::other(format!(
                    "the PMD thread for core {core} did not start"
                )));
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        Ok(PmdHandle {
            stats,
            polls: infos,
            mailbox,
            join: Some(join),
        })
    }

    /// Posts `cmds` and waits (up to 2 s) until the PMD has applied them.
    /// Returns false when the PMD did not (it has stopped, or hangs).
    pub fn apply(&mut self, cmds: Vec<PmdCommand<U>>) -> bool {
        for c in &cmds {
            match c {
                PmdCommand::AddRx(e) => self.polls.push(info(e)),
                PmdCommand::RemovePort(p) => self.polls.retain(|i| i.port != *p),
                PmdCommand::TakeRx(p, q) => self.polls.retain(|i| (i.port, i.queue) != (*p, *q)),
                _ => {}
            }
        }
        let gen = self.mailbox.post(cmds);
        let stats = self.stats.clone();
        self.mailbox.wait(gen, Duration::from_secs(2), || {
            stats.running.load(Ordering::SeqCst)
        })
    }

    /// Queues handed back by `TakeRx`.
    pub fn take_returned(&self) -> Vec<PollEntry> {
        self.mailbox.take_returned()
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

/// What a PMD thread owns.
struct Pmd<P: Pipeline> {
    core: usize,
    polls: Vec<PollEntry>,
    out: OutputBatches,
    pipeline: P,
    stats: Arc<PmdStats>,
    mailbox: Arc<Mailbox<P::Update>>,
    settings: PmdSettings,
    tsc_hz: u64,
    taps: Arc<Taps>,
}

/// A poll returning fewer than this means the PMD keeps up easily: it may
/// nap (OVS uses the same half-burst threshold).
const SLEEP_THRESHOLD: usize = BURST_SIZE / 2;

impl<P: Pipeline> Pmd<P> {
    fn set(&mut self, s: PmdSettings) {
        self.settings = s;
        self.stats
            .stage_timing
            .store(s.stage_cycles, Ordering::Relaxed);
        self.out
            .set_hold(self.tsc_hz * s.tx_flush_interval_us as u64 / 1_000_000);
    }

    fn run(mut self, stop: Arc<AtomicBool>) {
        let core = self.core;
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
        tracing::info!(
            core,
            ?lcore,
            queues = self.polls.len(),
            "PMD thread running"
        );
        let stats = self.stats.clone();
        lcore::set_timer_slack_ns(1000);
        let mut burst = MbufBurst::new();
        let mut last = lcore::rdtsc();
        let mut epoch = 0u64;
        let mut nap_us = 0u32;
        stats.running.store(true, Ordering::SeqCst);
        let mut iteration = 0u32;
        let housekeeping_every = self.tsc_hz / 100;
        let mut next_housekeeping = last + housekeeping_every;
        while !stop.load(Ordering::Relaxed) {
            // A new epoch every EPOCH_EVERY iterations: a grace period then
            // waits for at most that many iterations (each started after the
            // previous bump; see pmd::quiesce), and the full fence the store
            // costs is paid once per window instead of once per iteration.
            if iteration.is_multiple_of(EPOCH_EVERY) {
                epoch += 1;
                stats.epoch.store(epoch, Ordering::SeqCst);
            }
            iteration = iteration.wrapping_add(1);
            if let Some((gen, cmds)) = self.mailbox.take() {
                self.apply(cmds);
                self.mailbox.ack(gen);
            }
            self.out.set_now(last);
            let (mut got, mut most) = (0, 0);
            let mut t = last;
            for p in self.polls.iter_mut() {
                let n = p.rxq.rx_burst(&mut burst);
                stats.burst_hist[n].add(1);
                if n > 0 {
                    if self.taps.wants(p.port, DIR_RX) {
                        self.taps.copy(p.port, burst.as_slice());
                    }
                    got += n;
                    most = most.max(n);
                    stats.ports[p.port].rx.add(n as u64);
                    self.pipeline
                        .process(p.port, &mut burst, &mut self.out, &stats);
                    // Cycles from the previous poll's end: this queue's
                    // receive and processing, what rxq assignment weighs.
                    let now = lcore::rdtsc();
                    p.stats.packets.add(n as u64);
                    p.stats.cycles.add(now - t);
                    t = now;
                }
            }
            let mut clock = StageClock::start(&stats);
            self.out.flush_due(&stats);
            clock.lap(Stage::Tx);
            let now = lcore::rdtsc();
            if got > 0 {
                stats.rx_packets.add(got as u64);
                stats.busy_cycles.add(now - last);
            } else {
                stats.idle_cycles.add(now - last);
            }
            stats.iterations.add(1);
            last = now;
            if now >= next_housekeeping {
                self.pipeline.housekeeping(now);
                next_housekeeping = now + housekeeping_every;
            }
            // Nap a little longer each lightly loaded iteration; a busy one
            // (a poll returned half a burst or more) never naps.
            if self.settings.max_sleep_us > 0 && most < SLEEP_THRESHOLD {
                nap_us = (nap_us + 1).min(self.settings.max_sleep_us);
                if self.out.any_pending() {
                    self.out.flush_all(&stats);
                }
                std::thread::sleep(Duration::from_micros(nap_us as u64));
                let woke = lcore::rdtsc();
                stats.sleep_cycles.add(woke - last);
                last = woke;
            } else {
                nap_us = 0;
                if got == 0 {
                    // Nothing anywhere: wait a few hundred cycles before
                    // polling again. Polling an empty vring back to back
                    // keeps pulling its cache lines away from the guest that
                    // is filling it, which slows the guest down.
                    for _ in 0..IDLE_PAUSES {
                        std::hint::spin_loop();
                    }
                }
            }
        }
        self.out.flush_all(&stats);
        stats.running.store(false, Ordering::SeqCst);
        drop(burst);
        drop(self);
        if lcore.is_some() {
            lcore::unregister_thread();
        }
        tracing::info!(core, "PMD thread stopped");
    }

    fn apply(&mut self, cmds: Vec<PmdCommand<P::Update>>) {
        for c in cmds {
            match c {
                PmdCommand::AddRx(e) => self.polls.push(e),
                PmdCommand::TakeRx(port, queue) => {
                    // Everything this queue brought in leaves before anyone
                    // else polls it: no reordering across the move.
                    self.out.flush_all(&self.stats);
                    if let Some(i) = self
                        .polls
                        .iter()
                        .position(|p| p.port == port && p.rxq.queue() == queue)
                    {
                        self.mailbox.give_back(self.polls.remove(i));
                    }
                }
                PmdCommand::SetTx(port, txq) => self.out.set_tx(port, txq, &self.stats),
                PmdCommand::RemovePort(port) => {
                    self.polls.retain(|p| p.port != port);
                    self.out.set_tx(port, None, &self.stats);
                    self.stats.ports[port].reset();
                    self.pipeline.port_removed(port);
                }
                PmdCommand::Pipeline(u) => self.pipeline.update(&u),
                PmdCommand::Settings(st) => self.set(st),
            }
        }
    }
}
