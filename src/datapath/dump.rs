//! Megaflows as `dump-flows` shows them.
use crate::flow::actions::DpAction;
use crate::flow::key::{Field, FlowKey};
use std::fmt::Write;
use std::sync::Arc;

/// One megaflow of one PMD.
#[derive(Debug, Clone)]
pub struct FlowDump {
    /// The PMD's core.
    pub core: usize,
    /// Masked key.
    pub key: FlowKey,
    /// Mask.
    pub mask: FlowKey,
    /// Actions.
    pub actions: Arc<[DpAction]>,
    /// Packets that hit it.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Seconds since the last hit.
    pub used_s: f64,
}

/// An Ethernet address as text.
pub fn mac(v: u128) -> String {
    let b = (v as u64).to_be_bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[2], b[3], b[4], b[5], b[6], b[7]
    )
}

/// A field's value as the flow syntax writes it.
pub fn value(f: Field, v: u128) -> String {
    match f {
        Field::DlSrc | Field::DlDst | Field::ArpSha | Field::ArpTha => mac(v),
        Field::NwSrc | Field::NwDst => std::net::Ipv4Addr::from(v as u32).to_string(),
        Field::Ipv6Src | Field::Ipv6Dst | Field::NdTarget => {
            std::net::Ipv6Addr::from(v).to_string()
        }
        Field::InPort | Field::NwProto | Field::NwTtl | Field::TpSrc | Field::TpDst => {
            v.to_string()
        }
        _ => format!("{v:#x}"),
    }
}

/// A mask as text: each field it touches, `name` when wholly matched and
/// `name/MASK` when only some bits are (a classifier subtable's shape).
pub fn mask_text(mask: &FlowKey) -> String {
    Field::ALL
        .iter()
        .filter_map(|f| {
            let m = mask.get(*f);
            (m != 0).then(|| {
                if m == f.full_mask() {
                    f.name().to_string()
                } else {
                    format!("{}/{}", f.name(), value(*f, m))
                }
            })
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl FlowDump {
    /// The match: every field the mask touches, `name=value` or
    /// `name=value/mask` when only some bits matter.
    pub fn match_text(&self) -> String {
        let mut t = String::new();
        for f in Field::ALL {
            let m = self.mask.get(*f);
            if m == 0 {
                continue;
            }
            if !t.is_empty() {
                t.push(',');
            }
            let v = value(*f, self.key.get(*f));
            if m == f.full_mask() {
                let _ = write!(t, "{}={v}", f.name());
            } else {
                let _ = write!(t, "{}={v}/{}", f.name(), value(*f, m));
            }
        }
        t
    }

    /// The actions, ovs-dpctl style.
    pub fn actions_text(&self) -> String {
        if self.actions.is_empty() {
            return "drop".into();
        }
        self.actions
            .iter()
            .map(|a| match a {
                DpAction::Output(p) => p.to_string(),
                DpAction::SetField {
                    field, value: v, ..
                } => format!("set({}={})", field.name(), value(*field, *v)),
                DpAction::PushVlan { tpid, tci } => {
                    format!("push_vlan(tpid={tpid:#x},tci={tci:#x})")
                }
                DpAction::PopVlan => "pop_vlan".into(),
                DpAction::DecTtl => "dec_ttl".into(),
                DpAction::Drop => "drop".into(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}
