//! Groups: buckets, GROUP_MOD, and the GROUP / GROUP_DESC multipart entries.

use crate::action::{read_actions, write_actions, Action};
use crate::error::Scope;
use crate::structs::BucketCounter;
use crate::wire::{Reader, Result, Writer};

/// `ofp_bucket`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Bucket {
    /// Relative weight (SELECT groups).
    pub weight: u16,
    /// Port whose liveness decides this bucket (FAST_FAILOVER).
    pub watch_port: u32,
    /// Group whose liveness decides this bucket.
    pub watch_group: u32,
    /// Actions applied to the packet's copy.
    pub actions: Vec<Action>,
}

impl Bucket {
    fn read(r: &mut Reader) -> Result<Bucket> {
        let mut b = r.tlv(0, 16, true, Scope::Bucket)?;
        b.skip(2)?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.skip(4)?;
        Ok(Bucket {
            weight,
            watch_port,
            watch_group,
            actions: read_actions(&mut b)?,
        })
    }

    fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.u16(0);
        w.u16(self.weight);
        w.u32(self.watch_port);
        w.u32(self.watch_group);
        w.zeros(4);
        write_actions(&self.actions, w);
        w.patch_len(start, 0);
    }
}

fn read_buckets(r: &mut Reader) -> Result<Vec<Bucket>> {
    crate::wire::read_all(r, Bucket::read)
}

/// GROUP_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct GroupMod {
    /// `OFPGC_*`.
    pub command: u16,
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

impl GroupMod {
    pub(crate) fn read(r: &mut Reader) -> Result<GroupMod> {
        let command = r.u16()?;
        let group_type = r.u8()?;
        r.skip(1)?;
        let group_id = r.u32()?;
        Ok(GroupMod {
            command,
            group_type,
            group_id,
            buckets: read_buckets(r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.command);
        w.u8(self.group_type);
        w.u8(0);
        w.u32(self.group_id);
        self.buckets.iter().for_each(|b| b.write(w));
    }
}

/// One GROUP_DESC reply entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct GroupDesc {
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

impl GroupDesc {
    pub(crate) fn read(r: &mut Reader) -> Result<GroupDesc> {
        let mut d = r.tlv(0, 8, true, Scope::Message)?;
        d.skip(2)?;
        let group_type = d.u8()?;
        d.skip(1)?;
        let group_id = d.u32()?;
        Ok(GroupDesc {
            group_type,
            group_id,
            buckets: read_buckets(&mut d)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.u16(0);
        w.u8(self.group_type);
        w.u8(0);
        w.u32(self.group_id);
        self.buckets.iter().for_each(|b| b.write(w));
        w.patch_len(start, 0);
    }
}

/// One GROUP (statistics) reply entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct GroupStats {
    /// Group id.
    pub group_id: u32,
    /// Rules and groups that point at this group.
    pub ref_count: u32,
    /// Packets through the group.
    pub packet_count: u64,
    /// Bytes through the group.
    pub byte_count: u64,
    /// Seconds the group has existed.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Per-bucket counters.
    pub buckets: Vec<BucketCounter>,
}

impl GroupStats {
    pub(crate) fn read(r: &mut Reader) -> Result<GroupStats> {
        let mut s = r.tlv(0, 40, true, Scope::Message)?;
        s.skip(4)?;
        let group_id = s.u32()?;
        let ref_count = s.u32()?;
        s.skip(4)?;
        let packet_count = s.u64()?;
        let byte_count = s.u64()?;
        let duration_sec = s.u32()?;
        let duration_nsec = s.u32()?;
        let buckets = crate::wire::read_all(&mut s, BucketCounter::read)?;
        Ok(GroupStats {
            group_id,
            ref_count,
            packet_count,
            byte_count,
            duration_sec,
            duration_nsec,
            buckets,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.zeros(4);
        w.u32(self.group_id);
        w.u32(self.ref_count);
        w.zeros(4);
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        self.buckets.iter().for_each(|b| b.write(w));
        w.patch_len(start, 0);
    }
}
