//! Messages that carry a match: FLOW_MOD, FLOW_REMOVED, PACKET_IN,
//! PACKET_OUT (actions only) and the FLOW / AGGREGATE multipart entries.

use crate::action::{read_actions, write_actions, Action};
use crate::error::{DecodeError, Scope};
use crate::instruction::{read_instructions, write_instructions, Instruction};
use crate::oxm::Match;
use crate::wire::{Reader, Result, Writer};

/// FLOW_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct FlowMod {
    /// Opaque controller cookie.
    pub cookie: u64,
    /// For modify/delete: which cookie bits must match.
    pub cookie_mask: u64,
    /// Table, or `OFPTT_ALL` for delete.
    pub table_id: u8,
    /// `OFPFC_*`.
    pub command: u8,
    /// Idle timeout in seconds (0: none).
    pub idle_timeout: u16,
    /// Hard timeout in seconds (0: none).
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Buffered packet to apply to, or `NO_BUFFER`.
    pub buffer_id: u32,
    /// For delete: only rules that output to this port (`OFPP_ANY`: all).
    pub out_port: u32,
    /// For delete: only rules that output to this group (`OFPG_ANY`: all).
    pub out_group: u32,
    /// `OFPFF_*`.
    pub flags: u16,
    /// The match.
    pub r#match: Match,
    /// The instructions.
    pub instructions: Vec<Instruction>,
}

impl FlowMod {
    pub(crate) fn read(r: &mut Reader) -> Result<FlowMod> {
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let table_id = r.u8()?;
        let command = r.u8()?;
        let idle_timeout = r.u16()?;
        let hard_timeout = r.u16()?;
        let priority = r.u16()?;
        let buffer_id = r.u32()?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        let flags = r.u16()?;
        r.skip(2)?;
        let r#match = Match::read(r)?;
        let instructions = read_instructions(r)?;
        Ok(FlowMod {
            cookie,
            cookie_mask,
            table_id,
            command,
            idle_timeout,
            hard_timeout,
            priority,
            buffer_id,
            out_port,
            out_group,
            flags,
            r#match,
            instructions,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u64(self.cookie);
        w.u64(self.cookie_mask);
        w.u8(self.table_id);
        w.u8(self.command);
        w.u16(self.idle_timeout);
        w.u16(self.hard_timeout);
        w.u16(self.priority);
        w.u32(self.buffer_id);
        w.u32(self.out_port);
        w.u32(self.out_group);
        w.u16(self.flags);
        w.zeros(2);
        self.r#match.write(w);
        write_instructions(&self.instructions, w);
    }
}

/// FLOW and AGGREGATE multipart request body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct FlowStatsRequest {
    /// Table, or `OFPTT_ALL`.
    pub table_id: u8,
    /// Only rules that output to this port (`OFPP_ANY`: all).
    pub out_port: u32,
    /// Only rules that output to this group (`OFPG_ANY`: all).
    pub out_group: u32,
    /// Cookie bits to match under `cookie_mask`.
    pub cookie: u64,
    /// Which cookie bits must match.
    pub cookie_mask: u64,
    /// Rules whose match this one covers.
    pub r#match: Match,
}

impl FlowStatsRequest {
    pub(crate) fn read(r: &mut Reader) -> Result<FlowStatsRequest> {
        let table_id = r.u8()?;
        r.skip(3)?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        r.skip(4)?;
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let r#match = Match::read(r)?;
        Ok(FlowStatsRequest {
            table_id,
            out_port,
            out_group,
            cookie,
            cookie_mask,
            r#match,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.table_id);
        w.zeros(3);
        w.u32(self.out_port);
        w.u32(self.out_group);
        w.zeros(4);
        w.u64(self.cookie);
        w.u64(self.cookie_mask);
        self.r#match.write(w);
    }
}

/// One FLOW reply entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct FlowStats {
    /// Table.
    pub table_id: u8,
    /// Seconds the rule has existed.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// `OFPFF_*`.
    pub flags: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets that hit the rule.
    pub packet_count: u64,
    /// Bytes that hit the rule.
    pub byte_count: u64,
    /// The match.
    pub r#match: Match,
    /// The instructions.
    pub instructions: Vec<Instruction>,
}

impl FlowStats {
    pub(crate) fn read(r: &mut Reader) -> Result<FlowStats> {
        let mut s = r.tlv(0, 56, true, Scope::Message)?;
        s.skip(2)?;
        let table_id = s.u8()?;
        s.skip(1)?;
        let duration_sec = s.u32()?;
        let duration_nsec = s.u32()?;
        let priority = s.u16()?;
        let idle_timeout = s.u16()?;
        let hard_timeout = s.u16()?;
        let flags = s.u16()?;
        s.skip(4)?;
        let cookie = s.u64()?;
        let packet_count = s.u64()?;
        let byte_count = s.u64()?;
        let r#match = Match::read(&mut s)?;
        let instructions = read_instructions(&mut s)?;
        Ok(FlowStats {
            table_id,
            duration_sec,
            duration_nsec,
            priority,
            idle_timeout,
            hard_timeout,
            flags,
            cookie,
            packet_count,
            byte_count,
            r#match,
            instructions,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.u16(0);
        w.u8(self.table_id);
        w.u8(0);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        [
            self.priority,
            self.idle_timeout,
            self.hard_timeout,
            self.flags,
        ]
        .iter()
        .for_each(|v| w.u16(*v));
        w.zeros(4);
        w.u64(self.cookie);
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        self.r#match.write(w);
        write_instructions(&self.instructions, w);
        w.patch_len(start, 0);
    }
}

/// FLOW_REMOVED body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct FlowRemoved {
    /// Cookie.
    pub cookie: u64,
    /// Priority.
    pub priority: u16,
    /// `OFPRR_*`.
    pub reason: u8,
    /// Table.
    pub table_id: u8,
    /// Seconds the rule existed.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Packets that hit the rule.
    pub packet_count: u64,
    /// Bytes that hit the rule.
    pub byte_count: u64,
    /// The match.
    pub r#match: Match,
}

impl FlowRemoved {
    pub(crate) fn read(r: &mut Reader) -> Result<FlowRemoved> {
        Ok(FlowRemoved {
            cookie: r.u64()?,
            priority: r.u16()?,
            reason: r.u8()?,
            table_id: r.u8()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            r#match: Match::read(r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u64(self.cookie);
        w.u16(self.priority);
        w.u8(self.reason);
        w.u8(self.table_id);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        w.u16(self.idle_timeout);
        w.u16(self.hard_timeout);
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        self.r#match.write(w);
    }
}

/// PACKET_IN body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PacketIn {
    /// Buffer id, or `NO_BUFFER`.
    pub buffer_id: u32,
    /// Length of the whole frame (`data` may be shorter).
    pub total_len: u16,
    /// `OFPR_*`.
    pub reason: u8,
    /// Table the packet was looked up in.
    pub table_id: u8,
    /// Cookie of the rule that sent it.
    pub cookie: u64,
    /// Pipeline fields (in_port, metadata, ...).
    pub r#match: Match,
    /// The frame, possibly truncated.
    pub data: Vec<u8>,
}

impl PacketIn {
    pub(crate) fn read(r: &mut Reader) -> Result<PacketIn> {
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let reason = r.u8()?;
        let table_id = r.u8()?;
        let cookie = r.u64()?;
        let r#match = Match::read(r)?;
        r.skip(2)?;
        Ok(PacketIn {
            buffer_id,
            total_len,
            reason,
            table_id,
            cookie,
            r#match,
            data: r.rest().to_vec(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.buffer_id);
        w.u16(self.total_len);
        w.u8(self.reason);
        w.u8(self.table_id);
        w.u64(self.cookie);
        self.r#match.write(w);
        w.zeros(2);
        w.bytes(&self.data);
    }
}

/// PACKET_OUT body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PacketOut {
    /// Buffer id, or `NO_BUFFER` when `data` holds the frame.
    pub buffer_id: u32,
    /// Ingress port for the actions (may be `OFPP_CONTROLLER`).
    pub in_port: u32,
    /// Actions to apply.
    pub actions: Vec<Action>,
    /// The frame.
    pub data: Vec<u8>,
}

impl PacketOut {
    pub(crate) fn read(r: &mut Reader) -> Result<PacketOut> {
        let buffer_id = r.u32()?;
        let in_port = r.u32()?;
        let actions_len = r.u16()? as usize;
        r.skip(6)?;
        if actions_len > r.remaining() {
            return Err(DecodeError::BadLen(Scope::Message));
        }
        let actions = read_actions(&mut r.sub(actions_len, Scope::Action)?)?;
        Ok(PacketOut {
            buffer_id,
            in_port,
            actions,
            data: r.rest().to_vec(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.buffer_id);
        w.u32(self.in_port);
        let len_at = w.len();
        w.u16(0);
        w.zeros(6);
        let start = w.len();
        write_actions(&self.actions, w);
        let n = (w.len() - start) as u16;
        w.patch_u16(len_at, n);
        w.bytes(&self.data);
    }
}
