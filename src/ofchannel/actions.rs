//! OpenFlow instructions and actions to and from the switch's rule actions,
//! with the ERROR for each one the rule tables cannot carry out yet.
use super::matching::{set_field_oxm, set_field_target};
use super::Refusal;
use crate::ofproto::normal::OFPP_LOCAL;
use crate::ofproto::{Action, Match};
use openflow::consts::error::{bad_action, bad_instruction, BAD_ACTION, BAD_INSTRUCTION};
use openflow::consts::port;
use openflow::oxm::{Field as O, Oxm};
use openflow::{Action as OfAction, Instruction};

/// OpenFlow 1.0 port numbers in Nicira resubmit: the "unchanged" one.
const NX_IN_PORT: u16 = 0xfff8;
/// The current table, in resubmit.
const NX_CURRENT_TABLE: u8 = 0xff;

fn bad_action(code: u16) -> Refusal {
    Refusal::new(BAD_ACTION, code)
}

fn output(p: u32) -> Result<Action, Refusal> {
    Ok(match p {
        port::IN_PORT => Action::InPort,
        port::NORMAL => Action::Normal,
        port::LOCAL => Action::Output(OFPP_LOCAL),
        1..=port::MAX => Action::Output(p),
        // FLOOD, ALL, CONTROLLER (no packet-in yet), TABLE (packet-out
        // only), ANY and 0 are not outputs the tables carry out.
        _ => return Err(bad_action(bad_action::BAD_OUT_PORT)),
    })
}

/// Fields SET_FIELD cannot write (read-only in OpenFlow and our tables).
pub fn read_only(f: O) -> bool {
    matches!(
        f,
        O::InPort | O::EthType | O::IpProto | O::NxIpFrag | O::NxTcpFlags | O::OnfTcpFlags
    )
}

/// The OpenFlow action types APPLY_ACTIONS may hold.
pub const SUPPORTED: &[u16] = &[
    openflow::consts::action::OUTPUT,
    openflow::consts::action::PUSH_VLAN,
    openflow::consts::action::POP_VLAN,
    openflow::consts::action::DEC_NW_TTL,
    openflow::consts::action::SET_FIELD,
];

fn set_field(o: &Oxm) -> Result<Action, Refusal> {
    let bad = || bad_action(bad_action::BAD_SET_TYPE);
    Ok(match o.field {
        O::VlanVid => Action::SetVlanVid {
            vid: (o.value & 0xfff) as u16,
            push_if_needed: false,
        },
        O::VlanPcp => Action::SetVlanPcp {
            pcp: (o.value & 7) as u8,
            push_if_needed: false,
        },
        f if read_only(f) => return Err(bad()),
        _ => {
            let (field, value, mask) = set_field_target(o).ok_or_else(bad)?;
            Action::SetField { field, value, mask }
        }
    })
}

fn action(a: &OfAction) -> Result<Action, Refusal> {
    Ok(match a {
        OfAction::Output { port, .. } => output(*port)?,
        OfAction::PushVlan(tpid @ (0x8100 | 0x88a8)) => Action::PushVlan(*tpid),
        OfAction::PushVlan(_) => return Err(bad_action(bad_action::BAD_ARGUMENT)),
        OfAction::PopVlan => Action::PopVlan,
        OfAction::DecNwTtl => Action::DecTtl,
        OfAction::SetField(o) | OfAction::NxRegLoad2(o) => set_field(o)?,
        OfAction::NxResubmit { in_port } => Action::Resubmit {
            port: (*in_port != NX_IN_PORT).then_some(u32::from(*in_port)),
            table: None,
        },
        OfAction::NxResubmitTable { in_port, table } => Action::Resubmit {
            port: (*in_port != NX_IN_PORT).then_some(u32::from(*in_port)),
            table: (*table != NX_CURRENT_TABLE).then_some(*table),
        },
        OfAction::Group(_) => return Err(bad_action(bad_action::BAD_OUT_GROUP)),
        OfAction::SetQueue(_) => return Err(bad_action(bad_action::BAD_QUEUE)),
        _ => return Err(bad_action(bad_action::BAD_TYPE)),
    })
}

/// The rule actions for a FLOW_MOD's instructions in table `table`.
/// CLEAR_ACTIONS is accepted (the action set is always empty, as
/// WRITE_ACTIONS is refused); WRITE_ACTIONS, WRITE_METADATA and METER are
/// refused with BAD_INSTRUCTION/UNSUP_INST.
pub fn from_instructions(table: u8, ins: &[Instruction]) -> Result<Vec<Action>, Refusal> {
    let bad_ins = |code| Refusal::new(BAD_INSTRUCTION, code);
    let mut apply = Vec::new();
    let mut goto = None;
    let mut seen = Vec::new();
    for i in ins {
        let kind = std::mem::discriminant(i);
        if seen.contains(&kind) {
            return Err(bad_ins(bad_instruction::UNSUP_INST));
        }
        seen.push(kind);
        match i {
            Instruction::ApplyActions(list) => {
                for a in list {
                    apply.push(action(a)?);
                }
            }
            Instruction::GotoTable(t) if *t > table && *t <= openflow::consts::table::MAX => {
                goto = Some(Action::GotoTable(*t))
            }
            Instruction::GotoTable(_) => return Err(bad_ins(bad_instruction::BAD_TABLE_ID)),
            Instruction::ClearActions => {}
            Instruction::WriteActions(_) | Instruction::WriteMetadata { .. } => {
                return Err(bad_ins(bad_instruction::UNSUP_INST))
            }
            Instruction::Meter(_) => return Err(bad_ins(bad_instruction::UNSUP_INST)),
        }
    }
    apply.extend(goto);
    Ok(apply)
}

fn to_action(a: &Action, m: &Match) -> Option<OfAction> {
    let out = |port| OfAction::Output { port, max_len: 0 };
    Some(match *a {
        Action::Output(p) => out(p),
        Action::InPort => out(port::IN_PORT),
        Action::Normal => out(port::NORMAL),
        Action::Resubmit { port, table } => OfAction::NxResubmitTable {
            in_port: port.map_or(NX_IN_PORT, |p| p as u16),
            table: table.unwrap_or(NX_CURRENT_TABLE),
        },
        Action::SetField { field, value, mask } => {
            let o = set_field_oxm(field, value, mask, m)?;
            if o.mask.is_some() {
                OfAction::NxRegLoad2(o)
            } else {
                OfAction::SetField(o)
            }
        }
        Action::DecTtl => OfAction::DecNwTtl,
        Action::PushVlan(t) => OfAction::PushVlan(t),
        Action::PopVlan => OfAction::PopVlan,
        Action::SetVlanVid { vid, .. } => OfAction::SetField(Oxm::exact(
            O::VlanVid,
            u128::from(vid) | u128::from(openflow::consts::OFPVID_PRESENT),
        )),
        Action::SetVlanPcp { pcp, .. } => OfAction::SetField(Oxm::exact(O::VlanPcp, pcp.into())),
        Action::Move(mv) => OfAction::NxRegMove {
            n_bits: mv.bits as u16,
            src_ofs: mv.src_shift as u16,
            dst_ofs: mv.dst_shift as u16,
            src: super::matching::oxm_of(mv.src, m)?.header(false),
            dst: super::matching::oxm_of(mv.dst, m)?.header(false),
        },
        Action::GotoTable(_) => return None,
    })
}

/// A rule's actions as instructions: APPLY_ACTIONS, then GOTO_TABLE.
/// `mod_vlan_vid`/`mod_vlan_pcp` from config rules (which push a tag when
/// there is none) are shown as their SET_FIELD.
pub fn to_instructions(actions: &[Action], m: &Match) -> Vec<Instruction> {
    let apply: Vec<OfAction> = actions.iter().filter_map(|a| to_action(a, m)).collect();
    let mut out = vec![Instruction::ApplyActions(apply)];
    if let Some(Action::GotoTable(t)) = actions.iter().find(|a| matches!(a, Action::GotoTable(_))) {
        out.push(Instruction::GotoTable(*t));
    }
    out
}
