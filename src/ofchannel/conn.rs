//! One OpenFlow connection, on its own thread: HELLO negotiation, framing,
//! the per-connection state (role, SET_CONFIG, SET_ASYNC) and the answers.
//! Whatever touches the switch is a job for the main loop; a peer that
//! falls silent is probed with ECHO and dropped, a peer that sends what
//! cannot be framed or will not take its replies is dropped and logged.
use super::{flows, stats, Channel, Refusal};
use crate::control::serve::{Asker, Client};
use crate::switch::Switch;
use openflow::consts::error::{
    bad_request, hello_failed, role_request_failed, switch_config_failed,
};
use openflow::consts::error::{
    BAD_REQUEST, GROUP_MOD_FAILED, HELLO_FAILED, METER_MOD_FAILED, PORT_MOD_FAILED,
    ROLE_REQUEST_FAILED, SWITCH_CONFIG_FAILED,
};
use openflow::consts::{self, error as e, role, OFP_VERSION};
use openflow::*;
use std::io;
use std::time::{Duration, Instant};

/// How long a peer has to say HELLO.
const HELLO_WAIT: Duration = Duration::from_secs(5);
/// Silence after which the peer is sent an ECHO_REQUEST; as long again
/// without an answer and it is dropped.
const PROBE_AFTER: Duration = Duration::from_secs(15);
/// Protocol errors a peer may cause before it is dropped.
const MAX_ERRORS: u32 = 100;
/// How often the ports are compared with what the peer was last told
/// (PORT_STATUS for ports added, deleted or changed).
const PORT_CHECK: Duration = Duration::from_secs(1);

/// The asynchronous messages OpenFlow 1.3 enables by default: for a master
/// or equal peer, packet-ins for a miss or an action, every port status and
/// flow removal; for a slave, port status only.
fn default_async() -> AsyncConfig {
    AsyncConfig {
        packet_in_mask: [0x3, 0],
        port_status_mask: [0x7, 0x7],
        flow_removed_mask: [0xf, 0],
    }
}

struct Conn<'a> {
    id: u64,
    ch: &'a Channel,
    ask: &'a Asker<Switch>,
    config: SwitchConfig,
    async_config: AsyncConfig,
    errors: u32,
    /// The ports as the peer last heard of them.
    ports: Option<Vec<Port>>,
}

fn other(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn encode(m: &Message, xid: u32) -> Vec<u8> {
    // Only our own replies are encoded here, all far under 64 KiB (long
    // multipart replies go through encode_reply_parts).
    m.encode(xid).unwrap_or_default()
}

fn error(r: Refusal, raw: &[u8]) -> Message {
    Message::Error(ErrorMsg::new(r.typ, r.code, raw))
}

/// Serves one peer until it leaves or misbehaves.
pub fn serve(c: &mut Client, ask: &Asker<Switch>, ch: &Channel) -> io::Result<()> {
    let id = ch.join();
    let mut conn = Conn {
        id,
        ch,
        ask,
        config: SwitchConfig {
            flags: consts::config::FRAG_NORMAL,
            miss_send_len: 128,
        },
        async_config: default_async(),
        errors: 0,
        ports: None,
    };
    let r = conn.run(c);
    ch.leave(id);
    if let Err(e) = &r {
        if e.kind() != io::ErrorKind::UnexpectedEof {
            tracing::warn!("openflow: connection {id} dropped: {e}");
        }
    }
    r
}

impl Conn<'_> {
    fn run(&mut self, c: &mut Client) -> io::Result<()> {
        c.write_reply(&encode(
            &Message::Hello(Hello::for_versions(&[OFP_VERSION])),
            0,
        ))?;
        let mut framer = Framer::new(consts::OFP_MAX_MSG_LEN);
        let start = Instant::now();
        let mut negotiated = false;
        let mut heard = Instant::now();
        let mut probed: Option<Instant> = None;
        let mut ports_checked = Instant::now();
        loop {
            if negotiated && ports_checked.elapsed() >= PORT_CHECK {
                ports_checked = Instant::now();
                let out = self.port_changes();
                if !out.is_empty() {
                    c.write_reply(&out)?;
                }
            }
            let Some(bytes) = c.read_some(Duration::from_millis(500))? else {
                if !negotiated && start.elapsed() > HELLO_WAIT {
                    return Err(other("no HELLO within 5 s".into()));
                }
                match probed {
                    Some(t) if t.elapsed() > PROBE_AFTER => {
                        return Err(other("no answer to ECHO_REQUEST".into()))
                    }
                    None if heard.elapsed() > PROBE_AFTER => {
                        c.write_reply(&encode(&Message::EchoRequest(Vec::new()), 0))?;
                        probed = Some(Instant::now());
                    }
                    _ => {}
                }
                continue;
            };
            heard = Instant::now();
            probed = None;
            framer.push(&bytes);
            while let Some(raw) = framer
                .next_message()
                .map_err(|e| other(format!("cannot frame its messages: {e}")))?
            {
                if !negotiated {
                    self.hello(c, &raw)?;
                    negotiated = true;
                    continue;
                }
                let out = self.handle(&raw);
                if !out.is_empty() {
                    c.write_reply(&out)?;
                }
                if self.errors > MAX_ERRORS {
                    return Err(other(format!("over {MAX_ERRORS} refused messages")));
                }
            }
        }
    }

    /// The first message must be a HELLO offering 1.3.
    fn hello(&mut self, c: &mut Client, raw: &[u8]) -> io::Result<()> {
        let h = Header::parse(raw).ok_or_else(|| other("short message".into()))?;
        let ok = match Message::decode(raw) {
            Ok((_, Message::Hello(hello))) => hello.supports(h.version, OFP_VERSION),
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let refusal = Message::Error(ErrorMsg {
            typ: HELLO_FAILED,
            code: hello_failed::INCOMPATIBLE,
            data: b"pmdswitch speaks OpenFlow 1.3 (0x04) only".to_vec(),
        });
        let _ = c.write_reply(&encode(&refusal, h.xid));
        Err(other(format!(
            "HELLO failed: peer offers no OpenFlow 1.3 (version {:#x}, type {})",
            h.version, h.typ
        )))
    }

    /// PORT_STATUS for every port added, deleted or changed since the last
    /// look (the first look only takes note), if the peer's role wants them.
    fn port_changes(&mut self) -> Vec<u8> {
        let (tx, rx) = std::sync::mpsc::channel();
        let asked = self.ask.ask(Box::new(move |sw: &mut Switch| {
            let _ = tx.send(stats::port_descs(sw));
            Vec::new()
        }));
        let (Some(_), Ok(now)) = (asked, rx.try_recv()) else {
            return Vec::new();
        };
        let Some(before) = self.ports.replace(now.clone()) else {
            return Vec::new();
        };
        let slave = usize::from(self.ch.role(self.id) == role::SLAVE);
        let wanted = self.async_config.port_status_mask[slave];
        let mut out = Vec::new();
        let mut tell = |reason: u8, desc: &Port| {
            if wanted & (1 << reason) != 0 {
                out.extend(encode(
                    &Message::PortStatus(PortStatus {
                        reason,
                        desc: desc.clone(),
                    }),
                    0,
                ));
            }
        };
        for p in &now {
            match before.iter().find(|b| b.port_no == p.port_no) {
                None => tell(consts::port_reason::ADD, p),
                Some(b) if b != p => tell(consts::port_reason::MODIFY, p),
                Some(_) => {}
            }
        }
        for b in &before {
            if !now.iter().any(|p| p.port_no == b.port_no) {
                tell(consts::port_reason::DELETE, b);
            }
        }
        out
    }

    /// Runs `job` on the main loop; an empty reply when it has stopped.
    fn on_switch(&self, job: impl FnOnce(&mut Switch) -> Vec<u8> + Send + 'static) -> Vec<u8> {
        self.ask.ask(Box::new(job)).unwrap_or_default()
    }

    fn handle(&mut self, raw: &[u8]) -> Vec<u8> {
        let (h, msg) = match Message::decode(raw) {
            Ok(d) => d,
            Err(err) => {
                self.errors += 1;
                let xid = Header::parse(raw).map_or(0, |h| h.xid);
                tracing::debug!("openflow: connection {}: {err}", self.id);
                return encode(&Message::Error(ErrorMsg::for_decode_error(&err, raw)), xid);
            }
        };
        let xid = h.xid;
        let reply = |m: Message| encode(&m, xid);
        let refuse = |typ, code| encode(&error(Refusal::new(typ, code), raw), xid);
        if let Some((typ, code)) = msg.unknown_error() {
            self.errors += 1;
            return refuse(typ, code);
        }
        let writes = matches!(
            msg,
            Message::FlowMod(_)
                | Message::GroupMod(_)
                | Message::PortMod(_)
                | Message::TableMod(_)
                | Message::MeterMod(_)
                | Message::PacketOut(_)
        );
        if writes && self.ch.role(self.id) == role::SLAVE {
            return refuse(BAD_REQUEST, bad_request::IS_SLAVE);
        }
        match msg {
            Message::Hello(_) | Message::EchoReply(_) => Vec::new(),
            Message::Error(err) => {
                tracing::info!(
                    "openflow: connection {} sent ERROR type {} code {}",
                    self.id,
                    err.typ,
                    err.code
                );
                Vec::new()
            }
            Message::EchoRequest(d) => reply(Message::EchoReply(d)),
            Message::FeaturesRequest => {
                self.on_switch(move |sw| encode(&Message::FeaturesReply(stats::features(sw)), xid))
            }
            Message::GetConfigRequest => reply(Message::GetConfigReply(self.config.clone())),
            Message::SetConfig(c) => {
                // Fragments are always treated normally (matched by ip_frag).
                if c.flags & consts::config::FRAG_MASK != consts::config::FRAG_NORMAL {
                    return refuse(SWITCH_CONFIG_FAILED, switch_config_failed::BAD_FLAGS);
                }
                self.config = c;
                Vec::new()
            }
            Message::GetAsyncRequest => reply(Message::GetAsyncReply(self.async_config.clone())),
            Message::SetAsync(a) => {
                self.async_config = a;
                Vec::new()
            }
            Message::RoleRequest(r) => match self.ch.set_role(self.id, &r) {
                Ok(now) => reply(Message::RoleReply(now)),
                Err(code) => refuse(ROLE_REQUEST_FAILED, code),
            },
            Message::BarrierRequest => self.on_switch(move |sw| {
                if let Err(e) = sw.sync_datapath() {
                    tracing::warn!("openflow: barrier: {e:#}");
                }
                encode(&Message::BarrierReply, xid)
            }),
            Message::FlowMod(fm) => match flows::translate(&fm) {
                Ok(change) => {
                    let raw = raw.to_vec();
                    self.on_switch(move |sw| match flows::apply(sw, &change) {
                        Ok(()) => Vec::new(),
                        Err(err) => {
                            tracing::warn!("openflow: flow_mod: {err:#}");
                            encode(
                                &error(
                                    Refusal::new(e::FLOW_MOD_FAILED, e::flow_mod_failed::UNKNOWN),
                                    &raw,
                                ),
                                xid,
                            )
                        }
                    })
                }
                Err(r) => {
                    self.errors += 1;
                    encode(&error(r, raw), xid)
                }
            },
            Message::MultipartRequest(req) => {
                let raw = raw.to_vec();
                self.on_switch(move |sw| match stats::multipart(sw, &req.body) {
                    Ok(body) => encode_reply_parts(xid, body).unwrap_or_default().concat(),
                    Err(r) => encode(&error(r, &raw), xid),
                })
            }
            Message::TableMod(t)
                if t.table_id <= consts::table::MAX || t.table_id == consts::table::ALL =>
            {
                // OpenFlow 1.3 table config bits are deprecated: nothing to change.
                Vec::new()
            }
            Message::TableMod(_) => refuse(e::TABLE_MOD_FAILED, e::table_mod_failed::BAD_TABLE),
            // Not built yet: refused with the error a switch without them gives.
            Message::MeterMod(m) => refuse(
                METER_MOD_FAILED,
                if m.meter_id == 0 || m.meter_id > consts::meter::MAX {
                    e::meter_mod_failed::INVALID_METER
                } else {
                    e::meter_mod_failed::OUT_OF_METERS
                },
            ),
            Message::GroupMod(_) => refuse(GROUP_MOD_FAILED, e::group_mod_failed::OUT_OF_GROUPS),
            Message::PortMod(_) => refuse(PORT_MOD_FAILED, e::port_mod_failed::EPERM),
            Message::PacketOut(_) => refuse(BAD_REQUEST, bad_request::BAD_TYPE),
            // Messages only a switch sends.
            _ => {
                self.errors += 1;
                refuse(BAD_REQUEST, bad_request::BAD_TYPE)
            }
        }
    }
}

impl Channel {
    /// The role a ROLE_REQUEST leaves this connection in, or the
    /// ROLE_REQUEST_FAILED code.
    fn set_role(&self, id: u64, r: &Role) -> Result<Role, u16> {
        let mut st = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        match r.role {
            role::NOCHANGE => {}
            role::EQUAL => {
                st.conns.insert(id, role::EQUAL);
            }
            role::MASTER | role::SLAVE => {
                if let Some(g) = st.generation {
                    if (r.generation_id.wrapping_sub(g) as i64) < 0 {
                        return Err(role_request_failed::STALE);
                    }
                }
                st.generation = Some(r.generation_id);
                if r.role == role::MASTER {
                    for v in st.conns.values_mut() {
                        if *v == role::MASTER {
                            *v = role::SLAVE;
                        }
                    }
                }
                st.conns.insert(id, r.role);
            }
            _ => return Err(role_request_failed::BAD_ROLE),
        }
        Ok(Role {
            role: st.conns.get(&id).copied().unwrap_or(role::EQUAL),
            generation_id: st.generation.unwrap_or(0),
        })
    }
}
