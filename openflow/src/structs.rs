//! Fixed-layout structures shared by several messages: ports, statistics,
//! switch configuration, roles, descriptions.

use crate::wire::FixedStr;

wire_struct! {
    /// `ofp_port`: a port's description (PORT_STATUS, PORT_DESC).
    pub struct Port {
        /// Port number.
        pub port_no: u32 => pad 4,
        /// MAC address.
        pub hw_addr: [u8; 6] => pad 2,
        /// Interface name.
        pub name: FixedStr<16>,
        /// `OFPPC_*` bits.
        pub config: u32,
        /// `OFPPS_*` bits.
        pub state: u32,
        /// Current features (`OFPPF_*`).
        pub curr: u32,
        /// Advertised features.
        pub advertised: u32,
        /// Supported features.
        pub supported: u32,
        /// Features the peer advertises.
        pub peer: u32,
        /// Current speed in kbps.
        pub curr_speed: u32,
        /// Maximum speed in kbps.
        pub max_speed: u32,
    }
}

wire_struct! {
    /// FEATURES_REPLY body.
    pub struct FeaturesReply {
        /// Datapath id (low 48 bits usually a MAC).
        pub datapath_id: u64,
        /// Packets the switch can buffer (0: none).
        pub n_buffers: u32,
        /// Number of tables.
        pub n_tables: u8,
        /// Auxiliary connection id (0 for the main one).
        pub auxiliary_id: u8 => pad 2,
        /// `OFPC_*` bits.
        pub capabilities: u32,
        /// Reserved.
        pub reserved: u32,
    }
}

wire_struct! {
    /// GET_CONFIG_REPLY / SET_CONFIG body.
    pub struct SwitchConfig {
        /// `OFPC_FRAG_*`.
        pub flags: u16,
        /// Bytes of a packet sent to the controller on a table miss.
        pub miss_send_len: u16,
    }
}

wire_struct! {
    /// ROLE_REQUEST / ROLE_REPLY body.
    pub struct Role {
        /// `OFPCR_ROLE_*`.
        pub role: u32 => pad 4,
        /// Master election generation id.
        pub generation_id: u64,
    }
}

wire_struct! {
    /// GET_ASYNC_REPLY / SET_ASYNC body: index 0 for master/equal, 1 for slave.
    pub struct AsyncConfig {
        /// PACKET_IN reasons wanted (bit per reason).
        pub packet_in_mask: [u32; 2],
        /// PORT_STATUS reasons wanted.
        pub port_status_mask: [u32; 2],
        /// FLOW_REMOVED reasons wanted.
        pub flow_removed_mask: [u32; 2],
    }
}

wire_struct! {
    /// PORT_MOD body.
    pub struct PortMod {
        /// Port to change.
        pub port_no: u32 => pad 4,
        /// Must be the port's MAC (a sanity check).
        pub hw_addr: [u8; 6] => pad 2,
        /// New `OFPPC_*` bits.
        pub config: u32,
        /// Which `config` bits to change.
        pub mask: u32,
        /// Features to advertise (0: unchanged).
        pub advertise: u32 => pad 4,
    }
}

wire_struct! {
    /// TABLE_MOD body.
    pub struct TableMod {
        /// Table, or `OFPTT_ALL`.
        pub table_id: u8 => pad 3,
        /// Deprecated config bits.
        pub config: u32,
    }
}

wire_struct! {
    /// DESC reply body.
    pub struct Desc {
        /// Manufacturer.
        pub mfr_desc: FixedStr<256>,
        /// Hardware.
        pub hw_desc: FixedStr<256>,
        /// Software.
        pub sw_desc: FixedStr<256>,
        /// Serial number.
        pub serial_num: FixedStr<32>,
        /// Datapath description.
        pub dp_desc: FixedStr<256>,
    }
}

wire_struct! {
    /// One table's statistics (TABLE reply).
    pub struct TableStats {
        /// Table.
        pub table_id: u8 => pad 3,
        /// Rules in the table.
        pub active_count: u32,
        /// Packets looked up.
        pub lookup_count: u64,
        /// Packets that hit a rule.
        pub matched_count: u64,
    }
}

wire_struct! {
    /// One port's counters (PORT_STATS reply).
    pub struct PortStats {
        /// Port.
        pub port_no: u32 => pad 4,
        /// Received packets.
        pub rx_packets: u64,
        /// Sent packets.
        pub tx_packets: u64,
        /// Received bytes.
        pub rx_bytes: u64,
        /// Sent bytes.
        pub tx_bytes: u64,
        /// Packets dropped on receive.
        pub rx_dropped: u64,
        /// Packets dropped on send.
        pub tx_dropped: u64,
        /// Receive errors.
        pub rx_errors: u64,
        /// Send errors.
        pub tx_errors: u64,
        /// Frame alignment errors.
        pub rx_frame_err: u64,
        /// Receive overruns.
        pub rx_over_err: u64,
        /// CRC errors.
        pub rx_crc_err: u64,
        /// Collisions.
        pub collisions: u64,
        /// Seconds the port has been alive.
        pub duration_sec: u32,
        /// Nanoseconds beyond `duration_sec`.
        pub duration_nsec: u32,
    }
}

wire_struct! {
    /// AGGREGATE reply body.
    pub struct AggregateReply {
        /// Packets of the matching rules.
        pub packet_count: u64,
        /// Bytes of the matching rules.
        pub byte_count: u64,
        /// Matching rules.
        pub flow_count: u32 => pad 4,
    }
}

wire_struct! {
    /// GROUP_FEATURES reply body.
    pub struct GroupFeatures {
        /// Bitmap of supported group types.
        pub types: u32,
        /// `OFPGFC_*` bits.
        pub capabilities: u32,
        /// Maximum groups per type.
        pub max_groups: [u32; 4],
        /// Bitmap of supported actions per type.
        pub actions: [u32; 4],
    }
}

wire_struct! {
    /// Counters of one group bucket.
    pub struct BucketCounter {
        /// Packets through the bucket.
        pub packet_count: u64,
        /// Bytes through the bucket.
        pub byte_count: u64,
    }
}
