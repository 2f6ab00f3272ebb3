//! Threads and time as DPDK sees them.

/// Registers the calling (non-EAL) thread with DPDK so it gets an lcore id,
/// and with it a per-lcore mempool cache: without one every mbuf alloc and
/// free goes to the shared ring. Returns the lcore id.
pub fn register_thread() -> Result<u32, super::DpdkError> {
    // SAFETY: rte_thread_register only touches the calling thread's state and
    // the EAL's lcore table (which it locks); the EAL must be initialised,
    // which callers guarantee by holding an `Eal`.
    let ret = unsafe { dpdk_sys::rte_thread_register() };
    if ret < 0 {
        return Err(super::DpdkError::from_ret(
            "registering a PMD thread with DPDK",
            ret,
        ));
    }
    // SAFETY: reads the calling thread's lcore id (thread-local).
    Ok(unsafe { dpdk_sys::pmds_lcore_id() })
}

/// Releases the lcore id taken by [`register_thread`].
pub fn unregister_thread() {
    // SAFETY: undoes rte_thread_register for the calling thread.
    unsafe { dpdk_sys::rte_thread_unregister() }
}

/// The CPU's time-stamp counter.
#[inline(always)]
pub fn rdtsc() -> u64 {
    // Inline on x86-64: the PMD loop reads it twice an iteration, and a call
    // into the C shim cannot be inlined.
    #[cfg(target_arch = "x86_64")]
    // SAFETY: rdtsc has no preconditions; every x86-64 CPU has it.
    unsafe {
        std::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: rdtsc has no preconditions.
    unsafe {
        dpdk_sys::pmds_rdtsc()
    }
}

/// Time-stamp counter ticks per second, as DPDK measured it at start.
pub fn tsc_hz() -> u64 {
    // SAFETY: reads a value set during EAL initialisation.
    unsafe { dpdk_sys::rte_get_tsc_hz() }
}

/// Lets the calling thread's sleeps end within `ns` nanoseconds of their
/// deadline (Linux timer slack; 50 µs by default), so a PMD's short naps
/// stay short.
pub fn set_timer_slack_ns(ns: u64) {
    // SAFETY: PR_SET_TIMERSLACK only changes the calling thread's slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong, 0, 0, 0);
    }
}
