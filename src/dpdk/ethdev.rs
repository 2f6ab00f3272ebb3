//! Ethernet devices: physical NICs and every DPDK virtual device.
use super::error::DpdkError;
use super::mbuf::MbufBurst;
use super::mempool::Mempool;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Counters an ethdev keeps in hardware (or its driver).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PortStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets the device dropped because rx queues were full.
    pub rx_missed: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Receives that failed for lack of an mbuf.
    pub rx_nombuf: u64,
}

/// Link state as the driver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LinkInfo {
    /// Whether the link is up.
    pub up: bool,
    /// Speed in Mbps (0 when unknown).
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
}

/// What a device can do, read once at probe time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DevInfo {
    /// The DPDK driver's name, e.g. `net_pcap`, `mlx5_pci`.
    pub driver: String,
    /// Most rx queues the device supports.
    pub max_rx_queues: u16,
    /// Most tx queues the device supports.
    pub max_tx_queues: u16,
    /// Smallest and largest MTU.
    pub min_mtu: u16,
    /// Largest MTU.
    pub max_mtu: u16,
    /// RSS hash functions the device can compute.
    pub rss_offloads: u64,
}

/// A probed DPDK ethdev. Stopped and closed (and, if we probed it, removed)
/// when dropped.
#[derive(Debug)]
pub struct EthPort {
    id: u16,
    devargs: String,
    info: DevInfo,
    socket: i32,
    n_rxq: u16,
    n_txq: u16,
    started: bool,
    pool: Option<Arc<Mempool>>,
    queues_taken: bool,
}

/// Ports some `EthPort` owns. A probe of a device that is already up
/// (DPDK answers EEXIST) finds the same port id; it must be refused, or the
/// refusal's drop would close the port its owner is using.
static OWNED: std::sync::Mutex<std::collections::BTreeSet<u16>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn owned() -> std::sync::MutexGuard<'static, std::collections::BTreeSet<u16>> {
    OWNED.lock().unwrap_or_else(|e| e.into_inner())
}

fn devname(devargs: &str) -> &str {
    devargs.split(',').next().unwrap_or(devargs).trim()
}

impl EthPort {
    /// Probes the device named by `devargs` (a PCI address such as
    /// `0000:01:00.0`, or a virtual device string such as
    /// `net_pcap0,rx_pcap=in.pcap,infinite_rx=1`) and finds its port.
    pub fn probe(devargs: &str) -> Result<EthPort, DpdkError> {
        let name = devname(devargs);
        if name.is_empty() {
            return Err(DpdkError::Invalid("empty devargs".into()));
        }
        let c_args = CString::new(devargs)
            .map_err(|_| DpdkError::Invalid(format!("devargs {devargs:?} contain a NUL byte")))?;
        // SAFETY: c_args is a valid C string; hotplug probing is serialised
        // by DPDK internally.
        let ret = unsafe { dpdk_sys::rte_dev_probe(c_args.as_ptr()) };
        if ret < 0 && ret != -libc::EEXIST {
            return Err(DpdkError::from_ret(
                format!("probing device {devargs:?}"),
                ret,
            ));
        }
        let id = Self::find_port(devargs, name)?;
        if !owned().insert(id) {
            return Err(DpdkError::Invalid(format!(
                "device {name:?} is already open as another port"
            )));
        }
        let info = match Self::read_info(id) {
            Ok(i) => i,
            Err(e) => {
                owned().remove(&id);
                return Err(e);
            }
        };
        // SAFETY: id is a valid port.
        let socket = unsafe { dpdk_sys::rte_eth_dev_socket_id(id) };
        Ok(EthPort {
            id,
            devargs: devargs.to_owned(),
            info,
            socket,
            n_rxq: 0,
            n_txq: 0,
            started: false,
            pool: None,
            queues_taken: false,
        })
    }

    fn find_port(devargs: &str, name: &str) -> Result<u16, DpdkError> {
        let cname = CString::new(name).expect("checked for NUL above");
        let mut id: u16 = 0;
        // SAFETY: cname is valid; id is a valid out-pointer.
        let ret = unsafe { dpdk_sys::rte_eth_dev_get_port_by_name(cname.as_ptr(), &mut id) };
        if ret == 0 {
            return Ok(id);
        }
        // A PCI device's ethdev may be named differently from its address
        // (several ports per device); DPDK's iterator matches devargs.
        let c_args = CString::new(devargs).expect("checked for NUL above");
        let mut it: dpdk_sys::rte_dev_iterator = Default::default();
        // SAFETY: `it` is zeroed and owned here; cleanup releases it.
        unsafe {
            if dpdk_sys::rte_eth_iterator_init(&mut it, c_args.as_ptr()) == 0 {
                let p = dpdk_sys::rte_eth_iterator_next(&mut it);
                dpdk_sys::rte_eth_iterator_cleanup(&mut it);
                if (p as u32) < dpdk_sys::RTE_MAX_ETHPORTS {
                    return Ok(p);
                }
            }
        }
        Err(DpdkError::Invalid(format!(
            "device {devargs:?} was probed but exposes no ethdev port"
        )))
    }

    fn read_info(id: u16) -> Result<DevInfo, DpdkError> {
        let mut di: dpdk_sys::rte_eth_dev_info = Default::default();
        // SAFETY: id is valid, di is a valid out-pointer.
        let ret = unsafe { dpdk_sys::rte_eth_dev_info_get(id, &mut di) };
        if ret < 0 {
            return Err(DpdkError::from_ret(
                format!("reading device info of port {id}"),
                ret,
            ));
        }
        let driver = if di.driver_name.is_null() {
            String::from("unknown")
        } else {
            // SAFETY: the driver name is a static C string owned by the driver.
            unsafe { CStr::from_ptr(di.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        Ok(DevInfo {
            driver,
            max_rx_queues: di.max_rx_queues,
            max_tx_queues: di.max_tx_queues,
            min_mtu: di.min_mtu,
            max_mtu: di.max_mtu,
            rss_offloads: di.flow_type_rss_offloads,
        })
    }

    /// DPDK's port id.
    pub fn id(&self) -> u16 {
        self.id
    }
    /// The devargs it was probed with.
    pub fn devargs(&self) -> &str {
        &self.devargs
    }
    /// What the device can do.
    pub fn info(&self) -> &DevInfo {
        &self.info
    }
    /// NUMA socket of the device (-1 when unknown, as for virtual devices).
    pub fn socket(&self) -> i32 {
        self.socket
    }
    /// Configured rx queues.
    pub fn n_rxq(&self) -> u16 {
        self.n_rxq
    }
    /// Configured tx queues.
    pub fn n_txq(&self) -> u16 {
        self.n_txq
    }
    /// The mempool its rx queues take buffers from.
    pub fn pool(&self) -> Option<&Arc<Mempool>> {
        self.pool.as_ref()
    }

    /// Configures `n_rxq` rx and `n_txq` tx queues (each clamped to what the
    /// device supports; the counts actually used are returned), rx buffers from
    /// `pool`, and the MTU. Spreads rx over queues with RSS when there are several.
    pub fn configure(
        &mut self,
        n_rxq: u16,
        n_txq: u16,
        rx_desc: u16,
        tx_desc: u16,
        pool: Arc<Mempool>,
        mtu: u16,
    ) -> Result<(u16, u16), DpdkError> {
        if self.started {
            return Err(DpdkError::Invalid(format!(
                "port {} must be stopped to reconfigure",
                self.id
            )));
        }
        let nrx = n_rxq.clamp(1, self.info.max_rx_queues.max(1));
        let ntx = n_txq.clamp(1, self.info.max_tx_queues.max(1));
        let mut conf: dpdk_sys::rte_eth_conf = Default::default();
        // SAFETY: returns a constant.
        let rss = self.info.rss_offloads & unsafe { dpdk_sys::pmds_rss_ip_tcp_udp() };
        if nrx > 1 && rss != 0 {
            conf.rxmode.mq_mode = dpdk_sys::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss;
        }
        // SAFETY: id is valid and the port is stopped; conf is a valid struct.
        let ret = unsafe { dpdk_sys::rte_eth_dev_configure(self.id, nrx, ntx, &conf) };
        if ret < 0 {
            return Err(DpdkError::from_ret(
                format!(
                    "configuring port {} ({nrx} rx, {ntx} tx queues)",
                    self.devargs
                ),
                ret,
            ));
        }
        if mtu != 0 {
            // Virtual devices often reject MTU changes; the frame still fits
            // the buffer, so a refusal is logged, not fatal.
            // SAFETY: id is valid.
            let ret = unsafe { dpdk_sys::rte_eth_dev_set_mtu(self.id, mtu) };
            if ret < 0 && ret != -libc::ENOTSUP {
                tracing::warn!(port = %self.devargs, mtu, "device refused the MTU: {}", super::error::strerror(-ret));
            }
        }
        let socket = if self.socket < 0 {
            pool.socket()
        } else {
            self.socket
        };
        for q in 0..nrx {
            // SAFETY: the port is configured with nrx queues; the pool outlives
            // the queue (we keep an Arc until close).
            let ret = unsafe {
                dpdk_sys::rte_eth_rx_queue_setup(
                    self.id,
                    q,
                    rx_desc,
                    socket as u32,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            };
            if ret < 0 {
                return Err(DpdkError::from_ret(
                    format!("setting up rx queue {q} of {}", self.devargs),
                    ret,
                ));
            }
        }
        for q in 0..ntx {
            // SAFETY: as above, for tx queues.
            let ret = unsafe {
                dpdk_sys::rte_eth_tx_queue_setup(
                    self.id,
                    q,
                    tx_desc,
                    socket as u32,
                    std::ptr::null(),
                )
            };
            if ret < 0 {
                return Err(DpdkError::from_ret(
                    format!("setting up tx queue {q} of {}", self.devargs),
                    ret,
                ));
            }
        }
        self.n_rxq = nrx;
        self.n_txq = ntx;
        self.pool = Some(pool);
        self.queues_taken = false;
        Ok((nrx, ntx))
    }

    /// Starts the device.
    pub fn start(&mut self) -> Result<(), DpdkError> {
        // SAFETY: the port is configured.
        let ret = unsafe { dpdk_sys::rte_eth_dev_start(self.id) };
        if ret < 0 {
            return Err(DpdkError::from_ret(
                format!("starting port {}", self.devargs),
                ret,
            ));
        }
        // Promiscuous so that a switch port sees every frame; virtual devices
        // without the notion refuse it harmlessly.
        // SAFETY: id is valid.
        unsafe { dpdk_sys::rte_eth_promiscuous_enable(self.id) };
        self.started = true;
        Ok(())
    }

    /// Stops the device; mbufs held in its rx rings go back to the pool.
    /// The PMDs polling it must have released its queues first.
    pub fn stop(&mut self) {
        if self.started {
            // SAFETY: id is valid; no thread polls it (caller's contract,
            // enforced by the switch joining PMDs first).
            unsafe { dpdk_sys::rte_eth_dev_stop(self.id) };
            self.started = false;
        }
    }

    /// Hands out one handle per configured queue, once per configuration:
    /// a queue is polled by exactly one thread. Tx queues fewer than `users`
    /// are shared behind a spin lock.
    pub fn take_queues(&mut self, tx_users: usize) -> Option<(Vec<RxQueue>, Vec<TxQueue>)> {
        if self.queues_taken || self.n_rxq == 0 {
            return None;
        }
        self.queues_taken = true;
        let rx = (0..self.n_rxq)
            .map(|q| RxQueue {
                port: self.id,
                queue: q,
            })
            .collect();
        let shared = tx_users > self.n_txq as usize;
        let locks: Vec<Arc<TxLock>> = (0..self.n_txq)
            .map(|_| Arc::new(TxLock::default()))
            .collect();
        let tx = (0..tx_users.max(1))
            .map(|u| {
                let q = (u % self.n_txq as usize) as u16;
                TxQueue {
                    port: self.id,
                    queue: q,
                    lock: shared.then(|| locks[q as usize].clone()),
                }
            })
            .collect();
        Some((rx, tx))
    }

    /// Lets `take_queues` hand the queues out again without reconfiguring
    /// the device. The caller must have dropped every handle of the last
    /// `take_queues` (the switch joins its PMDs first): two threads polling
    /// one queue would corrupt its ring.
    pub fn queues_returned(&mut self) {
        self.queues_taken = false;
    }

    /// Software and hardware counters.
    pub fn stats(&self) -> PortStats {
        let mut s: dpdk_sys::rte_eth_stats = Default::default();
        // SAFETY: id is valid; s is a valid out-pointer.
        unsafe { dpdk_sys::rte_eth_stats_get(self.id, &mut s) };
        PortStats {
            rx_packets: s.ipackets,
            tx_packets: s.opackets,
            rx_bytes: s.ibytes,
            tx_bytes: s.obytes,
            rx_missed: s.imissed,
            rx_errors: s.ierrors,
            tx_errors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    /// The device's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        let mut a: dpdk_sys::rte_ether_addr = Default::default();
        // SAFETY: id is valid; a is a valid out-pointer.
        unsafe { dpdk_sys::rte_eth_macaddr_get(self.id, &mut a) };
        a.addr_bytes
    }

    /// The current MTU.
    pub fn mtu(&self) -> u16 {
        let mut mtu = 0u16;
        // SAFETY: id is valid; mtu is a valid out-pointer.
        unsafe { dpdk_sys::rte_eth_dev_get_mtu(self.id, &mut mtu) };
        mtu
    }

    /// Link state, without waiting for autonegotiation.
    pub fn link(&self) -> LinkInfo {
        let mut l: dpdk_sys::rte_eth_link = Default::default();
        // SAFETY: id is valid; l is a valid out-pointer.
        unsafe { dpdk_sys::rte_eth_link_get_nowait(self.id, &mut l) };
        LinkInfo {
            up: l.link_status() != 0,
            speed_mbps: l.link_speed,
            full_duplex: l.link_duplex() != 0,
        }
    }
}

impl Drop for EthPort {
    fn drop(&mut self) {
        self.stop();
        let mut di: dpdk_sys::rte_eth_dev_info = Default::default();
        // SAFETY: the port is stopped and no queue handle is polled any more
        // (PMDs are joined before ports drop). Close frees its queues; removing
        // the device (on whatever bus it sits) lets the same devargs be probed
        // again later.
        unsafe {
            let dev = if dpdk_sys::rte_eth_dev_info_get(self.id, &mut di) == 0 {
                di.device
            } else {
                std::ptr::null_mut()
            };
            dpdk_sys::rte_eth_dev_close(self.id);
            if !dev.is_null() {
                dpdk_sys::rte_dev_remove(dev);
            }
        }
        owned().remove(&self.id);
    }
}

/// One rx queue of a port, owned by the one thread that polls it.
#[derive(Debug)]
pub struct RxQueue {
    port: u16,
    queue: u16,
}

impl RxQueue {
    /// Port id.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Queue index.
    pub fn queue(&self) -> u16 {
        self.queue
    }

    /// Receives into the free tail of `burst`; returns how many arrived.
    #[inline(always)]
    pub fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        // SAFETY: spare_raw gives room for `room` pointers; DPDK writes `n`
        // owned mbufs there, which set_filled then records. This handle is the
        // queue's only poller (take_queues hands each out once).
        unsafe {
            let (ptr, room) = burst.spare_raw();
            if room == 0 {
                return 0;
            }
            let n = dpdk_sys::pmds_eth_rx_burst(self.port, self.queue, ptr, room) as usize;
            burst.set_filled(n);
            n
        }
    }
}

/// A tiny test-and-test-and-set lock: held for one tx burst at most.
#[derive(Debug, Default)]
pub struct TxLock(AtomicBool);

impl TxLock {
    #[inline(always)]
    fn lock(&self) {
        while self
            .0
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.0.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
    }
    #[inline(always)]
    fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A tx queue as one thread sees it: its own queue, or a shared one behind a
/// lock when the port has fewer tx queues than threads.
#[derive(Debug)]
pub struct TxQueue {
    port: u16,
    queue: u16,
    lock: Option<Arc<TxLock>>,
}

impl TxQueue {
    /// Port id.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Queue index.
    pub fn queue(&self) -> u16 {
        self.queue
    }
    /// Whether other threads share this queue.
    pub fn is_shared(&self) -> bool {
        self.lock.is_some()
    }

    /// Sends from the front of `burst`; what the device took leaves the
    /// burst, what it refused stays at the front. Returns how many were sent.
    #[inline(always)]
    pub fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let n = burst.len() as u16;
        if n == 0 {
            return 0;
        }
        if let Some(l) = &self.lock {
            l.lock();
        }
        // SAFETY: the burst holds n owned mbufs at the front; DPDK takes
        // ownership of the first `sent`, which consumed_front forgets. The
        // queue is exclusive to this thread or guarded by the lock.
        let sent =
            unsafe { dpdk_sys::pmds_eth_tx_burst(self.port, self.queue, burst.raw_ptrs(), n) }
                as usize;
        if let Some(l) = &self.lock {
            l.unlock();
        }
        // SAFETY: exactly `sent` mbufs went to the device.
        unsafe { burst.consumed_front(sent) };
        sent
    }
}
