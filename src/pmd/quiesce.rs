//! Grace periods: waiting until every running PMD has finished the loop
//! iteration it was in. Used before freeing anything a PMD may still be
//! reading, e.g. a vhost device whose guest memory is about to be unmapped.
//!
//! Each PMD stores a new epoch with a sequentially consistent store at the
//! top of every 32nd iteration, before it reads shared state: the epoch
//! names a window of iterations. A writer first publishes its change (also
//! SeqCst), then waits until each PMD's epoch has moved past what it read:
//! every iteration that might have seen the old state began in that window
//! or before, and the next window starts only after they have all ended.
use super::stats::PmdStats;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

static PMDS: Mutex<Vec<Weak<PmdStats>>> = Mutex::new(Vec::new());

/// Makes a PMD's epoch count in grace periods.
pub fn register(stats: &Arc<PmdStats>) {
    let mut v = PMDS.lock().expect("quiesce registry poisoned");
    v.retain(|w| w.strong_count() > 0);
    v.push(Arc::downgrade(stats));
}

/// Waits until every running PMD has started a new iteration since the call.
/// Gives up (with an error log) after a second: a PMD stuck that long is a bug.
pub fn grace_period() {
    let pmds: Vec<Arc<PmdStats>> = PMDS
        .lock()
        .map(|v| v.iter().filter_map(Weak::upgrade).collect())
        .unwrap_or_default();
    let seen: Vec<u64> = pmds
        .iter()
        .map(|p| p.epoch.load(Ordering::SeqCst))
        .collect();
    let t0 = Instant::now();
    for (p, e) in pmds.iter().zip(seen) {
        while p.running.load(Ordering::SeqCst) && p.epoch.load(Ordering::SeqCst) == e {
            if t0.elapsed() > Duration::from_secs(1) {
                tracing::error!(core = p.core, "PMD did not finish its iteration within 1 s");
                break;
            }
            std::thread::sleep(Duration::from_micros(20));
        }
    }
}
