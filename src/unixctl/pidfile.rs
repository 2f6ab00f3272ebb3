//! The daemon pidfile as OVS keeps it, so that `ovs-appctl` finds us: the
//! file holds the pid and a line break, and the running daemon holds a POSIX
//! write lock on it for as long as it lives (`ovs-appctl` checks that the
//! lock's owner is the pid the file names, or calls the file stale).
use anyhow::{bail, Context};
use rustix::fs::{fcntl_lock, FlockOperation};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A pidfile this process holds; removed when dropped.
pub struct Pidfile {
    path: PathBuf,
    // The lock lives as long as this descriptor (and any other descriptor
    // of the same file this process opened, so none other is ever opened).
    _file: File,
}

fn locked_elsewhere(path: &Path) -> anyhow::Result<Option<String>> {
    let Ok(f) = OpenOptions::new().read(true).write(true).open(path) else {
        return Ok(None);
    };
    match fcntl_lock(&f, FlockOperation::NonBlockingLockExclusive) {
        // Nobody held it: stale. Closing `f` drops the lock again.
        Ok(()) => Ok(None),
        Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => {
            let pid = std::fs::read_to_string(path).unwrap_or_default();
            Ok(Some(pid.trim().to_owned()))
        }
        Err(e) => Err(e).with_context(|| format!("checking the lock on {}", path.display())),
    }
}

impl Pidfile {
    /// Writes and locks `path` for this process; refuses when a running
    /// daemon holds it, replaces it when it is stale.
    pub fn create(path: &Path) -> anyhow::Result<Pidfile> {
        if let Some(pid) = locked_elsewhere(path)? {
            bail!(
                "{} is held by a running daemon (pid {pid}); stop it first or choose another rundir",
                path.display()
            );
        }
        // Written aside and renamed into place, so a reader never sees a
        // half-written pid.
        let tmp = path.with_extension("pid.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        fcntl_lock(&f, FlockOperation::NonBlockingLockExclusive)
            .with_context(|| format!("locking {}", tmp.display()))?;
        writeln!(f, "{}", std::process::id())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(Pidfile {
            path: path.to_owned(),
            _file: f,
        })
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_its_file_locked_and_removes_it_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ovs-vswitchd.pid");
        std::fs::write(&path, "999999\n").unwrap();
        // Stale (nobody holds it): replaced.
        let p = Pidfile::create(&path).unwrap();
        // POSIX locks never conflict within one process: the lock is
        // checked as the kernel lists it (a second daemon's refusal is in
        // tests/appctl.rs).
        let ino = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(&path).unwrap().ino()
        };
        let locks = std::fs::read_to_string("/proc/locks").unwrap();
        let mine = format!("POSIX  ADVISORY  WRITE {} ", std::process::id());
        assert!(
            locks
                .lines()
                .any(|l| l.contains(&mine) && l.contains(&format!(":{ino} "))),
            "no POSIX write lock by us on inode {ino}:\n{locks}"
        );
        // Read only now: closing any descriptor of the file drops the lock.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(p);
        assert!(!path.exists());
    }
}
