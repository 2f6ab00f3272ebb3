//! The OpenFlow header and whole messages: `decode` from bytes, `encode`
//! to bytes.

use crate::consts::{
    hello, msg as t, OFP_ERROR_ECHO_LEN, OFP_HEADER_LEN, OFP_MAX_MSG_LEN, OFP_VERSION,
};
use crate::error::{DecodeError, Scope};
use crate::flow::{FlowMod, FlowRemoved, PacketIn, PacketOut};
use crate::group::GroupMod;
use crate::meter::MeterMod;
use crate::multipart::{MultipartReply, MultipartRequest};
use crate::structs::{AsyncConfig, FeaturesReply, Port, PortMod, Role, SwitchConfig, TableMod};
use crate::wire::{Reader, Result, Writer};

/// `ofp_header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Protocol version.
    pub version: u8,
    /// `OFPT_*`.
    pub typ: u8,
    /// Length of the whole message, header included.
    pub length: u16,
    /// Transaction id, echoed in replies.
    pub xid: u32,
}

impl Header {
    /// Parses the first 8 bytes; `None` when fewer are present.
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let b: &[u8; 8] = buf.get(..OFP_HEADER_LEN)?.try_into().ok()?;
        Some(Header {
            version: b[0],
            typ: b[1],
            length: u16::from_be_bytes([b[2], b[3]]),
            xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        })
    }
}

/// HELLO: the versions the sender supports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Hello {
    /// VERSIONBITMAP words (bit n of word i = version 32*i+n); empty when
    /// the peer sent no bitmap and only the header version counts.
    pub version_bitmap: Vec<u32>,
}

impl Hello {
    /// A HELLO advertising exactly these versions.
    pub fn for_versions(versions: &[u8]) -> Hello {
        let mut words =
            vec![0u32; 1 + usize::from(versions.iter().copied().max().unwrap_or(0)) / 32];
        for &v in versions {
            words[usize::from(v) / 32] |= 1 << (v % 32);
        }
        Hello {
            version_bitmap: words,
        }
    }

    /// Whether the peer that sent this HELLO (with `header_version`) speaks `version`.
    pub fn supports(&self, header_version: u8, version: u8) -> bool {
        if self.version_bitmap.is_empty() {
            return version <= header_version;
        }
        let word = self
            .version_bitmap
            .get(usize::from(version) / 32)
            .copied()
            .unwrap_or(0);
        word & (1 << (version % 32)) != 0
    }

    fn read(r: &mut Reader) -> Result<Hello> {
        let mut version_bitmap = Vec::new();
        while !r.is_empty() {
            let mut e = r.padded_tlv(2, 4, Scope::Hello)?;
            let typ = e.u16()?;
            e.skip(2)?;
            // Unknown element types are ignored, as the spec asks.
            if typ == hello::VERSIONBITMAP {
                version_bitmap = crate::wire::read_u32s(&mut e)?;
            }
        }
        Ok(Hello { version_bitmap })
    }

    fn write(&self, w: &mut Writer) {
        if self.version_bitmap.is_empty() {
            return;
        }
        let start = w.len();
        w.u16(hello::VERSIONBITMAP);
        w.u16(0);
        self.version_bitmap.iter().for_each(|v| w.u32(*v));
        w.patch_len(start, 2);
        w.pad8_from(start);
    }
}

/// ERROR body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ErrorMsg {
    /// `OFPET_*`.
    pub typ: u16,
    /// Code within the type.
    pub code: u16,
    /// Usually the start of the offending message.
    pub data: Vec<u8>,
}

impl ErrorMsg {
    /// The ERROR answering `offending` (the raw message) that failed with `err`.
    pub fn for_decode_error(err: &DecodeError, offending: &[u8]) -> ErrorMsg {
        let (typ, code) = err.ofp_error();
        ErrorMsg::new(typ, code, offending)
    }

    /// An ERROR of this type and code echoing the first 64 bytes of `offending`.
    pub fn new(typ: u16, code: u16, offending: &[u8]) -> ErrorMsg {
        ErrorMsg {
            typ,
            code,
            data: offending[..offending.len().min(OFP_ERROR_ECHO_LEN)].to_vec(),
        }
    }
}

/// EXPERIMENTER message body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ExperimenterMsg {
    /// Experimenter id.
    pub experimenter: u32,
    /// Experimenter-defined type.
    pub exp_type: u32,
    /// Experimenter-defined data.
    pub data: Vec<u8>,
}

/// PORT_STATUS body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PortStatus {
    /// `OFPPR_*`.
    pub reason: u8,
    /// The port as it is now.
    pub desc: Port,
}

/// An OpenFlow 1.3 message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[allow(missing_docs)]
pub enum Message {
    Hello(Hello),
    Error(ErrorMsg),
    EchoRequest(Vec<u8>),
    EchoReply(Vec<u8>),
    Experimenter(ExperimenterMsg),
    FeaturesRequest,
    FeaturesReply(FeaturesReply),
    GetConfigRequest,
    GetConfigReply(SwitchConfig),
    SetConfig(SwitchConfig),
    PacketIn(PacketIn),
    FlowRemoved(FlowRemoved),
    PortStatus(PortStatus),
    PacketOut(PacketOut),
    FlowMod(FlowMod),
    GroupMod(GroupMod),
    PortMod(PortMod),
    TableMod(TableMod),
    MultipartRequest(MultipartRequest),
    MultipartReply(MultipartReply),
    BarrierRequest,
    BarrierReply,
    RoleRequest(Role),
    RoleReply(Role),
    GetAsyncRequest,
    GetAsyncReply(AsyncConfig),
    SetAsync(AsyncConfig),
    MeterMod(MeterMod),
    /// A type this codec does not decode (QUEUE_GET_CONFIG, future types):
    /// answer BAD_REQUEST/BAD_TYPE.
    Unknown {
        /// `OFPT_*`.
        #[cfg_attr(
            test,
            proptest(strategy = "proptest::sample::select(vec![22u8, 23, 30, 99, 255])")
        )]
        typ: u8,
        /// Raw body.
        body: Vec<u8>,
    },
}

/// Encoding failed: the message does not fit a 16-bit length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("message of {0} bytes exceeds the OpenFlow maximum of 65535")]
pub struct TooLong(pub usize);

/// Fixed-layout bodies must use every byte.
fn exact<T>(r: &mut Reader, f: impl FnOnce(&mut Reader) -> Result<T>) -> Result<T> {
    let v = f(r)?;
    if r.is_empty() {
        Ok(v)
    } else {
        Err(r.short())
    }
}

fn empty(r: &mut Reader, m: Message) -> Result<Message> {
    exact(r, |_| Ok(m))
}

impl Message {
    /// Decodes one whole message (as `framing` splits them). HELLO decodes
    /// whatever its version (negotiation needs it); other messages must be
    /// OpenFlow 1.3.
    pub fn decode(buf: &[u8]) -> std::result::Result<(Header, Message), DecodeError> {
        let h = Header::parse(buf).ok_or(DecodeError::BadLen(Scope::Message))?;
        if usize::from(h.length) != buf.len() {
            return Err(DecodeError::BadLen(Scope::Message));
        }
        if h.version != OFP_VERSION && h.typ != t::HELLO {
            return Err(DecodeError::BadVersion(h.version));
        }
        let mut r = Reader::new(&buf[OFP_HEADER_LEN..], Scope::Message);
        let r = &mut r;
        let m = match h.typ {
            t::HELLO => Message::Hello(Hello::read(r)?),
            t::ERROR => Message::Error(ErrorMsg {
                typ: r.u16()?,
                code: r.u16()?,
                data: r.rest().to_vec(),
            }),
            t::ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
            t::ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
            t::EXPERIMENTER => Message::Experimenter(ExperimenterMsg {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest().to_vec(),
            }),
            t::FEATURES_REQUEST => empty(r, Message::FeaturesRequest)?,
            t::FEATURES_REPLY => Message::FeaturesReply(exact(r, FeaturesReply::read)?),
            t::GET_CONFIG_REQUEST => empty(r, Message::GetConfigRequest)?,
            t::GET_CONFIG_REPLY => Message::GetConfigReply(exact(r, SwitchConfig::read)?),
            t::SET_CONFIG => Message::SetConfig(
                exact(r, SwitchConfig::read)
                    .map_err(|_| DecodeError::BadLen(Scope::SwitchConfig))?,
            ),
            t::PACKET_IN => Message::PacketIn(PacketIn::read(r)?),
            t::FLOW_REMOVED => Message::FlowRemoved(exact(r, FlowRemoved::read)?),
            t::PORT_STATUS => Message::PortStatus(exact(r, |r| {
                let reason = r.u8()?;
                r.skip(7)?;
                Ok(PortStatus {
                    reason,
                    desc: Port::read(r)?,
                })
            })?),
            t::PACKET_OUT => Message::PacketOut(PacketOut::read(r)?),
            t::FLOW_MOD => Message::FlowMod(FlowMod::read(r)?),
            t::GROUP_MOD => Message::GroupMod(GroupMod::read(r)?),
            t::PORT_MOD => Message::PortMod(exact(r, PortMod::read)?),
            t::TABLE_MOD => Message::TableMod(exact(r, TableMod::read)?),
            t::MULTIPART_REQUEST => Message::MultipartRequest(MultipartRequest::read(r)?),
            t::MULTIPART_REPLY => Message::MultipartReply(MultipartReply::read(r)?),
            t::BARRIER_REQUEST => empty(r, Message::BarrierRequest)?,
            t::BARRIER_REPLY => empty(r, Message::BarrierReply)?,
            t::ROLE_REQUEST => Message::RoleRequest(exact(r, Role::read)?),
            t::ROLE_REPLY => Message::RoleReply(exact(r, Role::read)?),
            t::GET_ASYNC_REQUEST => empty(r, Message::GetAsyncRequest)?,
            t::GET_ASYNC_REPLY => Message::GetAsyncReply(exact(r, AsyncConfig::read)?),
            t::SET_ASYNC => Message::SetAsync(exact(r, AsyncConfig::read)?),
            t::METER_MOD => Message::MeterMod(MeterMod::read(r)?),
            typ => Message::Unknown {
                typ,
                body: r.rest().to_vec(),
            },
        };
        Ok((h, m))
    }

    /// The ERROR (type, code) for a message this codec decoded but does not
    /// understand: an unknown message type, multipart type or experimenter
    /// message. `None` for everything else.
    pub fn unknown_error(&self) -> Option<(u16, u16)> {
        use crate::consts::error::{bad_request as br, BAD_REQUEST};
        match self {
            Message::Unknown { .. } => Some((BAD_REQUEST, br::BAD_TYPE)),
            Message::Experimenter(_) => Some((BAD_REQUEST, br::BAD_EXPERIMENTER)),
            Message::MultipartRequest(MultipartRequest {
                body: crate::MultipartRequestBody::Unknown { .. },
                ..
            }) => Some((BAD_REQUEST, br::BAD_MULTIPART)),
            _ => None,
        }
    }

    /// The `OFPT_*` type.
    pub fn wire_type(&self) -> u8 {
        match self {
            Message::Hello(_) => t::HELLO,
            Message::Error(_) => t::ERROR,
            Message::EchoRequest(_) => t::ECHO_REQUEST,
            Message::EchoReply(_) => t::ECHO_REPLY,
            Message::Experimenter(_) => t::EXPERIMENTER,
            Message::FeaturesRequest => t::FEATURES_REQUEST,
            Message::FeaturesReply(_) => t::FEATURES_REPLY,
            Message::GetConfigRequest => t::GET_CONFIG_REQUEST,
            Message::GetConfigReply(_) => t::GET_CONFIG_REPLY,
            Message::SetConfig(_) => t::SET_CONFIG,
            Message::PacketIn(_) => t::PACKET_IN,
            Message::FlowRemoved(_) => t::FLOW_REMOVED,
            Message::PortStatus(_) => t::PORT_STATUS,
            Message::PacketOut(_) => t::PACKET_OUT,
            Message::FlowMod(_) => t::FLOW_MOD,
            Message::GroupMod(_) => t::GROUP_MOD,
            Message::PortMod(_) => t::PORT_MOD,
            Message::TableMod(_) => t::TABLE_MOD,
            Message::MultipartRequest(_) => t::MULTIPART_REQUEST,
            Message::MultipartReply(_) => t::MULTIPART_REPLY,
            Message::BarrierRequest => t::BARRIER_REQUEST,
            Message::BarrierReply => t::BARRIER_REPLY,
            Message::RoleRequest(_) => t::ROLE_REQUEST,
            Message::RoleReply(_) => t::ROLE_REPLY,
            Message::GetAsyncRequest => t::GET_ASYNC_REQUEST,
            Message::GetAsyncReply(_) => t::GET_ASYNC_REPLY,
            Message::SetAsync(_) => t::SET_ASYNC,
            Message::MeterMod(_) => t::METER_MOD,
            Message::Unknown { typ, .. } => *typ,
        }
    }

    /// Encodes as an OpenFlow 1.3 message with this transaction id.
    pub fn encode(&self, xid: u32) -> std::result::Result<Vec<u8>, TooLong> {
        let mut w = Writer::default();
        w.u8(OFP_VERSION);
        w.u8(self.wire_type());
        w.u16(0);
        w.u32(xid);
        self.write_body(&mut w);
        if w.len() > OFP_MAX_MSG_LEN {
            return Err(TooLong(w.len()));
        }
        w.patch_len(0, 2);
        Ok(w.buf)
    }

    fn write_body(&self, w: &mut Writer) {
        match self {
            Message::Hello(h) => h.write(w),
            Message::Error(e) => {
                w.u16(e.typ);
                w.u16(e.code);
                w.bytes(&e.data);
            }
            Message::EchoRequest(d) | Message::EchoReply(d) => w.bytes(d),
            Message::Unknown { body, .. } => w.bytes(body),
            Message::Experimenter(e) => {
                w.u32(e.experimenter);
                w.u32(e.exp_type);
                w.bytes(&e.data);
            }
            Message::FeaturesReply(f) => f.write(w),
            Message::GetConfigReply(c) | Message::SetConfig(c) => c.write(w),
            Message::PacketIn(p) => p.write(w),
            Message::FlowRemoved(f) => f.write(w),
            Message::PortStatus(p) => {
                w.u8(p.reason);
                w.zeros(7);
                p.desc.write(w);
            }
            Message::PacketOut(p) => p.write(w),
            Message::FlowMod(f) => f.write(w),
            Message::GroupMod(g) => g.write(w),
            Message::PortMod(p) => p.write(w),
            Message::TableMod(t) => t.write(w),
            Message::MultipartRequest(m) => m.write(w),
            Message::MultipartReply(m) => m.write(w),
            Message::RoleRequest(r) | Message::RoleReply(r) => r.write(w),
            Message::GetAsyncReply(a) | Message::SetAsync(a) => a.write(w),
            Message::MeterMod(m) => m.write(w),
            Message::FeaturesRequest
            | Message::GetConfigRequest
            | Message::BarrierRequest
            | Message::BarrierReply
            | Message::GetAsyncRequest => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::error as e;

    fn with_len(mut b: Vec<u8>) -> Vec<u8> {
        let len = b.len() as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    #[test]
    fn hello_of_any_version_decodes_and_negotiates() {
        // An OpenFlow 1.5 peer offering 1.0, 1.3 and 1.5.
        let bytes = [6, 0, 0, 16, 0, 0, 0, 9, 0, 1, 0, 8, 0, 0, 0, 0x52];
        let (h, m) = Message::decode(&bytes).unwrap();
        assert_eq!((h.version, h.xid), (6, 9));
        let Message::Hello(hello) = m else {
            panic!("{m:?}")
        };
        assert!(
            hello.supports(h.version, 4)
                && hello.supports(h.version, 6)
                && !hello.supports(h.version, 5)
        );
        // Without a bitmap, the header version is the highest supported.
        let bare = Message::decode(&[4, 0, 0, 8, 0, 0, 0, 1]).unwrap().1;
        assert_eq!(bare, Message::Hello(Hello::default()));
        assert!(Hello::default().supports(4, 1) && !Hello::default().supports(4, 5));
        assert_eq!(Hello::for_versions(&[4]).version_bitmap, [0x10]);
    }

    #[test]
    fn other_versions_are_bad_version() {
        let err = Message::decode(&[1, 5, 0, 8, 0, 0, 0, 1]).unwrap_err();
        assert_eq!(err, DecodeError::BadVersion(1));
        assert_eq!(
            err.ofp_error(),
            (e::BAD_REQUEST, e::bad_request::BAD_VERSION)
        );
    }

    #[test]
    fn header_length_must_match_the_bytes() {
        assert_eq!(
            Message::decode(&[4, 20, 0, 9, 0, 0, 0, 1])
                .unwrap_err()
                .ofp_error(),
            (e::BAD_REQUEST, e::bad_request::BAD_LEN)
        );
        assert_eq!(
            Message::decode(&[4, 20, 0, 8]).unwrap_err().ofp_error(),
            (e::BAD_REQUEST, e::bad_request::BAD_LEN)
        );
    }

    #[test]
    fn fixed_bodies_must_be_exact() {
        // BARRIER_REQUEST with a stray byte, ROLE_REQUEST one byte short.
        let barrier = with_len(vec![4, 20, 0, 0, 0, 0, 0, 1, 0]);
        assert_eq!(
            Message::decode(&barrier).unwrap_err().ofp_error(),
            (e::BAD_REQUEST, e::bad_request::BAD_LEN)
        );
        let role = with_len([vec![4, 24, 0, 0, 0, 0, 0, 1], vec![0; 15]].concat());
        assert_eq!(
            Message::decode(&role).unwrap_err().ofp_error(),
            (e::BAD_REQUEST, e::bad_request::BAD_LEN)
        );
        let set_config = with_len(vec![4, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(
            Message::decode(&set_config).unwrap_err().ofp_error(),
            (e::SWITCH_CONFIG_FAILED, e::switch_config_failed::BAD_LEN)
        );
    }

    #[test]
    fn unknown_types_decode_for_a_bad_type_reply() {
        let q = with_len(vec![4, 22, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0]);
        let (h, m) = Message::decode(&q).unwrap();
        assert_eq!(
            m,
            Message::Unknown {
                typ: 22,
                body: vec![0, 0, 0, 1, 0, 0, 0, 0]
            }
        );
        assert_eq!(h.xid, 7);
        let mp = with_len(vec![4, 18, 0, 0, 0, 0, 0, 7, 0, 9, 0, 0, 0, 0, 0, 0]);
        let Message::MultipartRequest(req) = Message::decode(&mp).unwrap().1 else {
            panic!()
        };
        assert_eq!(
            req.body,
            crate::MultipartRequestBody::Unknown {
                typ: 9,
                body: vec![]
            }
        );
        let mp = Message::MultipartRequest(req);
        assert_eq!(
            mp.unknown_error(),
            Some((e::BAD_REQUEST, e::bad_request::BAD_MULTIPART))
        );
        assert_eq!(
            m.unknown_error(),
            Some((e::BAD_REQUEST, e::bad_request::BAD_TYPE))
        );
        assert_eq!(Message::BarrierRequest.unknown_error(), None);
    }

    #[test]
    fn error_reply_echoes_64_bytes() {
        let flow_mod = with_len([vec![4, 14, 0, 0, 0, 0, 0, 3], vec![0xee; 100]].concat());
        let err = Message::decode(&flow_mod).unwrap_err();
        let reply = ErrorMsg::for_decode_error(&err, &flow_mod);
        assert_eq!(reply.data, &flow_mod[..64]);
        assert_eq!((reply.typ, reply.code), err.ofp_error());
    }

    #[test]
    fn flow_mod_errors_name_the_part_that_is_wrong() {
        let mut fm = crate::FlowMod {
            r#match: crate::Match {
                fields: vec![crate::Oxm::exact(crate::Field::InPort, 1)],
            },
            instructions: vec![crate::Instruction::ApplyActions(vec![
                crate::Action::Output {
                    port: 1,
                    max_len: 0,
                },
            ])],
            ..Default::default()
        };
        let good = Message::FlowMod(fm.clone()).encode(1).unwrap();
        assert_eq!(
            Message::decode(&good).unwrap().1,
            Message::FlowMod(fm.clone())
        );
        // Offsets: header 8, fixed part 40, match 16, instruction header 8, action.
        let mut bad_action = good.clone();
        bad_action[8 + 40 + 16 + 8 + 1] = 99;
        assert_eq!(
            Message::decode(&bad_action).unwrap_err().ofp_error(),
            (e::BAD_ACTION, e::bad_action::BAD_TYPE)
        );
        let mut bad_inst = good.clone();
        bad_inst[8 + 40 + 16 + 1] = 42;
        assert_eq!(
            Message::decode(&bad_inst).unwrap_err().ofp_error(),
            (e::BAD_INSTRUCTION, e::bad_instruction::UNKNOWN_INST)
        );
        let mut bad_match = good.clone();
        bad_match[8 + 40 + 1] = 0;
        assert_eq!(
            Message::decode(&bad_match).unwrap_err().ofp_error(),
            (e::BAD_MATCH, e::bad_match::BAD_TYPE)
        );
        fm.instructions.clear();
        let truncated_match = &Message::FlowMod(fm).encode(1).unwrap()[..8 + 40 + 12];
        assert_eq!(
            Message::decode(&with_len(truncated_match.to_vec()))
                .unwrap_err()
                .ofp_error(),
            (e::BAD_MATCH, e::bad_match::BAD_LEN)
        );
    }

    #[test]
    fn too_long_messages_are_refused_when_encoding() {
        let m = Message::EchoRequest(vec![0; 70_000]);
        assert_eq!(m.encode(1), Err(TooLong(70_008)));
    }
}
