//! Actions (`ofp_action_*`) and the Nicira extension actions `ovs-ofctl`
//! sends in OpenFlow 1.3 (resubmit, load, move, dec_ttl).

use crate::consts::{action as t, experimenter, nxast};
use crate::error::{DecodeError, Scope};
use crate::oxm::Oxm;
use crate::wire::{Reader, Result, Writer};

/// One action.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Action {
    /// Output to a port; `max_len` bytes go to the controller for `CONTROLLER`.
    Output {
        /// Port number or reserved `OFPP_*`.
        port: u32,
        /// Bytes to send to the controller (`OFPCML_NO_BUFFER` = all).
        max_len: u16,
    },
    /// Copy TTL outwards (inner to outer header).
    CopyTtlOut,
    /// Copy TTL inwards.
    CopyTtlIn,
    /// Set the MPLS TTL.
    SetMplsTtl(u8),
    /// Decrement the MPLS TTL.
    DecMplsTtl,
    /// Push a VLAN tag with this TPID.
    PushVlan(u16),
    /// Pop the outer VLAN tag.
    PopVlan,
    /// Push an MPLS label with this ethertype.
    PushMpls(u16),
    /// Pop the MPLS label; the packet gets this ethertype.
    PopMpls(u16),
    /// Set the output queue.
    SetQueue(u32),
    /// Process through a group.
    Group(u32),
    /// Set the IP TTL.
    SetNwTtl(u8),
    /// Decrement the IP TTL.
    DecNwTtl,
    /// Set a header field (exact OXM; masks are refused in 1.3).
    SetField(#[cfg_attr(test, proptest(strategy = "crate::oxm::arb::exact_oxm()"))] Oxm),
    /// Push a PBB service tag with this ethertype.
    PushPbb(u16),
    /// Pop the PBB service tag.
    PopPbb,
    /// NXAST_RESUBMIT: look the packet up again with `in_port` (0xfff8 = unchanged).
    NxResubmit {
        /// OpenFlow 1.0 port number the lookup uses.
        in_port: u16,
    },
    /// NXAST_RESUBMIT_TABLE: resubmit to a table (0xff = the current one).
    NxResubmitTable {
        /// OpenFlow 1.0 port number the lookup uses.
        in_port: u16,
        /// Table, 0xff for the current one.
        table: u8,
    },
    /// NXAST_REG_LOAD: load `value` into bits of the field named by `dst`.
    NxRegLoad {
        /// Offset in bits (high 10 bits) and bit count minus one (low 6 bits).
        ofs_nbits: u16,
        /// NXM/OXM header of the destination field.
        dst: u32,
        /// Value, right-aligned.
        value: u64,
    },
    /// NXAST_REG_LOAD2: set a field under a mask (OVS's `set_field:v/m->f`).
    NxRegLoad2(Oxm),
    /// NXAST_REG_MOVE: copy bits between fields.
    NxRegMove {
        /// Bits to copy.
        n_bits: u16,
        /// First source bit.
        src_ofs: u16,
        /// First destination bit.
        dst_ofs: u16,
        /// NXM/OXM header of the source field.
        src: u32,
        /// NXM/OXM header of the destination field.
        dst: u32,
    },
    /// NXAST_DEC_TTL (OpenFlow 1.0's `dec_ttl`).
    NxDecTtl,
}

/// Fixed-size actions with no argument, by type.
const BARE: &[(u16, Action)] = &[
    (t::COPY_TTL_OUT, Action::CopyTtlOut),
    (t::COPY_TTL_IN, Action::CopyTtlIn),
    (t::DEC_MPLS_TTL, Action::DecMplsTtl),
    (t::POP_VLAN, Action::PopVlan),
    (t::DEC_NW_TTL, Action::DecNwTtl),
    (t::POP_PBB, Action::PopPbb),
];

impl Action {
    /// Decodes one action (length checked, 8-byte multiple).
    pub(crate) fn read(r: &mut Reader) -> Result<Action> {
        let mut a = r.tlv(2, 8, true, Scope::Action)?;
        let typ = a.u16()?;
        a.skip(2)?;
        let body_len = a.remaining();
        let fixed = |want: usize| {
            if body_len == want {
                Ok(())
            } else {
                Err(DecodeError::BadLen(Scope::Action))
            }
        };
        if let Some((_, act)) = BARE.iter().find(|(ty, _)| *ty == typ) {
            fixed(4)?;
            return Ok(act.clone());
        }
        let act = match typ {
            t::OUTPUT => {
                fixed(12)?;
                Action::Output {
                    port: a.u32()?,
                    max_len: a.u16()?,
                }
            }
            t::SET_MPLS_TTL | t::SET_NW_TTL => {
                fixed(4)?;
                let ttl = a.u8()?;
                if typ == t::SET_MPLS_TTL {
                    Action::SetMplsTtl(ttl)
                } else {
                    Action::SetNwTtl(ttl)
                }
            }
            t::PUSH_VLAN | t::PUSH_MPLS | t::POP_MPLS | t::PUSH_PBB => {
                fixed(4)?;
                let eth = a.u16()?;
                match typ {
                    t::PUSH_VLAN => Action::PushVlan(eth),
                    t::PUSH_MPLS => Action::PushMpls(eth),
                    t::POP_MPLS => Action::PopMpls(eth),
                    _ => Action::PushPbb(eth),
                }
            }
            t::SET_QUEUE | t::GROUP => {
                fixed(4)?;
                let v = a.u32()?;
                if typ == t::SET_QUEUE {
                    Action::SetQueue(v)
                } else {
                    Action::Group(v)
                }
            }
            t::SET_FIELD => {
                let mut f = Reader::new(a.rest(), Scope::SetField);
                let oxm = Oxm::read(&mut f).map_err(set_field_error)?;
                if oxm.mask.is_some() || f.rest().iter().any(|&b| b != 0) {
                    return Err(DecodeError::BadSetField);
                }
                Action::SetField(oxm)
            }
            t::EXPERIMENTER => read_experimenter(&mut a)?,
            other => return Err(DecodeError::BadActionType(other)),
        };
        Ok(act)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        let typ = self.wire_type();
        w.u16(typ);
        w.u16(0);
        match *self {
            Action::Output { port, max_len } => {
                w.u32(port);
                w.u16(max_len);
                w.zeros(6);
            }
            Action::SetMplsTtl(v) | Action::SetNwTtl(v) => {
                w.u8(v);
                w.zeros(3);
            }
            Action::PushVlan(v) | Action::PushMpls(v) | Action::PopMpls(v) | Action::PushPbb(v) => {
                w.u16(v);
                w.zeros(2);
            }
            Action::SetQueue(v) | Action::Group(v) => w.u32(v),
            Action::SetField(ref oxm) => oxm.write(w),
            Action::NxResubmit { .. }
            | Action::NxResubmitTable { .. }
            | Action::NxRegLoad { .. }
            | Action::NxRegLoad2(_)
            | Action::NxRegMove { .. }
            | Action::NxDecTtl => self.write_nicira(w),
            _ => w.zeros(4),
        }
        w.pad8_from(start);
        w.patch_len(start, 2);
    }

    fn wire_type(&self) -> u16 {
        if let Some((ty, _)) = BARE.iter().find(|(_, a)| a == self) {
            return *ty;
        }
        match self {
            Action::Output { .. } => t::OUTPUT,
            Action::SetMplsTtl(_) => t::SET_MPLS_TTL,
            Action::PushVlan(_) => t::PUSH_VLAN,
            Action::PushMpls(_) => t::PUSH_MPLS,
            Action::PopMpls(_) => t::POP_MPLS,
            Action::SetQueue(_) => t::SET_QUEUE,
            Action::Group(_) => t::GROUP,
            Action::SetNwTtl(_) => t::SET_NW_TTL,
            Action::SetField(_) => t::SET_FIELD,
            Action::PushPbb(_) => t::PUSH_PBB,
            _ => t::EXPERIMENTER,
        }
    }

    fn write_nicira(&self, w: &mut Writer) {
        w.u32(experimenter::NICIRA);
        match *self {
            Action::NxResubmit { in_port } => {
                w.u16(nxast::RESUBMIT);
                w.u16(in_port);
                w.zeros(4);
            }
            Action::NxResubmitTable { in_port, table } => {
                w.u16(nxast::RESUBMIT_TABLE);
                w.u16(in_port);
                w.u8(table);
                w.zeros(3);
            }
            Action::NxRegLoad {
                ofs_nbits,
                dst,
                value,
            } => {
                w.u16(nxast::REG_LOAD);
                w.u16(ofs_nbits);
                w.u32(dst);
                w.u64(value);
            }
            Action::NxRegLoad2(ref oxm) => {
                w.u16(nxast::REG_LOAD2);
                oxm.write(w);
            }
            Action::NxRegMove {
                n_bits,
                src_ofs,
                dst_ofs,
                src,
                dst,
            } => {
                w.u16(nxast::REG_MOVE);
                [n_bits, src_ofs, dst_ofs].iter().for_each(|v| w.u16(*v));
                w.u32(src);
                w.u32(dst);
            }
            _ => {
                w.u16(nxast::DEC_TTL);
                w.zeros(6);
            }
        }
    }
}

/// A bad OXM inside SET_FIELD is a bad set_field action, not a bad match.
fn set_field_error(e: DecodeError) -> DecodeError {
    match e {
        DecodeError::BadLen(_) => DecodeError::BadLen(Scope::SetField),
        _ => DecodeError::BadSetField,
    }
}

fn read_experimenter(a: &mut Reader) -> Result<Action> {
    let exp = a.u32()?;
    if exp != experimenter::NICIRA {
        return Err(DecodeError::BadActionExperimenter(exp));
    }
    let subtype = a.u16()?;
    let fixed = |a: &Reader, want: usize| {
        if a.remaining() == want {
            Ok(())
        } else {
            Err(DecodeError::BadLen(Scope::Action))
        }
    };
    Ok(match subtype {
        nxast::RESUBMIT => {
            fixed(a, 6)?;
            Action::NxResubmit { in_port: a.u16()? }
        }
        nxast::RESUBMIT_TABLE => {
            fixed(a, 6)?;
            Action::NxResubmitTable {
                in_port: a.u16()?,
                table: a.u8()?,
            }
        }
        nxast::REG_LOAD => {
            fixed(a, 14)?;
            Action::NxRegLoad {
                ofs_nbits: a.u16()?,
                dst: a.u32()?,
                value: a.u64()?,
            }
        }
        nxast::REG_LOAD2 => {
            let oxm = Oxm::read(a).map_err(set_field_error)?;
            if a.rest().iter().any(|&b| b != 0) {
                return Err(DecodeError::BadLen(Scope::Action));
            }
            Action::NxRegLoad2(oxm)
        }
        nxast::REG_MOVE => {
            fixed(a, 14)?;
            Action::NxRegMove {
                n_bits: a.u16()?,
                src_ofs: a.u16()?,
                dst_ofs: a.u16()?,
                src: a.u32()?,
                dst: a.u32()?,
            }
        }
        nxast::DEC_TTL => {
            fixed(a, 6)?;
            Action::NxDecTtl
        }
        other => return Err(DecodeError::BadActionExpType(other)),
    })
}

/// Decodes actions until the reader is empty.
pub(crate) fn read_actions(r: &mut Reader) -> Result<Vec<Action>> {
    crate::wire::read_all(r, Action::read)
}

/// Encodes a list of actions.
pub(crate) fn write_actions(actions: &[Action], w: &mut Writer) {
    actions.iter().for_each(|a| a.write(w));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(hex: &str) -> Result<Vec<Action>> {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        read_actions(&mut Reader::new(&bytes, Scope::Action))
    }

    #[test]
    fn decodes_what_ovs_ofctl_sends() {
        // Captured from `ovs-ofctl -O OpenFlow13 add-flow`.
        assert_eq!(
            decode("ffff00180000232000060030000000000000040600000206").unwrap(),
            [Action::NxRegMove {
                n_bits: 48,
                src_ofs: 0,
                dst_ofs: 0,
                src: 0x406,
                dst: 0x206
            }]
        );
        assert_eq!(
            decode("ffff00180000232000070003000100040000000000000005").unwrap(),
            [Action::NxRegLoad {
                ofs_nbits: 3,
                dst: 0x0001_0004,
                value: 5
            }]
        );
        assert_eq!(
            decode("ffff001000002320000e000103000000ffff001000002320000e0004ff000000").unwrap(),
            [
                Action::NxResubmitTable {
                    in_port: 1,
                    table: 3
                },
                Action::NxResubmitTable {
                    in_port: 4,
                    table: 0xff
                }
            ]
        );
        assert_eq!(decode("0018000800000000").unwrap(), [Action::DecNwTtl]);
    }

    #[test]
    fn wrong_lengths_are_bad_action_len() {
        // OUTPUT with length 8, and a length that is not a multiple of 8.
        assert_eq!(decode("0000000800000001").unwrap_err().ofp_error(), (2, 1));
        assert_eq!(
            decode("0000000c000000010000000000000000")
                .unwrap_err()
                .ofp_error(),
            (2, 1)
        );
        assert_eq!(decode("00000010").unwrap_err().ofp_error(), (2, 1));
    }

    #[test]
    fn unknown_types_map_to_their_codes() {
        assert_eq!(decode("0063000800000000").unwrap_err().ofp_error(), (2, 0));
        assert_eq!(
            decode("ffff0010000012340000000000000000")
                .unwrap_err()
                .ofp_error(),
            (2, 2)
        );
        assert_eq!(
            decode("ffff0010000023200063000000000000")
                .unwrap_err()
                .ofp_error(),
            (2, 3)
        );
    }

    #[test]
    fn set_field_with_mask_is_refused() {
        // set_field eth_type with a mask bit.
        assert_eq!(
            decode("0019001080000b04080000ff00000000").unwrap_err(),
            DecodeError::BadSetField
        );
    }
}
