//! MULTIPART_REQUEST / MULTIPART_REPLY bodies by type.

use crate::consts::multipart as t;
use crate::flow::{FlowStats, FlowStatsRequest};
use crate::group::{GroupDesc, GroupStats};
use crate::structs::{AggregateReply, Desc, GroupFeatures, Port, PortStats, TableStats};
use crate::table_features::TableFeatures;
use crate::wire::{read_all, Reader, Result, Writer};

/// A multipart request body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum MultipartRequestBody {
    /// Switch description.
    Desc,
    /// Individual flow statistics.
    Flow(FlowStatsRequest),
    /// Aggregate flow statistics.
    Aggregate(FlowStatsRequest),
    /// Table statistics.
    Table,
    /// Port statistics for a port, or `OFPP_ANY`.
    PortStats(u32),
    /// Port descriptions.
    PortDesc,
    /// Group statistics for a group, or `OFPG_ALL`.
    Group(u32),
    /// Group descriptions.
    GroupDesc,
    /// Group features.
    GroupFeatures,
    /// Table features; a non-empty list asks to reconfigure the tables.
    TableFeatures(Vec<TableFeatures>),
    /// A type the codec does not decode (queue, meters, experimenter):
    /// answer BAD_REQUEST/BAD_MULTIPART.
    Unknown {
        /// `OFPMP_*`.
        #[cfg_attr(test, proptest(strategy = "unknown_type()"))]
        typ: u16,
        /// Raw body.
        body: Vec<u8>,
    },
}

/// A multipart reply body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum MultipartReplyBody {
    /// Switch description.
    Desc(Desc),
    /// Flow statistics.
    Flow(Vec<FlowStats>),
    /// Aggregate statistics.
    Aggregate(AggregateReply),
    /// Table statistics.
    Table(Vec<TableStats>),
    /// Port statistics.
    PortStats(Vec<PortStats>),
    /// Port descriptions.
    PortDesc(Vec<Port>),
    /// Group statistics.
    Group(Vec<GroupStats>),
    /// Group descriptions.
    GroupDesc(Vec<GroupDesc>),
    /// Group features.
    GroupFeatures(GroupFeatures),
    /// Table features.
    TableFeatures(Vec<TableFeatures>),
    /// A type the codec does not decode.
    Unknown {
        /// `OFPMP_*`.
        #[cfg_attr(test, proptest(strategy = "unknown_type()"))]
        typ: u16,
        /// Raw body.
        body: Vec<u8>,
    },
}

#[cfg(test)]
fn unknown_type() -> impl proptest::strategy::Strategy<Value = u16> {
    proptest::sample::select(vec![
        t::QUEUE,
        t::METER,
        t::METER_CONFIG,
        t::METER_FEATURES,
        14,
        t::EXPERIMENTER,
    ])
}

/// MULTIPART_REQUEST: flags (`OFPMPF_REQ_MORE`) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct MultipartRequest {
    /// `OFPMPF_REQ_*`.
    pub flags: u16,
    /// Body.
    pub body: MultipartRequestBody,
}

/// MULTIPART_REPLY: flags (`OFPMPF_REPLY_MORE`) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct MultipartReply {
    /// `OFPMPF_REPLY_*`.
    pub flags: u16,
    /// Body.
    pub body: MultipartReplyBody,
}

/// Checks that a fixed body used every byte.
fn whole<T>(r: &mut Reader, v: T) -> Result<T> {
    if r.is_empty() {
        Ok(v)
    } else {
        Err(r.short())
    }
}

fn read_id(r: &mut Reader) -> Result<u32> {
    let id = r.u32()?;
    r.skip(4)?;
    whole(r, id)
}

fn read_head(r: &mut Reader) -> Result<(u16, u16)> {
    let typ = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    Ok((typ, flags))
}

fn write_head(w: &mut Writer, typ: u16, flags: u16) {
    w.u16(typ);
    w.u16(flags);
    w.zeros(4);
}

impl MultipartRequest {
    pub(crate) fn read(r: &mut Reader) -> Result<MultipartRequest> {
        use MultipartRequestBody as B;
        let (typ, flags) = read_head(r)?;
        let body = match typ {
            t::DESC => whole(r, B::Desc)?,
            t::FLOW => B::Flow(FlowStatsRequest::read(r).and_then(|v| whole(r, v))?),
            t::AGGREGATE => B::Aggregate(FlowStatsRequest::read(r).and_then(|v| whole(r, v))?),
            t::TABLE => whole(r, B::Table)?,
            t::PORT_STATS => B::PortStats(read_id(r)?),
            t::PORT_DESC => whole(r, B::PortDesc)?,
            t::GROUP => B::Group(read_id(r)?),
            t::GROUP_DESC => whole(r, B::GroupDesc)?,
            t::GROUP_FEATURES => whole(r, B::GroupFeatures)?,
            t::TABLE_FEATURES => B::TableFeatures(read_all(r, TableFeatures::read)?),
            _ => B::Unknown {
                typ,
                body: r.rest().to_vec(),
            },
        };
        Ok(MultipartRequest { flags, body })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        use MultipartRequestBody as B;
        let typ = match &self.body {
            B::Desc => t::DESC,
            B::Flow(_) => t::FLOW,
            B::Aggregate(_) => t::AGGREGATE,
            B::Table => t::TABLE,
            B::PortStats(_) => t::PORT_STATS,
            B::PortDesc => t::PORT_DESC,
            B::Group(_) => t::GROUP,
            B::GroupDesc => t::GROUP_DESC,
            B::GroupFeatures => t::GROUP_FEATURES,
            B::TableFeatures(_) => t::TABLE_FEATURES,
            B::Unknown { typ, .. } => *typ,
        };
        write_head(w, typ, self.flags);
        match &self.body {
            B::Flow(f) | B::Aggregate(f) => f.write(w),
            B::PortStats(id) | B::Group(id) => {
                w.u32(*id);
                w.zeros(4);
            }
            B::TableFeatures(v) => v.iter().for_each(|f| f.write(w)),
            B::Unknown { body, .. } => w.bytes(body),
            B::Desc | B::Table | B::PortDesc | B::GroupDesc | B::GroupFeatures => {}
        }
    }
}

impl MultipartReply {
    pub(crate) fn read(r: &mut Reader) -> Result<MultipartReply> {
        use MultipartReplyBody as B;
        let (typ, flags) = read_head(r)?;
        let body = match typ {
            t::DESC => B::Desc(Desc::read(r).and_then(|v| whole(r, v))?),
            t::FLOW => B::Flow(read_all(r, FlowStats::read)?),
            t::AGGREGATE => B::Aggregate(AggregateReply::read(r).and_then(|v| whole(r, v))?),
            t::TABLE => B::Table(read_all(r, TableStats::read)?),
            t::PORT_STATS => B::PortStats(read_all(r, PortStats::read)?),
            t::PORT_DESC => B::PortDesc(read_all(r, Port::read)?),
            t::GROUP => B::Group(read_all(r, GroupStats::read)?),
            t::GROUP_DESC => B::GroupDesc(read_all(r, GroupDesc::read)?),
            t::GROUP_FEATURES => {
                B::GroupFeatures(GroupFeatures::read(r).and_then(|v| whole(r, v))?)
            }
            t::TABLE_FEATURES => B::TableFeatures(read_all(r, TableFeatures::read)?),
            _ => B::Unknown {
                typ,
                body: r.rest().to_vec(),
            },
        };
        Ok(MultipartReply { flags, body })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        use MultipartReplyBody as B;
        let typ = match &self.body {
            B::Desc(_) => t::DESC,
            B::Flow(_) => t::FLOW,
            B::Aggregate(_) => t::AGGREGATE,
            B::Table(_) => t::TABLE,
            B::PortStats(_) => t::PORT_STATS,
            B::PortDesc(_) => t::PORT_DESC,
            B::Group(_) => t::GROUP,
            B::GroupDesc(_) => t::GROUP_DESC,
            B::GroupFeatures(_) => t::GROUP_FEATURES,
            B::TableFeatures(_) => t::TABLE_FEATURES,
            B::Unknown { typ, .. } => *typ,
        };
        write_head(w, typ, self.flags);
        match &self.body {
            B::Desc(d) => d.write(w),
            B::Flow(v) => v.iter().for_each(|x| x.write(w)),
            B::Aggregate(a) => a.write(w),
            B::Table(v) => v.iter().for_each(|x| x.write(w)),
            B::PortStats(v) => v.iter().for_each(|x| x.write(w)),
            B::PortDesc(v) => v.iter().for_each(|x| x.write(w)),
            B::Group(v) => v.iter().for_each(|x| x.write(w)),
            B::GroupDesc(v) => v.iter().for_each(|x| x.write(w)),
            B::GroupFeatures(g) => g.write(w),
            B::TableFeatures(v) => v.iter().for_each(|x| x.write(w)),
            B::Unknown { body, .. } => w.bytes(body),
        }
    }
}

impl MultipartReplyBody {
    /// Splits a list body in two halves; gives the body back when it is a
    /// single entry or a fixed body, which cannot be split.
    fn halve(self) -> std::result::Result<(Self, Self), Self> {
        macro_rules! halve_lists {
            ($body:expr, $($v:ident),*) => {
                match $body {
                    $(MultipartReplyBody::$v(mut list) if list.len() > 1 => {
                        let tail = list.split_off(list.len() / 2);
                        Ok((MultipartReplyBody::$v(list), MultipartReplyBody::$v(tail)))
                    })*
                    other => Err(other),
                }
            };
        }
        halve_lists!(
            self,
            Flow,
            Table,
            PortStats,
            PortDesc,
            Group,
            GroupDesc,
            TableFeatures
        )
    }
}

/// Encodes a multipart reply as as many messages as the 64 KiB limit needs,
/// all with `xid`, every one but the last flagged `OFPMPF_REPLY_MORE`.
/// Fails only when a single entry cannot fit a message.
pub fn encode_reply_parts(
    xid: u32,
    body: MultipartReplyBody,
) -> std::result::Result<Vec<Vec<u8>>, crate::TooLong> {
    fn encode_into(
        xid: u32,
        body: MultipartReplyBody,
        out: &mut Vec<Vec<u8>>,
    ) -> std::result::Result<(), crate::TooLong> {
        let msg = crate::Message::MultipartReply(MultipartReply {
            flags: t::REPLY_MORE,
            body,
        });
        match msg.encode(xid) {
            Ok(bytes) => {
                out.push(bytes);
                Ok(())
            }
            Err(too_long) => {
                let crate::Message::MultipartReply(reply) = msg else {
                    return Err(too_long);
                };
                let (a, b) = reply.body.halve().map_err(|_| too_long)?;
                encode_into(xid, a, out)?;
                encode_into(xid, b, out)
            }
        }
    }
    let mut out = Vec::new();
    encode_into(xid, body, &mut out)?;
    // Flags sit after the 8-byte header and the 2-byte multipart type.
    if let Some(last) = out.last_mut() {
        last[10..12].copy_from_slice(&0u16.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn long_replies_are_split_with_reply_more() {
        let ports: Vec<Port> = (1..=2000)
            .map(|n| Port {
                port_no: n,
                ..Default::default()
            })
            .collect();
        let parts = encode_reply_parts(5, MultipartReplyBody::PortDesc(ports.clone())).unwrap();
        assert!(parts.len() >= 2, "{} parts", parts.len());
        let mut back = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() <= 65535);
            let (h, m) = Message::decode(p).unwrap();
            assert_eq!(h.xid, 5);
            let Message::MultipartReply(MultipartReply {
                flags,
                body: MultipartReplyBody::PortDesc(list),
            }) = m
            else {
                panic!()
            };
            assert_eq!(
                flags,
                if i + 1 < parts.len() {
                    t::REPLY_MORE
                } else {
                    0
                }
            );
            back.extend(list);
        }
        assert_eq!(back, ports);
    }

    #[test]
    fn small_and_fixed_replies_are_one_message() {
        let parts = encode_reply_parts(1, MultipartReplyBody::Aggregate(AggregateReply::default()))
            .unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(&parts[0][10..12], [0, 0]);
    }
}
