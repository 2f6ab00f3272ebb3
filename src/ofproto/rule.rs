//! The OpenFlow-level vocabulary: masked matches, rule actions and flow-mods.

use crate::flow::key::{Field, FlowKey};
use std::fmt;

/// A masked match. `key` is always stored pre-masked (`key & mask == key`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Match {
    pub key: FlowKey,
    pub mask: FlowKey,
}

impl Match {
    /// The match-everything match.
    pub const ANY: Match = Match {
        key: FlowKey::ZERO,
        mask: FlowKey::ZERO,
    };

    /// Adds `field == value` on the bits of `mask` (both right-aligned).
    pub fn set_masked(&mut self, f: Field, value: u128, mask: u128) {
        let m = self.mask.get(f) | mask;
        let v = (self.key.get(f) & !mask) | (value & mask);
        self.mask.set(f, m);
        self.key.set(f, v & m);
    }

    /// Adds an exact `field == value`.
    pub fn set_exact(&mut self, f: Field, value: u128) {
        self.set_masked(f, value, f.full_mask());
    }

    /// Whether `k` matches.
    #[inline]
    pub fn matches(&self, k: &FlowKey) -> bool {
        (0..self.key.words.len()).all(|i| k.words[i] & self.mask.words[i] == self.key.words[i])
    }

    /// Whether every key matching `self` also matches `other` (`self` is at
    /// least as specific): the OpenFlow non-strict delete/modify relation.
    pub fn is_within(&self, other: &Match) -> bool {
        (0..self.key.words.len()).all(|i| {
            other.mask.words[i] & !self.mask.words[i] == 0
                && self.key.words[i] & other.mask.words[i] == other.key.words[i]
        })
    }
}

/// One rule action (OpenFlow semantics, before translation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `output:N`; output to the input port is skipped (use `IN_PORT`).
    Output(u32),
    /// `IN_PORT`.
    InPort,
    /// `NORMAL`: the MAC-learning switch.
    Normal,
    /// `goto_table:N`: continue in table N after this rule's actions.
    GotoTable(u8),
    /// `resubmit(port,table)`: look up again (with `in_port` replaced when
    /// `port` is given, in the current table when `table` is not) and
    /// continue with this rule's remaining actions afterwards.
    Resubmit {
        port: Option<u32>,
        table: Option<u8>,
    },
    /// Writes `value` into the bits of `mask` of `field` (right-aligned).
    /// Applied only when the packet has the field (like OVS).
    SetField {
        field: Field,
        value: u128,
        mask: u128,
    },
    /// `dec_ttl`.
    DecTtl,
    /// `push_vlan:TPID`.
    PushVlan(u16),
    /// `strip_vlan` / `pop_vlan`.
    PopVlan,
    /// `mod_vlan_vid` (pushes a tag when none, OVS's OpenFlow 1.0 rule) or
    /// `set_field:V->vlan_vid` (only when tagged).
    SetVlanVid { vid: u16, push_if_needed: bool },
    /// `mod_vlan_pcp` / `set_field:V->vlan_pcp`, as for the VID.
    SetVlanPcp { pcp: u8, push_if_needed: bool },
    /// `move`: copies bits of one field of the packet into another.
    Move(FieldMove),
}

/// What a `move` copies: `bits` bits of `src` (from bit `src_shift` of its
/// slot in the key) to `dst` (from bit `dst_shift`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldMove {
    pub src: Field,
    pub src_shift: u32,
    pub dst: Field,
    pub dst_shift: u32,
    pub bits: u32,
}

/// A parsed `add-flow` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowMod {
    pub table: u8,
    pub priority: u16,
    pub cookie: u64,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub m: Match,
    pub actions: Vec<Action>,
}

/// Default OpenFlow priority.
pub const DEFAULT_PRIORITY: u16 = 32768;

/// Formats a field value in OVS style (MAC, dotted quad, IPv6 or number).
pub fn fmt_value(f: Field, v: u128) -> String {
    match f {
        Field::DlSrc | Field::DlDst | Field::ArpSha | Field::ArpTha => {
            let b = (v as u64).to_be_bytes();
            format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                b[2], b[3], b[4], b[5], b[6], b[7]
            )
        }
        Field::NwSrc | Field::NwDst => std::net::Ipv4Addr::from(v as u32).to_string(),
        Field::Ipv6Src | Field::Ipv6Dst | Field::NdTarget => {
            std::net::Ipv6Addr::from(v).to_string()
        }
        Field::DlType
        | Field::VlanTci0
        | Field::VlanTci1
        | Field::VlanTpid0
        | Field::VlanTpid1
        | Field::TcpFlags => {
            format!("{v:#x}")
        }
        _ => v.to_string(),
    }
}

impl fmt::Display for Match {
    /// Prints `field=value[/mask]` pairs in key order (our names).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for field in Field::ALL {
            let m = self.mask.get(*field);
            if m == 0 {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(
                f,
                "{}={}",
                field.name(),
                fmt_value(*field, self.key.get(*field))
            )?;
            if m != field.full_mask() {
                write!(f, "/{}", fmt_value(*field, m))?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Output(p) => write!(f, "output:{p}"),
            Action::InPort => f.write_str("IN_PORT"),
            Action::Normal => f.write_str("NORMAL"),
            Action::GotoTable(t) => write!(f, "goto_table:{t}"),
            Action::Resubmit { port, table } => {
                write!(f, "resubmit(")?;
                if let Some(p) = port {
                    write!(f, "{p}")?;
                }
                f.write_str(",")?;
                if let Some(t) = table {
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            Action::SetField { field, value, mask } => {
                write!(f, "set_field:{}", fmt_value(field, value))?;
                if mask != field.full_mask() {
                    write!(f, "/{}", fmt_value(field, mask))?;
                }
                write!(f, "->{}", field.name())
            }
            Action::DecTtl => f.write_str("dec_ttl"),
            Action::PushVlan(t) => write!(f, "push_vlan:{t:#x}"),
            Action::PopVlan => f.write_str("pop_vlan"),
            Action::SetVlanVid {
                vid,
                push_if_needed: true,
            } => write!(f, "mod_vlan_vid:{vid}"),
            Action::SetVlanVid { vid, .. } => write!(f, "set_field:{vid}->vlan_vid"),
            Action::SetVlanPcp {
                pcp,
                push_if_needed: true,
            } => write!(f, "mod_vlan_pcp:{pcp}"),
            Action::SetVlanPcp { pcp, .. } => write!(f, "set_field:{pcp}->vlan_pcp"),
            // Our slot names and bits (they parse back: every slot is a
            // field name).
            Action::Move(m) => write!(
                f,
                "move:{}[{}..{}]->{}[{}..{}]",
                m.src.name(),
                m.src_shift,
                m.src_shift + m.bits - 1,
                m.dst.name(),
                m.dst_shift,
                m.dst_shift + m.bits - 1
            ),
        }
    }
}

/// Formats an action list (`drop` when empty).
pub fn fmt_actions(actions: &[Action]) -> String {
    if actions.is_empty() {
        return "drop".into();
    }
    actions
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
