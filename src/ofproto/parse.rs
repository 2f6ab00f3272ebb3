//! Parser for `ovs-ofctl` flow text (the subset pmdswitch supports).
//!
//! `parse_flow` reads an `add-flow` line, `parse_match` a `del-flows` /
//! `mod-flows` match. Errors carry the byte position of the offending token.
//! Prerequisites are checked like OVS does (after the whole match is read,
//! so their order does not matter): `nw_src` needs `ip` or `arp`, `tp_dst`
//! needs `tcp`, `udp` or `sctp`, and so on.

use super::rule::{Action, FlowMod, Match, DEFAULT_PRIORITY};
use crate::flow::key::{Field, VLAN_CFI};
use crate::packet::proto::*;
use std::fmt;

/// Why flow text was refused, and where (byte offset into the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub pos: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.pos, self.msg)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(pos: usize, msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        pos,
        msg: msg.into(),
    })
}

/// A `del-flows`-style match: which table and priority were given, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchSpec {
    pub table: Option<u8>,
    pub priority: Option<u16>,
    /// `cookie=V/M`: only rules with `cookie & M == V`.
    pub cookie: Option<(u64, u64)>,
    pub m: Match,
}

/// Splits `s` (which starts at byte `base` of the text) at commas and
/// whitespace outside parentheses; yields (position, token).
fn tokens(s: &str, base: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = None;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        let sep = depth == 0 && (c == ',' || c.is_whitespace());
        match (sep, start) {
            (true, Some(st)) => {
                out.push((base + st, &s[st..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((base + st, &s[st..]));
    }
    out
}

/// Splits `name=value` (or `name:value`) at the first separator.
fn key_value(tok: &str) -> (&str, Option<&str>) {
    match tok.find(['=', ':']) {
        Some(i) => (&tok[..i], Some(&tok[i + 1..])),
        None => (tok, None),
    }
}

/// A number in decimal or `0x` hex.
pub fn parse_num(s: &str) -> Option<u128> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn parse_mac(s: &str) -> Option<u128> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut v = 0u128;
    for p in parts {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        v = (v << 8) | u128::from(u8::from_str_radix(p, 16).ok()?);
    }
    Some(v)
}

fn prefix_mask(bits: u32, len: u32) -> Option<u128> {
    if len > bits {
        return None;
    }
    let full = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    Some(if len == 0 {
        0
    } else {
        (full << (bits - len)) & full
    })
}

/// Parses a value of `f` as written in a match or set_field, with an
/// optional `/mask` (or `/prefix-length` for IP addresses).
fn parse_value(f: Field, s: &str) -> Result<(u128, u128), String> {
    let (v, m) = match s.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (s, None),
    };
    let full = f.full_mask();
    let bad = || format!("bad value '{s}' for '{}'", f.name());
    let one = |x: &str| -> Option<u128> {
        match f {
            Field::DlSrc | Field::DlDst | Field::ArpSha | Field::ArpTha => parse_mac(x),
            Field::NwSrc | Field::NwDst => x
                .parse::<std::net::Ipv4Addr>()
                .ok()
                .map(|a| u128::from(u32::from(a))),
            Field::Ipv6Src | Field::Ipv6Dst | Field::NdTarget => {
                x.parse::<std::net::Ipv6Addr>().ok().map(u128::from)
            }
            _ => parse_num(x),
        }
    };
    let value = one(v).ok_or_else(bad)?;
    if value & !full != 0 {
        return Err(format!("value '{v}' too wide for '{}'", f.name()));
    }
    let is_ip = matches!(
        f,
        Field::NwSrc | Field::NwDst | Field::Ipv6Src | Field::Ipv6Dst | Field::NdTarget
    );
    let mask = match m {
        None => full,
        Some(m) if is_ip && !m.contains(['.', ':']) => {
            let len: u32 = m.parse().map_err(|_| bad())?;
            prefix_mask(f.pos().bits, len)
                .ok_or_else(|| format!("bad prefix length '{m}' for '{}'", f.name()))?
        }
        Some(m) => {
            let mask = one(m).ok_or_else(bad)?;
            if mask & !full != 0 {
                return Err(format!("mask '{m}' too wide for '{}'", f.name()));
            }
            mask
        }
    };
    Ok((value & mask, mask))
}

/// What a match field needs the rest of the match to say (OVS `mf_prereqs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prereq {
    None,
    Ip,
    IpOrArp,
    Arp,
    IpAny,
    Ipv6,
    /// IP or IPv6 with one of these protocols.
    Proto(&'static [u8]),
    Icmp6,
    IcmpAny,
    /// ICMPv6 neighbor discovery of these types.
    Nd(&'static [u8]),
}

fn check_prereq(p: Prereq, m: &Match) -> Result<(), &'static str> {
    let exact = |f: Field| {
        if m.mask.get(f) == f.full_mask() {
            Some(m.key.get(f))
        } else {
            None
        }
    };
    let dl = exact(Field::DlType);
    let ip = dl == Some(ETH_TYPE_IPV4 as u128);
    let ip6 = dl == Some(ETH_TYPE_IPV6 as u128);
    let proto = exact(Field::NwProto);
    let ok = match p {
        Prereq::None => return Ok(()),
        Prereq::Ip => ip,
        Prereq::IpOrArp => ip || dl == Some(ETH_TYPE_ARP as u128),
        Prereq::Arp => dl == Some(ETH_TYPE_ARP as u128),
        Prereq::IpAny => ip || ip6,
        Prereq::Ipv6 => ip6,
        Prereq::Proto(ps) => (ip || ip6) && proto.is_some_and(|p| ps.contains(&(p as u8))),
        Prereq::Icmp6 => ip6 && proto == Some(58),
        Prereq::IcmpAny => (ip && proto == Some(1)) || (ip6 && proto == Some(58)),
        Prereq::Nd(types) => {
            ip6 && proto == Some(58)
                && exact(Field::TpSrc).is_some_and(|t| types.contains(&(t as u8)))
        }
    };
    if ok {
        return Ok(());
    }
    Err(match p {
        Prereq::None => "",
        Prereq::Ip => "ip (dl_type=0x0800)",
        Prereq::IpOrArp => "ip or arp (dl_type=0x0800 or 0x0806)",
        Prereq::Arp => "arp (dl_type=0x0806)",
        Prereq::IpAny => "ip or ipv6",
        Prereq::Ipv6 => "ipv6 (dl_type=0x86dd)",
        Prereq::Proto(ps) if ps == [6] => "tcp or tcp6",
        Prereq::Proto(ps) if ps == [17] => "udp or udp6",
        Prereq::Proto(ps) if ps == [132] => "sctp",
        Prereq::Proto(_) => "tcp, udp or sctp (ip or ipv6 with nw_proto=6, 17 or 132)",
        Prereq::Icmp6 => "icmp6 (ipv6 with nw_proto=58)",
        Prereq::IcmpAny => "icmp or icmp6",
        Prereq::Nd(_) => "icmp6 with icmp_type=135 or 136",
    })
}

const TCP_UDP_SCTP: &[u8] = &[IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP];
const TP_ANY: &[u8] = &[
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPPROTO_SCTP,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
];

/// Maps a match field name to (field, prerequisite). `None` when unknown.
fn match_field(name: &str) -> Option<(Field, Prereq)> {
    let p = match name {
        "in_port" | "dl_src" | "dl_dst" | "eth_src" | "eth_dst" | "dl_type" | "eth_type" => {
            Prereq::None
        }
        "nw_src" | "nw_dst" | "ip_src" | "ip_dst" => Prereq::IpOrArp,
        "arp_op" | "arp_spa" | "arp_tpa" | "arp_sha" | "arp_tha" => Prereq::Arp,
        "nw_proto" | "ip_proto" | "nw_ttl" => Prereq::IpAny,
        "tp_src" | "tp_dst" => Prereq::Proto(TP_ANY),
        "tcp_src" | "tcp_dst" => {
            return Some((
                if name == "tcp_src" {
                    Field::TpSrc
                } else {
                    Field::TpDst
                },
                Prereq::Proto(&[6]),
            ))
        }
        "udp_src" | "udp_dst" => {
            return Some((
                if name == "udp_src" {
                    Field::TpSrc
                } else {
                    Field::TpDst
                },
                Prereq::Proto(&[17]),
            ))
        }
        "sctp_src" | "sctp_dst" => {
            return Some((
                if name == "sctp_src" {
                    Field::TpSrc
                } else {
                    Field::TpDst
                },
                Prereq::Proto(&[132]),
            ))
        }
        "icmp_type" | "icmp_code" => Prereq::IcmpAny,
        "icmpv6_type" | "icmpv6_code" => Prereq::Icmp6,
        "ipv6_src" | "ipv6_dst" | "ipv6_label" => Prereq::Ipv6,
        "nd_target" => Prereq::Nd(&[135, 136]),
        "nd_sll" => Prereq::Nd(&[135]),
        "nd_tll" => Prereq::Nd(&[136]),
        _ => return None,
    };
    Some((Field::from_name(name)?, p))
}

/// Sets bits in `m`, refusing a value that contradicts what is already there.
fn add(
    m: &mut Match,
    f: Field,
    v: u128,
    mask: u128,
    pos: usize,
    name: &str,
) -> Result<(), ParseError> {
    let overlap = m.mask.get(f) & mask;
    if (m.key.get(f) ^ v) & overlap != 0 {
        return err(pos, format!("conflicting values for '{name}'"));
    }
    m.set_masked(f, v, mask);
    Ok(())
}

/// Parser state shared by add-flow and del-flows text.
struct MatchParser {
    m: Match,
    table: Option<u8>,
    priority: Option<u16>,
    cookie: Option<(u64, u64)>,
    idle: u16,
    hard: u16,
    prereqs: Vec<(usize, String, Prereq)>,
}

fn num_in<T: TryFrom<u128>>(pos: usize, name: &str, v: Option<&str>) -> Result<T, ParseError> {
    let Some(v) = v else {
        return err(pos, format!("'{name}' needs a value"));
    };
    parse_num(v)
        .and_then(|x| T::try_from(x).ok())
        .map_or_else(|| err(pos, format!("bad value '{v}' for '{name}'")), Ok)
}

impl MatchParser {
    fn new() -> Self {
        MatchParser {
            m: Match::ANY,
            table: None,
            priority: None,
            cookie: None,
            idle: 0,
            hard: 0,
            prereqs: Vec::new(),
        }
    }

    fn shorthand(&mut self, pos: usize, name: &str) -> Result<bool, ParseError> {
        let (dl, proto) = match name {
            "ip" => (ETH_TYPE_IPV4 as u128, None),
            "ipv6" => (ETH_TYPE_IPV6 as u128, None),
            "arp" => (ETH_TYPE_ARP as u128, None),
            "rarp" => (ETH_TYPE_RARP as u128, None),
            "tcp" => (ETH_TYPE_IPV4 as u128, Some(6)),
            "udp" => (ETH_TYPE_IPV4 as u128, Some(17)),
            "sctp" => (ETH_TYPE_IPV4 as u128, Some(132)),
            "icmp" => (ETH_TYPE_IPV4 as u128, Some(1)),
            "tcp6" => (ETH_TYPE_IPV6 as u128, Some(6)),
            "udp6" => (ETH_TYPE_IPV6 as u128, Some(17)),
            "sctp6" => (ETH_TYPE_IPV6 as u128, Some(132)),
            "icmp6" => (ETH_TYPE_IPV6 as u128, Some(58)),
            _ => return Ok(false),
        };
        add(&mut self.m, Field::DlType, dl, 0xffff, pos, name)?;
        if let Some(p) = proto {
            add(&mut self.m, Field::NwProto, p, 0xff, pos, name)?;
        }
        Ok(true)
    }

    fn token(&mut self, pos: usize, tok: &str) -> Result<(), ParseError> {
        let (name, val) = key_value(tok);
        if val.is_none() && self.shorthand(pos, name)? {
            return Ok(());
        }
        let vpos = pos + name.len() + 1;
        let need = |v: Option<&str>| -> Result<String, ParseError> {
            v.map(str::to_string)
                .map_or_else(|| err(pos, format!("'{name}' needs a value")), Ok)
        };
        let m = &mut self.m;
        match name {
            "table" => {
                self.table = Some(num_in::<u8>(vpos, name, val).and_then(|t| check_table(vpos, t))?)
            }
            "priority" => self.priority = Some(num_in(vpos, name, val)?),
            "idle_timeout" => self.idle = num_in(vpos, name, val)?,
            "hard_timeout" => self.hard = num_in(vpos, name, val)?,
            "cookie" => {
                let v = need(val)?;
                let (c, cm) = match v.split_once('/') {
                    Some((c, cm)) => (c, Some(cm)),
                    None => (v.as_str(), None),
                };
                let c: u64 = num_in(vpos, name, Some(c))?;
                let cm: u64 = match cm {
                    Some(cm) => num_in(vpos, name, Some(cm))?,
                    None => u64::MAX,
                };
                self.cookie = Some((c & cm, cm));
            }
            "dl_vlan" => {
                let v: u16 = num_in(vpos, name, val)?;
                // 0xffff means "no 802.1Q header".
                let (tci, mask) = match v {
                    0xffff => (0, 0xffff),
                    0..=4095 => (u128::from(v) | u128::from(VLAN_CFI), 0x1fff),
                    _ => {
                        return err(
                            vpos,
                            format!("bad value '{}' for 'dl_vlan'", val.unwrap_or("")),
                        )
                    }
                };
                add(m, Field::VlanTci0, tci, mask, pos, name)?;
            }
            "dl_vlan_pcp" => {
                let v: u8 = num_in(vpos, name, val)?;
                if v > 7 {
                    return err(vpos, format!("bad value '{v}' for 'dl_vlan_pcp'"));
                }
                add(
                    m,
                    Field::VlanTci0,
                    (u128::from(v) << 13) | u128::from(VLAN_CFI),
                    0xf000,
                    pos,
                    name,
                )?;
            }
            "vlan_tci" => {
                let (v, mk) =
                    parse_value(Field::VlanTci0, &need(val)?).or_else(|e| err(vpos, e))?;
                add(m, Field::VlanTci0, v, mk, pos, name)?;
            }
            "nw_tos" | "ip_dscp" => {
                let v: u8 = num_in(vpos, name, val)?;
                let tos = if name == "ip_dscp" {
                    u16::from(v) << 2
                } else {
                    u16::from(v)
                };
                if tos & 0x03 != 0 || tos > 0xff {
                    return err(
                        vpos,
                        format!("bad value '{v}' for '{name}' (DSCP bits only)"),
                    );
                }
                add(m, Field::NwTos, u128::from(tos), 0xfc, pos, name)?;
                self.prereqs.push((pos, name.into(), Prereq::IpAny));
            }
            "nw_ecn" | "ip_ecn" => {
                let v: u8 = num_in(vpos, name, val)?;
                if v > 3 {
                    return err(vpos, format!("bad value '{v}' for '{name}'"));
                }
                add(m, Field::NwTos, u128::from(v), 0x03, pos, name)?;
                self.prereqs.push((pos, name.into(), Prereq::IpAny));
            }
            "nw_frag" => {
                use crate::flow::key::{FRAG_ANY as A, FRAG_LATER as L};
                let (v, mk) = match val {
                    Some("no") => (0, A | L),
                    Some("yes") => (A, A),
                    Some("first") => (A, A | L),
                    Some("later") => (A | L, A | L),
                    Some("not_later") => (0, L),
                    _ => {
                        return err(
                            vpos,
                            format!("bad value '{}' for 'nw_frag'", val.unwrap_or("")),
                        )
                    }
                };
                add(m, Field::NwFrag, v.into(), mk.into(), pos, name)?;
                self.prereqs.push((pos, name.into(), Prereq::IpAny));
            }
            "tcp_flags" => {
                let (v, mk) = parse_tcp_flags(&need(val)?).or_else(|e| err(vpos, e))?;
                add(m, Field::TcpFlags, v, mk, pos, name)?;
                self.prereqs.push((pos, name.into(), Prereq::Proto(&[6])));
            }
            _ => {
                let Some((f, pre)) = match_field(name) else {
                    return err(pos, format!("unknown field '{name}'"));
                };
                let (v, mk) = parse_value(f, &need(val)?).or_else(|e| err(vpos, e))?;
                let (v, mk) = match name {
                    // ICMP type/code are 8-bit fields in 16-bit slots.
                    "icmp_type" | "icmp_code" | "icmpv6_type" | "icmpv6_code" if v > 0xff => {
                        return err(vpos, format!("bad value '{v}' for '{name}'"))
                    }
                    "ipv6_label" if v > 0xfffff => return err(vpos, "ipv6_label is 20 bits"),
                    "ipv6_label" => (v, mk & 0xfffff),
                    "arp_op" if v > 0xff => return err(vpos, "arp_op is 8 bits here"),
                    _ => (v, mk),
                };
                add(m, f, v, mk, pos, name)?;
                self.prereqs.push((pos, name.into(), pre));
            }
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), ParseError> {
        for (pos, name, p) in &self.prereqs {
            check_prereq(*p, &self.m)
                .or_else(|need| err(*pos, format!("field '{name}' requires {need}")))?;
        }
        Ok(())
    }
}

fn check_table(pos: usize, t: u8) -> Result<u8, ParseError> {
    if t == 255 {
        return err(pos, "table 255 is reserved");
    }
    Ok(t)
}

/// A TCP flag's bit by its OVS name (`fin` .. `ns`).
pub fn tcp_flag_bit(name: &str) -> Option<u128> {
    Some(match name {
        "fin" => 0x001,
        "syn" => 0x002,
        "rst" => 0x004,
        "psh" => 0x008,
        "ack" => 0x010,
        "urg" => 0x020,
        "ece" => 0x040,
        "cwr" => 0x080,
        "ns" => 0x100,
        _ => return None,
    })
}

fn parse_tcp_flags(s: &str) -> Result<(u128, u128), String> {
    if s.starts_with(['+', '-']) {
        let (mut v, mut m) = (0u128, 0u128);
        let mut rest = s;
        while !rest.is_empty() {
            let on = rest.starts_with('+');
            rest = &rest[1..];
            let end = rest.find(['+', '-']).unwrap_or(rest.len());
            let name = &rest[..end];
            let bit = tcp_flag_bit(name).ok_or_else(|| format!("unknown tcp flag '{name}'"))?;
            m |= bit;
            if on {
                v |= bit;
            }
            rest = &rest[end..];
        }
        return Ok((v, m));
    }
    let (v, m) = parse_value(Field::TcpFlags, s)?;
    if m & !0xfff != 0 || v & !0xfff != 0 {
        return Err("tcp_flags is 12 bits".into());
    }
    Ok((v, if m == 0xffff { 0xfff } else { m }))
}

/// Parses a `del-flows`/`mod-flows` match (no `actions=`).
pub fn parse_match(text: &str) -> Result<MatchSpec, ParseError> {
    parse_match_inner(text).map_err(|e| clamp(e, text))
}

/// A missing value is reported just past its name, which may be the end.
fn clamp(mut e: ParseError, text: &str) -> ParseError {
    e.pos = e.pos.min(text.len());
    e
}

fn parse_match_inner(text: &str) -> Result<MatchSpec, ParseError> {
    let mut p = MatchParser::new();
    for (pos, tok) in tokens(text, 0) {
        p.token(pos, tok)?;
    }
    p.finish()?;
    Ok(MatchSpec {
        table: p.table,
        priority: p.priority,
        cookie: p.cookie,
        m: p.m,
    })
}

/// Parses an `add-flow` line: match fields, then `actions=...`.
pub fn parse_flow(text: &str) -> Result<FlowMod, ParseError> {
    parse_flow_inner(text).map_err(|e| clamp(e, text))
}

fn parse_flow_inner(text: &str) -> Result<FlowMod, ParseError> {
    let Some(ai) = text.find("actions=") else {
        return err(text.len(), "missing 'actions='");
    };
    let mut p = MatchParser::new();
    for (pos, tok) in tokens(&text[..ai], 0) {
        p.token(pos, tok)?;
    }
    p.finish()?;
    let table = p.table.unwrap_or(0);
    let astart = ai + "actions=".len();
    let actions = parse_actions(&text[astart..], astart, table, &p.m)?;
    if p.cookie.is_some_and(|(_, m)| m != u64::MAX) {
        return err(0, "cookie mask not allowed when adding a flow");
    }
    Ok(FlowMod {
        table,
        priority: p.priority.unwrap_or(DEFAULT_PRIORITY),
        cookie: p.cookie.map_or(0, |c| c.0),
        idle_timeout: p.idle,
        hard_timeout: p.hard,
        m: p.m,
        actions,
    })
}

fn port_number(s: &str) -> Option<Action> {
    match s.to_ascii_uppercase().as_str() {
        "IN_PORT" => Some(Action::InPort),
        "NORMAL" => Some(Action::Normal),
        "LOCAL" => Some(Action::Output(crate::ofproto::normal::OFPP_LOCAL)),
        _ => parse_num(s)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n < 0xffff_ff00)
            .map(Action::Output),
    }
}

/// Parses the text after `actions=` (starting at byte `base`).
fn parse_actions(s: &str, base: usize, table: u8, m: &Match) -> Result<Vec<Action>, ParseError> {
    let toks = tokens(s, base);
    let mut out = Vec::new();
    if toks.is_empty() {
        return err(base, "empty action list (use 'drop')");
    }
    for (i, &(pos, tok)) in toks.iter().enumerate() {
        let last = i + 1 == toks.len();
        if tok.eq_ignore_ascii_case("drop") {
            if toks.len() != 1 {
                return err(pos, "'drop' must be the only action");
            }
            continue;
        }
        let a = parse_action(pos, tok, table, m)?;
        if noop_in_match(tok, m) {
            continue;
        }
        if matches!(a, Action::GotoTable(_)) && !last {
            return err(pos, "goto_table must be the last action");
        }
        out.push(a);
    }
    Ok(out)
}

/// OpenFlow 1.0's `mod_nw_src`/`mod_nw_dst` write only IPv4 and
/// `mod_tp_src`/`mod_tp_dst` only TCP/UDP/SCTP: in a rule that pins ARP
/// (ICMP) they never do anything in OVS. Dropping them keeps the key slot
/// they share with ARP's addresses (ICMP's type and code) unambiguous:
/// in such a rule a rewrite of that slot means the ARP (ICMP) field.
fn noop_in_match(tok: &str, m: &Match) -> bool {
    let pinned = |f: Field| (m.mask.get(f) == f.full_mask()).then(|| m.key.get(f));
    let name = key_value(tok).0.to_ascii_lowercase();
    match name.as_str() {
        "mod_nw_src" | "mod_nw_dst" => pinned(Field::DlType) == Some(ETH_TYPE_ARP as u128),
        "mod_tp_src" | "mod_tp_dst" => matches!(pinned(Field::NwProto), Some(1 | 58)),
        _ => false,
    }
}

fn parse_action(pos: usize, tok: &str, table: u8, m: &Match) -> Result<Action, ParseError> {
    if let Some(a) = port_number(tok) {
        return Ok(a);
    }
    if let Some(args) = tok.strip_prefix("resubmit(") {
        let Some(args) = args.strip_suffix(')') else {
            return err(pos, "missing ')' in resubmit");
        };
        let Some((p, t)) = args.split_once(',') else {
            return err(pos, "resubmit(port,table) needs a comma");
        };
        let port = match p {
            "" => None,
            p => match port_number(p) {
                Some(Action::Output(n)) => Some(n),
                Some(Action::InPort) => None,
                _ => return err(pos + 9, format!("bad port '{p}' in resubmit")),
            },
        };
        let table = match t {
            "" => None,
            t => Some(
                num_in::<u8>(pos + 10 + p.len(), "resubmit table", Some(t))
                    .and_then(|t| check_table(pos, t))?,
            ),
        };
        return Ok(Action::Resubmit { port, table });
    }
    let (name, val) = key_value(tok);
    let vpos = pos + name.len() + 1;
    let lname = name.to_ascii_lowercase();
    let need = || val.map_or_else(|| err(pos, format!("'{name}' needs an argument")), Ok);
    let set = |f: Field| -> Result<Action, ParseError> {
        let v = need()?;
        let (value, mask) = parse_value(f, v).or_else(|e| err(vpos, e))?;
        if mask != f.full_mask() {
            return err(vpos, format!("'{name}' takes no mask"));
        }
        Ok(Action::SetField {
            field: f,
            value,
            mask,
        })
    };
    Ok(match lname.as_str() {
        "output" => match port_number(need()?) {
            Some(a) => a,
            None => return err(vpos, format!("bad output port '{}'", val.unwrap_or(""))),
        },
        "goto_table" => {
            let t: u8 = num_in(vpos, name, val)?;
            check_table(vpos, t)?;
            if t <= table {
                return err(
                    vpos,
                    format!("goto_table:{t} must go to a later table than {table}"),
                );
            }
            Action::GotoTable(t)
        }
        "resubmit" => match port_number(need()?) {
            Some(Action::Output(n)) => Action::Resubmit {
                port: Some(n),
                table: None,
            },
            _ => {
                return err(
                    vpos,
                    format!("bad port '{}' in resubmit", val.unwrap_or("")),
                )
            }
        },
        "mod_dl_src" => set(Field::DlSrc)?,
        "mod_dl_dst" => set(Field::DlDst)?,
        "mod_nw_src" => set(Field::NwSrc)?,
        "mod_nw_dst" => set(Field::NwDst)?,
        "mod_tp_src" => set(Field::TpSrc)?,
        "mod_tp_dst" => set(Field::TpDst)?,
        "mod_nw_tos" => dscp_action(vpos, name, val, false)?,
        "mod_nw_ecn" => ecn_action(vpos, name, val)?,
        "mod_nw_ttl" => set(Field::NwTtl)?,
        "dec_ttl" if val.is_none() => Action::DecTtl,
        "strip_vlan" | "pop_vlan" if val.is_none() => Action::PopVlan,
        "push_vlan" => {
            let t: u16 = num_in(vpos, name, val)?;
            if t != ETH_TYPE_VLAN && t != ETH_TYPE_QINQ {
                return err(vpos, format!("push_vlan: bad ethertype {t:#x}"));
            }
            Action::PushVlan(t)
        }
        "mod_vlan_vid" => Action::SetVlanVid {
            vid: vid_arg(vpos, name, val)?,
            push_if_needed: true,
        },
        "mod_vlan_pcp" => Action::SetVlanPcp {
            pcp: pcp_arg(vpos, name, val)?,
            push_if_needed: true,
        },
        "set_field" => parse_set_field(vpos, need()?, m)?,
        "load" => nxm::parse_load(vpos, need()?, m)?,
        "move" => nxm::parse_move(vpos, need()?, m)?,
        _ => return err(pos, format!("unknown action '{tok}'")),
    })
}

fn vid_arg(pos: usize, name: &str, val: Option<&str>) -> Result<u16, ParseError> {
    let v: u16 = num_in(pos, name, val)?;
    if v > 4095 {
        return err(pos, format!("bad VLAN id {v}"));
    }
    Ok(v)
}

fn pcp_arg(pos: usize, name: &str, val: Option<&str>) -> Result<u8, ParseError> {
    let v: u8 = num_in(pos, name, val)?;
    if v > 7 {
        return err(pos, format!("bad VLAN priority {v}"));
    }
    Ok(v)
}

/// `mod_nw_tos:N` / set_field to `nw_tos` or `ip_dscp`: DSCP only, ECN kept.
fn dscp_action(
    pos: usize,
    name: &str,
    val: Option<&str>,
    shifted: bool,
) -> Result<Action, ParseError> {
    let v: u8 = num_in(pos, name, val)?;
    let tos = if shifted {
        u16::from(v) << 2
    } else {
        u16::from(v)
    };
    if tos & 3 != 0 || tos > 0xff {
        return err(pos, format!("bad DSCP value {v} for '{name}'"));
    }
    Ok(Action::SetField {
        field: Field::NwTos,
        value: tos.into(),
        mask: 0xfc,
    })
}

/// `set_field:VALUE[/MASK]->FIELD` for every field of the key OVS lets
/// set_field write; the field's prerequisites must be in the rule's match
/// (OVS checks this too). Read-only fields (`dl_type`, `nw_proto`,
/// `nw_frag`, `tcp_flags`, `in_port`) are refused.
fn parse_set_field(pos: usize, arg: &str, m: &Match) -> Result<Action, ParseError> {
    let Some((v, f)) = arg.split_once("->") else {
        return err(pos, "set_field needs 'VALUE->FIELD'");
    };
    let fpos = pos + v.len() + 2;
    let (a, pre) = match f {
        // OpenFlow 1.3 writes the VID with OFPVID_PRESENT (0x1000); OVS's
        // text form adds it when absent.
        "vlan_vid" => {
            let vid: u16 = num_in(pos, f, Some(v))?;
            (
                Action::SetVlanVid {
                    vid: vid_arg(pos, f, Some(&(vid & !VLAN_CFI).to_string()))?,
                    push_if_needed: false,
                },
                Prereq::None,
            )
        }
        "vlan_pcp" => (
            Action::SetVlanPcp {
                pcp: pcp_arg(pos, f, Some(v))?,
                push_if_needed: false,
            },
            Prereq::None,
        ),
        // The whole outer TCI: a value without VLAN_CFI removes the tag.
        "vlan_tci" => (set_full(pos, Field::VlanTci0, v)?, Prereq::None),
        "nw_tos" => (dscp_action(pos, f, Some(v), false)?, Prereq::IpAny),
        "ip_dscp" => (dscp_action(pos, f, Some(v), true)?, Prereq::IpAny),
        "ip_ecn" | "nw_ecn" => (ecn_action(pos, f, Some(v))?, Prereq::IpAny),
        // An IPv4 address for set_field is the IP header's, never ARP's.
        "nw_src" | "ip_src" => (set_full(pos, Field::NwSrc, v)?, Prereq::Ip),
        "nw_dst" | "ip_dst" => (set_full(pos, Field::NwDst, v)?, Prereq::Ip),
        "tp_src" | "tp_dst" => (
            set_full(
                pos,
                if f == "tp_src" {
                    Field::TpSrc
                } else {
                    Field::TpDst
                },
                v,
            )?,
            Prereq::Proto(TCP_UDP_SCTP),
        ),
        "in_port" | "dl_type" | "eth_type" | "nw_proto" | "ip_proto" => {
            return err(
                fpos,
                format!("set_field: unsupported field '{f}' (read-only)"),
            )
        }
        _ => match match_field(f) {
            Some((field, pre)) => {
                let (value, mask) = parse_value(field, v).or_else(|e| err(pos, e))?;
                let max = narrow_field_max(f).unwrap_or(field.full_mask());
                if value > max {
                    return err(pos, format!("bad value {value} for '{f}'"));
                }
                let mask = mask & max;
                (Action::SetField { field, value, mask }, pre)
            }
            None => return err(fpos, format!("set_field: unsupported field '{f}'")),
        },
    };
    check_prereq(pre, m).or_else(|need| {
        err(
            fpos,
            format!("set_field to '{f}' requires {need} in the match"),
        )
    })?;
    Ok(a)
}

/// The largest value of a field narrower than its slot in the key.
fn narrow_field_max(name: &str) -> Option<u128> {
    match name {
        "icmp_type" | "icmp_code" | "icmpv6_type" | "icmpv6_code" | "arp_op" => Some(0xff),
        "ipv6_label" => Some(0xfffff),
        _ => None,
    }
}

/// `mod_nw_ecn:N` / set_field to `ip_ecn`: the two ECN bits, DSCP kept.
fn ecn_action(pos: usize, name: &str, val: Option<&str>) -> Result<Action, ParseError> {
    let v: u8 = num_in(pos, name, val)?;
    if v > 3 {
        return err(pos, format!("bad value {v} for '{name}' (ECN is 2 bits)"));
    }
    Ok(Action::SetField {
        field: Field::NwTos,
        value: v.into(),
        mask: 0x03,
    })
}

fn set_full(pos: usize, f: Field, v: &str) -> Result<Action, ParseError> {
    let (value, mask) = parse_value(f, v).or_else(|e| err(pos, e))?;
    Ok(Action::SetField {
        field: f,
        value,
        mask,
    })
}

mod nxm;

#[cfg(test)]
mod tests;
