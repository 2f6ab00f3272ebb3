//! Mempools shared per (NUMA socket, buffer size), as OVS-DPDK shares them:
//! ports with the same MTU on the same node draw from one pool.
use crate::dpdk::mempool::{buffer_size_for_mtu, data_room_for_mtu};
use crate::dpdk::{DpdkError, Mempool};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One pool and who uses it.
#[derive(Debug)]
pub struct PoolEntry {
    /// The pool.
    pub pool: Arc<Mempool>,
    /// The MTU it was sized for (the largest among its users).
    pub mtu: u32,
    /// Names of the ports that draw from it.
    pub users: Vec<String>,
    /// Mbufs in use once its ports had started, before any traffic: rx
    /// rings hold buffers, so "no leak" means "back to this number".
    pub baseline_in_use: u32,
    /// Since when it has been exhausted (None: it is not).
    pub exhausted_since: Option<Instant>,
    /// Times it ran out.
    pub exhausted_episodes: u64,
    /// Time spent exhausted, episodes that ended.
    pub exhausted_before: Duration,
}

/// Fewer mbufs than one rx burst left: a port drawing from the pool
/// receives nothing, and most drivers do not count that.
const EXHAUSTED_BELOW: u32 = 32;

impl PoolEntry {
    /// Time spent exhausted, the running episode included.
    pub fn exhausted_time(&self) -> Duration {
        self.exhausted_before + self.exhausted_since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// All pools of the switch.
#[derive(Debug, Default)]
pub struct MempoolRegistry {
    pools: BTreeMap<(i32, u32), PoolEntry>,
    mbufs: u32,
    home_socket: i32,
}

impl MempoolRegistry {
    /// A registry creating pools of `mbufs` buffers each; ports whose NUMA
    /// node is unknown (virtual devices) get theirs on `home_socket`.
    pub fn new(mbufs: u32, home_socket: i32) -> Self {
        MempoolRegistry {
            pools: BTreeMap::new(),
            mbufs,
            home_socket,
        }
    }

    /// The pool for a port with `mtu` on `socket`, created on first use.
    pub fn get(&mut self, socket: i32, mtu: u32, user: &str) -> Result<Arc<Mempool>, DpdkError> {
        let socket = if socket < 0 { self.home_socket } else { socket };
        let room = data_room_for_mtu(mtu);
        let key = (socket, room);
        if let Some(e) = self.pools.get_mut(&key) {
            e.users.push(user.to_owned());
            e.mtu = e.mtu.max(mtu);
            return Ok(e.pool.clone());
        }
        let name = format!("pmds_s{socket}_{room}");
        let pool = Arc::new(Mempool::create(&name, self.mbufs, room, socket)?);
        tracing::info!(pool = %name, socket, mtu, mbufs = self.mbufs, buffer = buffer_size_for_mtu(mtu), "created mempool");
        self.pools.insert(
            key,
            PoolEntry {
                pool: pool.clone(),
                mtu,
                users: vec![user.to_owned()],
                baseline_in_use: 0,
                exhausted_since: None,
                exhausted_episodes: 0,
                exhausted_before: Duration::ZERO,
            },
        );
        Ok(pool)
    }

    /// Forgets a port that went away (its pool stays for the next one).
    pub fn remove_user(&mut self, user: &str) {
        for e in self.pools.values_mut() {
            e.users.retain(|u| u != user);
        }
    }

    /// Records the current in-use counts as the no-traffic baseline.
    pub fn record_baseline(&mut self) {
        for e in self.pools.values_mut() {
            e.baseline_in_use = e.pool.in_use();
        }
    }

    /// Looks at every pool (the main loop calls this often): a pool that
    /// ran out starts an episode, logged once with the ports it starves; one
    /// that recovered ends it.
    pub fn watch(&mut self) {
        for e in self.pools.values_mut() {
            let avail = e.pool.available();
            match (avail < EXHAUSTED_BELOW, e.exhausted_since) {
                (true, None) => {
                    e.exhausted_since = Some(Instant::now());
                    e.exhausted_episodes += 1;
                    tracing::warn!(
                        pool = e.pool.name(),
                        mbufs = e.pool.count(),
                        available = avail,
                        ports = %e.users.join(","),
                        "mempool exhausted: its ports cannot receive (raise [memory] mbufs)"
                    );
                }
                (false, Some(t)) => {
                    e.exhausted_before += t.elapsed();
                    e.exhausted_since = None;
                    tracing::info!(
                        pool = e.pool.name(),
                        after_ms = t.elapsed().as_millis() as u64,
                        "mempool has buffers again"
                    );
                }
                _ => {}
            }
        }
    }

    /// The pool port `user` draws from.
    pub fn of_user(&self, user: &str) -> Option<&PoolEntry> {
        self.pools
            .values()
            .find(|e| e.users.iter().any(|u| u == user))
    }

    /// Every pool.
    pub fn entries(&self) -> impl Iterator<Item = &PoolEntry> {
        self.pools.values()
    }

    /// Drops the registry's references; pools are freed once their ports are gone.
    pub fn clear(&mut self) {
        self.pools.clear();
    }
}
