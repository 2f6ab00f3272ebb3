//! Protocol numbers and header sizes: the one home of the constants the
//! packet parser, the datapath actions, the rule parser and translation
//! share (after smoltcp's `wire` constants and OVS's `packets.h`).

/// EtherType: IPv4.
pub const ETH_TYPE_IPV4: u16 = 0x0800;
/// EtherType: ARP.
pub const ETH_TYPE_ARP: u16 = 0x0806;
/// EtherType: reverse ARP.
pub const ETH_TYPE_RARP: u16 = 0x8035;
/// EtherType: IPv6.
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
/// EtherType (TPID): an 802.1Q VLAN tag.
pub const ETH_TYPE_VLAN: u16 = 0x8100;
/// EtherType (TPID): an 802.1ad service tag (QinQ's outer tag).
pub const ETH_TYPE_QINQ: u16 = 0x88a8;
/// Values below this in the EtherType position are an 802.3 length.
pub const ETH_TYPE_MIN: u16 = 0x0600;
/// OVS's dl_type for 802.3 frames without SNAP.
pub const DL_TYPE_NONE: u16 = 0x05ff;

/// IPv6 hop-by-hop options header.
pub const IPPROTO_HOPOPTS: u8 = 0;
/// ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// TCP.
pub const IPPROTO_TCP: u8 = 6;
/// UDP.
pub const IPPROTO_UDP: u8 = 17;
/// IPv6 routing header.
pub const IPPROTO_ROUTING: u8 = 43;
/// IPv6 fragment header.
pub const IPPROTO_FRAGMENT: u8 = 44;
/// Authentication header.
pub const IPPROTO_AH: u8 = 51;
/// ICMPv6.
pub const IPPROTO_ICMPV6: u8 = 58;
/// IPv6 destination options header.
pub const IPPROTO_DSTOPTS: u8 = 60;
/// SCTP.
pub const IPPROTO_SCTP: u8 = 132;

/// Ethernet header: two MACs and the EtherType.
pub const ETH_HLEN: usize = 14;
/// One VLAN tag (TPID and TCI).
pub const VLAN_HLEN: usize = 4;
