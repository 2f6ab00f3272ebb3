//! vhost-user back ends through DPDK's rte_vhost, in server mode (we listen
//! on the socket) or client mode (the VM side listens; we connect, and
//! reconnect whenever it goes away).
//!
//! rte_vhost runs the vhost-user protocol on its own thread and tells us
//! about the guest through callbacks. A callback finds its port by socket
//! path in a registry. The PMDs read the device id (`vid`) once per burst;
//! when the guest goes away, `destroy_device` clears the id and then waits
//! for a grace period (every PMD has finished the loop iteration it was in)
//! before returning, because rte_vhost unmaps guest memory right after.
use super::error::DpdkError;
use super::mbuf::MbufBurst;
use super::mempool::Mempool;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Most queue pairs a vhost port can have.
pub const MAX_QUEUE_PAIRS: usize = 32;

/// Virtio feature bits that can be switched off by name.
pub const FEATURE_NAMES: &[(&str, u32)] = &[
    ("mrg_rxbuf", 15),
    ("indirect_desc", 28),
    ("event_idx", 29),
    ("mq", 22),
    ("mtu", 3),
    ("guest_announce", 21),
];

/// Offloads the datapath does not handle (checksum left to us, TSO/UFO):
/// never offered, as OVS does when TSO is off.
const UNSUPPORTED_OFFLOADS: u64 = (1 << 0) // CSUM
    | (1 << 1) // GUEST_CSUM
    | (1 << 7) // GUEST_TSO4
    | (1 << 8) // GUEST_TSO6
    | (1 << 9) // GUEST_ECN
    | (1 << 10) // GUEST_UFO
    | (1 << 11) // HOST_TSO4
    | (1 << 12) // HOST_TSO6
    | (1 << 13) // HOST_ECN
    | (1 << 14); // HOST_UFO

/// Names of the feature bits set in `f` that we know.
pub fn feature_names(f: u64) -> Vec<&'static str> {
    const MORE: &[(&str, u32)] = &[
        ("version_1", 32),
        ("ctrl_vq", 17),
        ("status", 16),
        ("ring_packed", 34),
        ("iommu_platform", 33),
    ];
    FEATURE_NAMES
        .iter()
        .chain(MORE)
        .filter(|(_, b)| f & (1u64 << b) != 0)
        .map(|(n, _)| *n)
        .collect()
}

/// How a vhost-user port is set up.
#[derive(Debug, Clone, Default)]
pub struct VhostOptions {
    /// Client mode: connect to a socket the VM side listens on.
    pub client: bool,
    /// Queue pairs we poll (the guest may enable fewer).
    pub queue_pairs: u16,
    /// Feature bits never to offer, besides the unsupported offloads.
    pub disable_features: u64,
}

/// State shared by a port's control side, its queues and the callbacks.
#[derive(Debug)]
pub struct VhostShared {
    path: String,
    client: bool,
    queue_pairs: u16,
    vid: AtomicI32,
    /// Bitmap of enabled vrings (bit = vring index; 2q is the guest's rx,
    /// 2q + 1 its tx).
    enabled: AtomicU64,
    features: AtomicU64,
    mtu: AtomicU64,
    connects: AtomicU64,
    disconnects: AtomicU64,
    guest_pairs: AtomicU64,
    /// Per queue pair: packets we dequeued (guest tx) and enqueued (guest rx),
    /// and packets the guest's rx ring had no room for.
    rx: [AtomicU64; MAX_QUEUE_PAIRS],
    tx: [AtomicU64; MAX_QUEUE_PAIRS],
    tx_full: [AtomicU64; MAX_QUEUE_PAIRS],
    /// Guest-notification (call eventfd) counts carried over from earlier
    /// connections: rte_vhost's own counter restarts with each device.
    notifications_before: AtomicU64,
    /// The live device's count at the last sample. `destroy_device` banks it
    /// into `notifications_before`: it cannot read rte_vhost's stats itself,
    /// because DPDK calls it with the virtqueue locks held that the stats
    /// functions take.
    notifications_live: AtomicU64,
    /// rte_vhost's own count of good packets on the live device (all
    /// vrings), sampled with the notifications: a cross-check of ours.
    vhost_good_live: AtomicU64,
}

/// Counters and state of one vhost port, for reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VhostStatus {
    /// Socket path.
    pub path: String,
    /// "client" or "server".
    pub mode: &'static str,
    /// Whether a guest is attached.
    pub connected: bool,
    /// rte_vhost's device id, -1 when none.
    pub vid: i32,
    /// Negotiated virtio features.
    pub features: u64,
    /// Their names.
    pub feature_names: Vec<&'static str>,
    /// MTU the guest set (0 when unknown).
    pub mtu: u64,
    /// Queue pairs we poll.
    pub queue_pairs: u16,
    /// Vrings the guest has.
    pub guest_vrings: u64,
    /// Enabled vrings as a bitmap.
    pub enabled_vrings: u64,
    /// Times a guest attached.
    pub connects: u64,
    /// Times it went away.
    pub disconnects: u64,
    /// Times the guest was notified (call eventfd written), all connections.
    pub guest_notifications: u64,
    /// Per queue pair: (dequeued, enqueued, enqueue refused for lack of room).
    pub queues: Vec<(u64, u64, u64)>,
    /// rte_vhost's own good-packet count for the live device, both directions.
    pub vhost_good_packets: u64,
}

impl VhostShared {
    /// The device id, or None when no guest is attached.
    #[inline(always)]
    fn vid(&self) -> Option<c_int> {
        let v = self.vid.load(Ordering::Acquire);
        (v >= 0).then_some(v)
    }

    /// Sums a named rte_vhost statistic over our vrings.
    fn vring_sum(&self, vid: c_int, name: &str) -> u64 {
        (0..(2 * self.queue_pairs))
            .map(|vring| vring_stat(vid, vring, name).unwrap_or(0))
            .sum()
    }

    /// Reads rte_vhost's guest-notification counters of the live device.
    /// Call from the control thread only (never from a vhost callback).
    pub fn sample(&self) {
        if let Some(vid) = self.vid() {
            let n = self.vring_sum(vid, "guest_notifications");
            self.notifications_live.store(n, Ordering::Relaxed);
            self.vhost_good_live
                .store(self.vring_sum(vid, "good_packets"), Ordering::Relaxed);
        }
    }

    /// A snapshot for reports (samples the live counters first).
    pub fn status(&self) -> VhostStatus {
        self.sample();
        let vid = self.vid.load(Ordering::Acquire);
        let features = self.features.load(Ordering::Relaxed);
        let live = if vid >= 0 {
            self.notifications_live.load(Ordering::Relaxed)
        } else {
            0
        };
        VhostStatus {
            path: self.path.clone(),
            mode: if self.client { "client" } else { "server" },
            connected: vid >= 0,
            vid,
            features,
            feature_names: feature_names(features),
            mtu: self.mtu.load(Ordering::Relaxed),
            queue_pairs: self.queue_pairs,
            guest_vrings: self.guest_pairs.load(Ordering::Relaxed),
            enabled_vrings: self.enabled.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
            disconnects: self.disconnects.load(Ordering::Relaxed),
            guest_notifications: self.notifications_before.load(Ordering::Relaxed) + live,
            vhost_good_packets: if vid >= 0 {
                self.vhost_good_live.load(Ordering::Relaxed)
            } else {
                0
            },
            queues: (0..self.queue_pairs as usize)
                .map(|q| {
                    (
                        self.rx[q].load(Ordering::Relaxed),
                        self.tx[q].load(Ordering::Relaxed),
                        self.tx_full[q].load(Ordering::Relaxed),
                    )
                })
                .collect(),
        }
    }

    /// Packets dequeued, enqueued and refused for lack of room, all queues.
    pub fn totals(&self) -> (u64, u64, u64) {
        let sum =
            |a: &[AtomicU64; MAX_QUEUE_PAIRS]| a.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        (sum(&self.rx), sum(&self.tx), sum(&self.tx_full))
    }
}

/// Reads one per-vring statistic from rte_vhost, by the name after its
/// queue prefix (`good_packets` for `rx_q0_good_packets`).
fn vring_stat(vid: c_int, vring: u16, name: &str) -> Option<u64> {
    const MAX: usize = 64;
    let mut names = [dpdk_sys::rte_vhost_stat_name::default(); MAX];
    let mut vals = [dpdk_sys::rte_vhost_stat::default(); MAX];
    // SAFETY: the arrays hold MAX entries each; rte_vhost validates vid and
    // vring and fills at most MAX entries.
    let n = unsafe {
        dpdk_sys::rte_vhost_vring_stats_get_names(vid, vring, names.as_mut_ptr(), MAX as u32)
    };
    if n <= 0 || n as usize > MAX {
        return None;
    }
    // SAFETY: as above.
    let m = unsafe { dpdk_sys::rte_vhost_vring_stats_get(vid, vring, vals.as_mut_ptr(), n as u32) };
    if m <= 0 {
        return None;
    }
    names[..n as usize]
        .iter()
        .zip(&vals[..m as usize])
        .find_map(|(nm, v)| {
            // SAFETY: rte_vhost writes NUL-terminated names within the array.
            let s = unsafe { CStr::from_ptr(nm.name.as_ptr()) }.to_bytes();
            // Names carry the queue as a prefix: "rx_q0_good_packets".
            let hit = s.len() > name.len()
                && s.ends_with(name.as_bytes())
                && s[s.len() - name.len() - 1] == b'_';
            hit.then_some(v.value)
        })
}

static REGISTRY: Mutex<Vec<Arc<VhostShared>>> = Mutex::new(Vec::new());
static QUIESCE: OnceLock<fn()> = OnceLock::new();

/// Sets the function that waits until every PMD has left the loop iteration
/// it was in (a grace period). Called by `destroy_device` before it returns.
pub fn set_quiesce_hook(f: fn()) {
    let _ = QUIESCE.set(f);
}

fn lookup(vid: c_int) -> Option<Arc<VhostShared>> {
    let mut buf = [0 as c_char; 256];
    // SAFETY: buf has the length we pass; rte_vhost NUL-terminates within it.
    if unsafe { dpdk_sys::rte_vhost_get_ifname(vid, buf.as_mut_ptr(), buf.len()) } != 0 {
        return None;
    }
    // SAFETY: NUL-terminated by rte_vhost_get_ifname.
    let path = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    REGISTRY
        .lock()
        .ok()?
        .iter()
        .find(|s| s.path == path)
        .cloned()
}

unsafe extern "C" fn on_new_device(vid: c_int) -> c_int {
    let Some(s) = lookup(vid) else { return -1 };
    let mut features = 0u64;
    let mut mtu = 0u16;
    // SAFETY: vid is the live device rte_vhost is telling us about.
    let vrings = unsafe {
        dpdk_sys::rte_vhost_get_negotiated_features(vid, &mut features);
        dpdk_sys::rte_vhost_get_mtu(vid, &mut mtu);
        dpdk_sys::rte_vhost_get_vring_num(vid)
    };
    for q in 0..vrings {
        // We poll: kicks from the guest would only cost it a syscall.
        // SAFETY: q < vring count of this live device.
        unsafe { dpdk_sys::rte_vhost_enable_guest_notification(vid, q, 0) };
    }
    s.features.store(features, Ordering::Relaxed);
    s.mtu.store(mtu as u64, Ordering::Relaxed);
    s.guest_pairs.store(vrings as u64, Ordering::Relaxed);
    if vrings as usize > 2 * s.queue_pairs as usize {
        tracing::warn!(path = %s.path, guest_queue_pairs = vrings / 2, polled = s.queue_pairs,
            "guest has more queue pairs than the port polls; raise the port's rxq");
    }
    s.connects.fetch_add(1, Ordering::Relaxed);
    s.vid.store(vid, Ordering::SeqCst);
    tracing::info!(path = %s.path, vid, vrings, features = format_args!("{features:#x}"), "vhost-user guest attached");
    0
}

unsafe extern "C" fn on_destroy_device(vid: c_int) {
    let Some(s) = lookup(vid) else { return };
    // No rte_vhost call may be made here: DPDK may hold the virtqueue locks.
    s.vid.store(-1, Ordering::SeqCst);
    if let Some(wait) = QUIESCE.get() {
        wait();
    }
    s.enabled.store(0, Ordering::SeqCst);
    s.notifications_before.fetch_add(
        s.notifications_live.swap(0, Ordering::Relaxed),
        Ordering::Relaxed,
    );
    s.disconnects.fetch_add(1, Ordering::Relaxed);
    tracing::info!(path = %s.path, vid, "vhost-user guest detached");
}

unsafe extern "C" fn on_vring_state_changed(vid: c_int, vring: u16, enable: c_int) -> c_int {
    let Some(s) = lookup(vid) else { return 0 };
    if vring < 64 {
        let bit = 1u64 << vring;
        if enable != 0 {
            s.enabled.fetch_or(bit, Ordering::SeqCst);
        } else {
            s.enabled.fetch_and(!bit, Ordering::SeqCst);
        }
    }
    tracing::debug!(path = %s.path, vid, vring, enable, "vring state changed");
    0
}

/// The callback table, immutable for the life of the process.
struct Ops(dpdk_sys::rte_vhost_device_ops);
// SAFETY: a read-only table of function pointers; its one raw pointer
// (reserved) is null and never written.
unsafe impl Sync for Ops {}

static OPS: Ops = Ops(dpdk_sys::rte_vhost_device_ops {
    new_device: Some(on_new_device),
    destroy_device: Some(on_destroy_device),
    vring_state_changed: Some(on_vring_state_changed),
    features_changed: None,
    new_connection: None,
    destroy_connection: None,
    guest_notified: None,
    reserved: [std::ptr::null_mut(); 1],
});

/// A registered vhost-user socket. Unregistered (the guest detached first)
/// when dropped.
#[derive(Debug)]
pub struct VhostDriver {
    shared: Arc<VhostShared>,
    cpath: CString,
}

impl VhostDriver {
    /// Registers `path` with rte_vhost and starts listening (server) or
    /// connecting (client).
    pub fn register(path: &str, opts: &VhostOptions) -> Result<VhostDriver, DpdkError> {
        let pairs = opts.queue_pairs.clamp(1, MAX_QUEUE_PAIRS as u16);
        let cpath = CString::new(path)
            .map_err(|_| DpdkError::Invalid(format!("vhost path {path:?} has a NUL byte")))?;
        {
            let reg = REGISTRY.lock().expect("vhost registry poisoned");
            if reg.iter().any(|s| s.path == path) {
                return Err(DpdkError::Invalid(format!(
                    "vhost socket {path} is already used by another port"
                )));
            }
        }
        let shared = Arc::new(VhostShared {
            path: path.to_owned(),
            client: opts.client,
            queue_pairs: pairs,
            vid: AtomicI32::new(-1),
            enabled: AtomicU64::new(0),
            features: AtomicU64::new(0),
            mtu: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            guest_pairs: AtomicU64::new(0),
            rx: Default::default(),
            tx: Default::default(),
            tx_full: Default::default(),
            notifications_before: AtomicU64::new(0),
            notifications_live: AtomicU64::new(0),
            vhost_good_live: AtomicU64::new(0),
        });
        let mut flags = dpdk_sys::RTE_VHOST_USER_NET_STATS_ENABLE as u64;
        if opts.client {
            flags |= dpdk_sys::RTE_VHOST_USER_CLIENT as u64;
        }
        let fail =
            |what: &str, ret: c_int| DpdkError::from_ret(format!("vhost-user {path}: {what}"), ret);
        // SAFETY: cpath is a valid C string that rte_vhost copies.
        let ret = unsafe { dpdk_sys::rte_vhost_driver_register(cpath.as_ptr(), flags) };
        if ret != 0 {
            return Err(fail("registering the socket", ret));
        }
        REGISTRY
            .lock()
            .expect("vhost registry poisoned")
            .push(shared.clone());
        // From here on Drop unregisters.
        let driver = VhostDriver { shared, cpath };
        let off = UNSUPPORTED_OFFLOADS | opts.disable_features;
        // SAFETY: the path is registered; OPS is a static table.
        unsafe {
            let ret = dpdk_sys::rte_vhost_driver_disable_features(driver.cpath.as_ptr(), off);
            if ret != 0 {
                return Err(fail("disabling features", ret));
            }
            let ret = dpdk_sys::rte_vhost_driver_callback_register(driver.cpath.as_ptr(), &OPS.0);
            if ret != 0 {
                return Err(fail("registering callbacks", ret));
            }
            let ret = dpdk_sys::rte_vhost_driver_start(driver.cpath.as_ptr());
            if ret != 0 {
                return Err(fail(
                    if opts.client {
                        "starting the client"
                    } else {
                        "listening"
                    },
                    ret,
                ));
            }
        }
        Ok(driver)
    }

    /// The state shared with queues and callbacks.
    pub fn shared(&self) -> &Arc<VhostShared> {
        &self.shared
    }

    /// Rx handle for queue pair `pair` (dequeues from the guest's tx vring).
    pub fn rx_queue(&self, pair: u16, pool: Arc<Mempool>) -> VhostRxQueue {
        VhostRxQueue {
            shared: self.shared.clone(),
            pair,
            pool,
        }
    }

    /// Tx handle for PMD `index` (enqueues to one of the guest's enabled rx vrings).
    pub fn tx_queue(&self, index: usize) -> VhostTxQueue {
        VhostTxQueue {
            shared: self.shared.clone(),
            index,
        }
    }
}

impl Drop for VhostDriver {
    fn drop(&mut self) {
        // SAFETY: the path was registered by us; unregister detaches the guest
        // (calling destroy_device) and closes the socket.
        unsafe { dpdk_sys::rte_vhost_driver_unregister(self.cpath.as_ptr()) };
        if let Ok(mut reg) = REGISTRY.lock() {
            reg.retain(|s| !Arc::ptr_eq(s, &self.shared));
        }
    }
}

/// Dequeues what the guest sent on one queue pair.
#[derive(Debug)]
pub struct VhostRxQueue {
    shared: Arc<VhostShared>,
    pair: u16,
    pool: Arc<Mempool>,
}

impl VhostRxQueue {
    /// Queue pair index.
    pub fn pair(&self) -> u16 {
        self.pair
    }

    /// Receives into the free tail of `burst`.
    #[inline]
    pub fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let Some(vid) = self.shared.vid() else {
            return 0;
        };
        let vring = 2 * self.pair + 1;
        if self.shared.enabled.load(Ordering::Relaxed) & (1 << vring) == 0 {
            return 0;
        }
        // SAFETY: vid was live when read and stays mapped until this PMD
        // finishes its loop iteration (destroy_device waits for that); DPDK
        // writes `n` owned mbufs into the spare slots, recorded by set_filled.
        unsafe {
            let (ptr, room) = burst.spare_raw();
            let n = dpdk_sys::rte_vhost_dequeue_burst(vid, vring, self.pool.as_ptr(), ptr, room)
                as usize;
            burst.set_filled(n);
            let c = &self.shared.rx[self.pair as usize];
            c.store(c.load(Ordering::Relaxed) + n as u64, Ordering::Relaxed);
            n
        }
    }
}

/// Enqueues to the guest; several PMDs may share a vring (rte_vhost locks it).
#[derive(Debug)]
pub struct VhostTxQueue {
    shared: Arc<VhostShared>,
    index: usize,
}

impl VhostTxQueue {
    /// Copies packets from the front of `burst` into the guest; the copied
    /// ones are freed and leave the burst, the rest stay at the front.
    #[inline]
    pub fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let Some(vid) = self.shared.vid() else {
            return 0;
        };
        let pairs = self.shared.queue_pairs as u64;
        // Even vrings (guest rx) that are enabled, among those we serve.
        let rx_vrings = self.shared.enabled.load(Ordering::Relaxed)
            & 0x5555_5555_5555_5555
            & ((1u64 << (2 * pairs)) - 1);
        if rx_vrings == 0 {
            return 0;
        }
        let mut k = self.index % rx_vrings.count_ones() as usize;
        let mut bits = rx_vrings;
        while k > 0 {
            bits &= bits - 1;
            k -= 1;
        }
        let vring = bits.trailing_zeros() as u16;
        let n = burst.len() as u16;
        // SAFETY: vid is live for this loop iteration (see rx_burst); the
        // burst holds n valid mbufs, which rte_vhost copies but does not own.
        let sent =
            unsafe { dpdk_sys::rte_vhost_enqueue_burst(vid, vring, burst.raw_ptrs(), n) } as usize;
        let pair = (vring / 2) as usize;
        self.shared.tx[pair].fetch_add(sent as u64, Ordering::Relaxed);
        if sent < n as usize {
            self.shared.tx_full[pair].fetch_add(n as u64 - sent as u64, Ordering::Relaxed);
        }
        burst.free_front(sent);
        sent
    }
}
