//! Captures being written: started and ended by the control socket, fed by
//! the taps the PMDs fill. A capture follows its port (it ends when the port
//! goes, even if another port takes the slot) and its client (it ends when
//! nobody has asked about it for a while, as when `ctl capture` is killed).
use super::Switch;
use crate::pmd::capture::PcapWriter;
use anyhow::{anyhow, bail, Context};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A capture with no status request for this long has lost its client.
const CLIENT_GONE_AFTER: Duration = Duration::from_secs(3);

/// A capture being written to a pcap file.
pub struct CaptureJob {
    /// Its id for `capture-status`.
    pub id: u64,
    /// Port slot.
    pub port: usize,
    /// The port's name.
    pub port_name: String,
    /// Packets asked for.
    pub wanted: u64,
    /// Packets written to the file.
    pub written: u64,
    /// Copies the fast path skipped (queue busy or full); never written.
    pub missed: u64,
    writer: Option<PcapWriter>,
    /// The file.
    pub path: PathBuf,
    /// Why it ended early, if it did.
    pub ended: Option<String>,
    last_asked: Instant,
}

impl CaptureJob {
    /// Whether it is still capturing.
    pub fn running(&self) -> bool {
        self.writer.is_some()
    }
}

impl Switch {
    /// Every capture, running or ended.
    pub fn captures(&self) -> &[CaptureJob] {
        &self.captures
    }

    /// Ends every running capture, keeping what each has written (the
    /// switch is stopping).
    pub fn stop_all_captures(&mut self) {
        let running: Vec<u64> = self
            .captures
            .iter()
            .filter(|c| c.running())
            .map(|c| c.id)
            .collect();
        for id in running {
            if let Err(e) = self.stop_capture(id) {
                tracing::error!("capture {id}: {e:#}");
            }
        }
    }

    /// Starts copying up to `count` packets of port `name` (directions
    /// `dirs`) into the pcap file `path`; returns the capture's id. The file
    /// is written beside its final name and renamed there when the capture
    /// ends, so a link at `path` is replaced, never followed.
    pub fn start_capture(
        &mut self,
        name: &str,
        dirs: u8,
        count: u64,
        path: PathBuf,
    ) -> anyhow::Result<u64> {
        let port = self
            .port_index(name)
            .ok_or_else(|| anyhow!("no port named {name:?}"))?;
        if count == 0 {
            bail!("the count must be at least 1");
        }
        if self.captures.iter().any(|c| c.port == port && c.running()) {
            bail!("port {name} is already being captured");
        }
        let writer =
            PcapWriter::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let id = self.captures.iter().map(|c| c.id).max().unwrap_or(0) + 1;
        self.taps.arm(port, dirs, count);
        self.captures.push(CaptureJob {
            id,
            port,
            port_name: name.to_owned(),
            wanted: count,
            written: 0,
            missed: 0,
            writer: Some(writer),
            path,
            ended: None,
            last_asked: Instant::now(),
        });
        Ok(id)
    }

    /// Moves captured packets into their files; finishes complete captures
    /// and those whose client went away.
    pub fn pump_captures(&mut self) {
        let mut finish = Vec::new();
        for job in self.captures.iter_mut().filter(|j| j.running()) {
            let (pkts, missed) = self.taps.drain(job.port);
            job.missed = missed;
            let w = job.writer.as_mut().expect("running");
            for (i, p) in pkts.iter().enumerate() {
                if let Err(e) = w.write(p) {
                    tracing::error!(file = %job.path.display(), "capture: {e}");
                    job.missed += (pkts.len() - i) as u64;
                    job.ended = Some(format!("writing the file failed: {e}"));
                    break;
                }
                job.written += 1;
            }
            if job.ended.is_some() || job.written + job.missed >= job.wanted {
                finish.push(job.id);
            } else if job.last_asked.elapsed() > CLIENT_GONE_AFTER {
                job.ended = Some("its client went away".into());
                finish.push(job.id);
            }
        }
        for id in finish {
            let _ = self.finish_capture(id);
        }
    }

    /// Records that a client asked about capture `id` (it is still there).
    pub fn touch_capture(&mut self, id: u64) {
        if let Some(j) = self.captures.iter_mut().find(|j| j.id == id) {
            j.last_asked = Instant::now();
        }
    }

    /// Ends a capture early, keeping what was written.
    pub fn stop_capture(&mut self, id: u64) -> anyhow::Result<()> {
        if !self.captures.iter().any(|j| j.id == id) {
            bail!("no capture {id}");
        }
        self.finish_capture(id)
    }

    /// Ends the captures of port slot `slot` (its port went away).
    pub(super) fn end_captures_of(&mut self, slot: usize) {
        let ids: Vec<u64> = self
            .captures
            .iter_mut()
            .filter(|j| j.port == slot && j.running())
            .map(|j| {
                j.ended = Some(format!("port {} was removed", j.port_name));
                j.id
            })
            .collect();
        for id in ids {
            let _ = self.finish_capture(id);
        }
    }

    fn finish_capture(&mut self, id: u64) -> anyhow::Result<()> {
        let job = self
            .captures
            .iter_mut()
            .find(|j| j.id == id)
            .ok_or_else(|| anyhow!("no capture {id}"))?;
        if job.writer.is_some() {
            self.taps.disarm(job.port);
            // What the PMDs copied before the disarm still goes in.
            let (pkts, missed) = self.taps.drain(job.port);
            job.missed = job.missed.max(missed);
            let mut w = job.writer.take().expect("checked");
            for p in &pkts {
                if job.written < job.wanted && w.write(p).is_ok() {
                    job.written += 1;
                }
            }
            w.finish(&job.path)
                .with_context(|| format!("writing {}", job.path.display()))?;
        }
        Ok(())
    }
}
