//! Packet capture from the fast path. A PMD checks one atomic per burst per
//! port; while a capture is armed it copies packets (up to the count asked
//! for, at most `SNAPLEN` bytes each) into a queue the control thread drains
//! into a pcap file. The PMD never waits: if the queue is busy the copy is
//! skipped and counted as missed.
use crate::packet::buf::PacketBuf;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::stats::MAX_PORTS;

/// Bytes kept of each packet.
pub const SNAPLEN: usize = 9216;
/// Copies waiting for the control thread, at most; beyond, copies are missed.
const QUEUE_MAX: usize = 8192;

/// Capture the packets a port receives.
pub const DIR_RX: u8 = 1;
/// Capture the packets the switch sends on a port.
pub const DIR_TX: u8 = 2;

/// One captured packet.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Microseconds since the Unix epoch.
    pub ts_us: u64,
    /// Length on the wire.
    pub orig_len: u32,
    /// The first `SNAPLEN` bytes.
    pub data: Vec<u8>,
}

/// A port's tap.
#[derive(Debug, Default)]
pub struct Tap {
    dirs: AtomicU8,
    remaining: AtomicU64,
    queue: Mutex<Vec<Captured>>,
    missed: AtomicU64,
}

/// Every port's tap, shared by the PMDs and the control thread.
#[derive(Debug)]
pub struct Taps {
    taps: Vec<Tap>,
}

impl Default for Taps {
    fn default() -> Self {
        Taps {
            taps: (0..MAX_PORTS).map(|_| Tap::default()).collect(),
        }
    }
}

impl Taps {
    /// Whether `port` is being captured in direction `dir`.
    #[inline(always)]
    pub fn wants(&self, port: usize, dir: u8) -> bool {
        self.taps[port].dirs.load(Relaxed) & dir != 0
    }

    /// Copies packets of `port` (the PMD calls this only when `wants`).
    #[cold]
    pub fn copy<P: PacketBuf>(&self, port: usize, pkts: &[P]) {
        let tap = &self.taps[port];
        let Ok(mut q) = tap.queue.try_lock() else {
            tap.missed.fetch_add(pkts.len() as u64, Relaxed);
            return;
        };
        let ts_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        for p in pkts {
            if tap
                .remaining
                .fetch_update(Relaxed, Relaxed, |r| r.checked_sub(1))
                .is_err()
            {
                tap.dirs.store(0, Relaxed);
                break;
            }
            if q.len() >= QUEUE_MAX {
                tap.missed.fetch_add(1, Relaxed);
                continue;
            }
            let d = p.data();
            q.push(Captured {
                ts_us,
                orig_len: d.len() as u32,
                data: d[..d.len().min(SNAPLEN)].to_vec(),
            });
        }
    }

    /// Arms `port`'s tap for `count` packets in directions `dirs`.
    pub fn arm(&self, port: usize, dirs: u8, count: u64) {
        let tap = &self.taps[port];
        tap.missed.store(0, Relaxed);
        tap.queue.lock().expect("tap poisoned").clear();
        tap.remaining.store(count, Relaxed);
        tap.dirs.store(dirs, Relaxed);
    }

    /// Disarms `port`'s tap.
    pub fn disarm(&self, port: usize) {
        self.taps[port].dirs.store(0, Relaxed);
        self.taps[port].remaining.store(0, Relaxed);
    }

    /// Takes what was captured on `port` so far, and the count missed.
    pub fn drain(&self, port: usize) -> (Vec<Captured>, u64) {
        let tap = &self.taps[port];
        let v = std::mem::take(&mut *tap.queue.lock().expect("tap poisoned"));
        (v, tap.missed.load(Relaxed))
    }
}

/// A pcap file being written: to a new file beside its final name, renamed
/// over it by [`PcapWriter::finish`], so that nothing at the final name (a
/// link, say) is ever followed or written through.
pub struct PcapWriter {
    out: std::io::BufWriter<std::fs::File>,
    tmp: std::path::PathBuf,
}

impl PcapWriter {
    /// Starts the file for `path` with a pcap header (Ethernet, microsecond
    /// stamps).
    pub fn create(path: &std::path::Path) -> std::io::Result<PcapWriter> {
        use std::io::Write;
        let name = path
            .file_name()
            .ok_or_else(|| std::io::Error::other("the path names no file"))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        // create_new is O_CREAT|O_EXCL: it fails on anything already there,
        // a link included.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut out = std::io::BufWriter::new(file);
        out.write_all(&0xa1b2c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&[0; 8])?;
        out.write_all(&(SNAPLEN as u32).to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        Ok(PcapWriter { out, tmp })
    }

    /// Flushes the file and puts it at `path`.
    pub fn finish(mut self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        self.out.flush()?;
        std::fs::rename(&self.tmp, path)
    }

    /// Appends one packet.
    pub fn write(&mut self, c: &Captured) -> std::io::Result<()> {
        use std::io::Write;
        self.out
            .write_all(&((c.ts_us / 1_000_000) as u32).to_le_bytes())?;
        self.out
            .write_all(&((c.ts_us % 1_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&(c.data.len() as u32).to_le_bytes())?;
        self.out.write_all(&c.orig_len.to_le_bytes())?;
        self.out.write_all(&c.data)
    }
}

impl Drop for PcapWriter {
    fn drop(&mut self) {
        // Not finished: the partial file goes (finish renamed it otherwise).
        let _ = std::fs::remove_file(&self.tmp);
    }
}
