//! Every OpenFlow 1.3 protocol constant the codec and the switch use, in one
//! place (values from the OpenFlow 1.3.5 specification, `openflow.h`, and
//! OVS's Nicira extension headers).
#![allow(missing_docs)]

/// Wire version of OpenFlow 1.3.
pub const OFP_VERSION: u8 = 0x04;
/// Size of `ofp_header`.
pub const OFP_HEADER_LEN: usize = 8;
/// Longest message a 16-bit length can express.
pub const OFP_MAX_MSG_LEN: usize = 65535;
/// Bytes of an offending message echoed in ERROR data (spec: at least 64).
pub const OFP_ERROR_ECHO_LEN: usize = 64;
/// TCP port IANA assigned to OpenFlow.
pub const OFP_TCP_PORT: u16 = 6653;

/// Message types (`ofp_type`).
pub mod msg {
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const EXPERIMENTER: u8 = 4;
    pub const FEATURES_REQUEST: u8 = 5;
    pub const FEATURES_REPLY: u8 = 6;
    pub const GET_CONFIG_REQUEST: u8 = 7;
    pub const GET_CONFIG_REPLY: u8 = 8;
    pub const SET_CONFIG: u8 = 9;
    pub const PACKET_IN: u8 = 10;
    pub const FLOW_REMOVED: u8 = 11;
    pub const PORT_STATUS: u8 = 12;
    pub const PACKET_OUT: u8 = 13;
    pub const FLOW_MOD: u8 = 14;
    pub const GROUP_MOD: u8 = 15;
    pub const PORT_MOD: u8 = 16;
    pub const TABLE_MOD: u8 = 17;
    pub const MULTIPART_REQUEST: u8 = 18;
    pub const MULTIPART_REPLY: u8 = 19;
    pub const BARRIER_REQUEST: u8 = 20;
    pub const BARRIER_REPLY: u8 = 21;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 22;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 23;
    pub const ROLE_REQUEST: u8 = 24;
    pub const ROLE_REPLY: u8 = 25;
    pub const GET_ASYNC_REQUEST: u8 = 26;
    pub const GET_ASYNC_REPLY: u8 = 27;
    pub const SET_ASYNC: u8 = 28;
    pub const METER_MOD: u8 = 29;
}

/// HELLO element types.
pub mod hello {
    pub const VERSIONBITMAP: u16 = 1;
}

/// Reserved port numbers (`ofp_port_no`).
pub mod port {
    pub const MAX: u32 = 0xffff_ff00;
    pub const IN_PORT: u32 = 0xffff_fff8;
    pub const TABLE: u32 = 0xffff_fff9;
    pub const NORMAL: u32 = 0xffff_fffa;
    pub const FLOOD: u32 = 0xffff_fffb;
    pub const ALL: u32 = 0xffff_fffc;
    pub const CONTROLLER: u32 = 0xffff_fffd;
    pub const LOCAL: u32 = 0xffff_fffe;
    pub const ANY: u32 = 0xffff_ffff;
}

/// Reserved group numbers.
pub mod group {
    pub const MAX: u32 = 0xffff_ff00;
    pub const ALL: u32 = 0xffff_fffc;
    pub const ANY: u32 = 0xffff_ffff;
}

/// Reserved table numbers.
pub mod table {
    pub const MAX: u8 = 0xfe;
    pub const ALL: u8 = 0xff;
}

/// `buffer_id` meaning "not buffered, the data is in the message".
pub const NO_BUFFER: u32 = 0xffff_ffff;
/// Output `max_len`: the most a switch may send to the controller.
pub const OFPCML_MAX: u16 = 0xffe5;
/// Output `max_len`: send the whole packet, never buffer.
pub const OFPCML_NO_BUFFER: u16 = 0xffff;
/// VLAN_VID bit that says a tag is present.
pub const OFPVID_PRESENT: u16 = 0x1000;
/// VLAN_VID value for "no tag".
pub const OFPVID_NONE: u16 = 0x0000;

/// Switch capabilities (FEATURES_REPLY).
pub mod capabilities {
    pub const FLOW_STATS: u32 = 1 << 0;
    pub const TABLE_STATS: u32 = 1 << 1;
    pub const PORT_STATS: u32 = 1 << 2;
    pub const GROUP_STATS: u32 = 1 << 3;
    pub const IP_REASM: u32 = 1 << 5;
    pub const QUEUE_STATS: u32 = 1 << 6;
    pub const PORT_BLOCKED: u32 = 1 << 8;
}

/// SET_CONFIG flags.
pub mod config {
    pub const FRAG_NORMAL: u16 = 0;
    pub const FRAG_DROP: u16 = 1;
    pub const FRAG_REASM: u16 = 2;
    pub const FRAG_MASK: u16 = 3;
}

/// Port `config` bits.
pub mod port_config {
    pub const PORT_DOWN: u32 = 1 << 0;
    pub const NO_RECV: u32 = 1 << 2;
    pub const NO_FWD: u32 = 1 << 5;
    pub const NO_PACKET_IN: u32 = 1 << 6;
}

/// Port `state` bits.
pub mod port_state {
    pub const LINK_DOWN: u32 = 1 << 0;
    pub const BLOCKED: u32 = 1 << 1;
    pub const LIVE: u32 = 1 << 2;
}

/// Port feature bits (`curr`, `advertised`, `supported`, `peer`).
pub mod port_features {
    pub const F_10MB_HD: u32 = 1 << 0;
    pub const F_10MB_FD: u32 = 1 << 1;
    pub const F_100MB_HD: u32 = 1 << 2;
    pub const F_100MB_FD: u32 = 1 << 3;
    pub const F_1GB_HD: u32 = 1 << 4;
    pub const F_1GB_FD: u32 = 1 << 5;
    pub const F_10GB_FD: u32 = 1 << 6;
    pub const F_40GB_FD: u32 = 1 << 7;
    pub const F_100GB_FD: u32 = 1 << 8;
    pub const F_1TB_FD: u32 = 1 << 9;
    pub const F_OTHER: u32 = 1 << 10;
    pub const F_COPPER: u32 = 1 << 11;
    pub const F_FIBER: u32 = 1 << 12;
    pub const F_AUTONEG: u32 = 1 << 13;
    pub const F_PAUSE: u32 = 1 << 14;
    pub const F_PAUSE_ASYM: u32 = 1 << 15;
}

/// PORT_STATUS reasons.
pub mod port_reason {
    pub const ADD: u8 = 0;
    pub const DELETE: u8 = 1;
    pub const MODIFY: u8 = 2;
}

/// PACKET_IN reasons.
pub mod packet_in_reason {
    pub const NO_MATCH: u8 = 0;
    pub const ACTION: u8 = 1;
    pub const INVALID_TTL: u8 = 2;
}

/// FLOW_REMOVED reasons.
pub mod flow_removed_reason {
    pub const IDLE_TIMEOUT: u8 = 0;
    pub const HARD_TIMEOUT: u8 = 1;
    pub const DELETE: u8 = 2;
    pub const GROUP_DELETE: u8 = 3;
}

/// FLOW_MOD commands.
pub mod flow_mod_command {
    pub const ADD: u8 = 0;
    pub const MODIFY: u8 = 1;
    pub const MODIFY_STRICT: u8 = 2;
    pub const DELETE: u8 = 3;
    pub const DELETE_STRICT: u8 = 4;
}

/// FLOW_MOD flags.
pub mod flow_mod_flags {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    pub const RESET_COUNTS: u16 = 1 << 2;
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// GROUP_MOD commands.
pub mod group_mod_command {
    pub const ADD: u16 = 0;
    pub const MODIFY: u16 = 1;
    pub const DELETE: u16 = 2;
}

/// Group types.
pub mod group_type {
    pub const ALL: u8 = 0;
    pub const SELECT: u8 = 1;
    pub const INDIRECT: u8 = 2;
    pub const FF: u8 = 3;
}

/// Group capabilities (GROUP_FEATURES).
pub mod group_capabilities {
    pub const SELECT_WEIGHT: u32 = 1 << 0;
    pub const SELECT_LIVENESS: u32 = 1 << 1;
    pub const CHAINING: u32 = 1 << 2;
    pub const CHAINING_CHECKS: u32 = 1 << 3;
}

/// Controller roles.
pub mod role {
    pub const NOCHANGE: u32 = 0;
    pub const EQUAL: u32 = 1;
    pub const MASTER: u32 = 2;
    pub const SLAVE: u32 = 3;
}

/// METER_MOD commands, flags and band types.
pub mod meter {
    pub const ADD: u16 = 0;
    pub const MODIFY: u16 = 1;
    pub const DELETE: u16 = 2;
    pub const FLAG_KBPS: u16 = 1 << 0;
    pub const FLAG_PKTPS: u16 = 1 << 1;
    pub const FLAG_BURST: u16 = 1 << 2;
    pub const FLAG_STATS: u16 = 1 << 3;
    pub const BAND_DROP: u16 = 1;
    pub const BAND_DSCP_REMARK: u16 = 2;
    pub const BAND_EXPERIMENTER: u16 = 0xffff;
    pub const MAX: u32 = 0xffff_0000;
    pub const SLOWPATH: u32 = 0xffff_fffd;
    pub const CONTROLLER: u32 = 0xffff_fffe;
    pub const ALL: u32 = 0xffff_ffff;
}

/// TABLE_MOD config bits (deprecated in 1.3, kept for decoding).
pub const OFPTC_DEPRECATED_MASK: u32 = 3;

/// Multipart types and flags.
pub mod multipart {
    pub const DESC: u16 = 0;
    pub const FLOW: u16 = 1;
    pub const AGGREGATE: u16 = 2;
    pub const TABLE: u16 = 3;
    pub const PORT_STATS: u16 = 4;
    pub const QUEUE: u16 = 5;
    pub const GROUP: u16 = 6;
    pub const GROUP_DESC: u16 = 7;
    pub const GROUP_FEATURES: u16 = 8;
    pub const METER: u16 = 9;
    pub const METER_CONFIG: u16 = 10;
    pub const METER_FEATURES: u16 = 11;
    pub const TABLE_FEATURES: u16 = 12;
    pub const PORT_DESC: u16 = 13;
    pub const EXPERIMENTER: u16 = 0xffff;
    pub const REQ_MORE: u16 = 1;
    pub const REPLY_MORE: u16 = 1;
}

/// TABLE_FEATURES property types.
pub mod table_feature_prop {
    pub const INSTRUCTIONS: u16 = 0;
    pub const INSTRUCTIONS_MISS: u16 = 1;
    pub const NEXT_TABLES: u16 = 2;
    pub const NEXT_TABLES_MISS: u16 = 3;
    pub const WRITE_ACTIONS: u16 = 4;
    pub const WRITE_ACTIONS_MISS: u16 = 5;
    pub const APPLY_ACTIONS: u16 = 6;
    pub const APPLY_ACTIONS_MISS: u16 = 7;
    pub const MATCH: u16 = 8;
    pub const WILDCARDS: u16 = 10;
    pub const WRITE_SETFIELD: u16 = 12;
    pub const WRITE_SETFIELD_MISS: u16 = 13;
    pub const APPLY_SETFIELD: u16 = 14;
    pub const APPLY_SETFIELD_MISS: u16 = 15;
    pub const EXPERIMENTER: u16 = 0xfffe;
    pub const EXPERIMENTER_MISS: u16 = 0xffff;
}

/// Match types.
pub mod match_type {
    pub const STANDARD: u16 = 0;
    pub const OXM: u16 = 1;
}

/// OXM classes.
pub mod oxm_class {
    pub const NXM_0: u16 = 0x0000;
    pub const NXM_1: u16 = 0x0001;
    pub const OPENFLOW_BASIC: u16 = 0x8000;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Instruction types.
pub mod instruction {
    pub const GOTO_TABLE: u16 = 1;
    pub const WRITE_METADATA: u16 = 2;
    pub const WRITE_ACTIONS: u16 = 3;
    pub const APPLY_ACTIONS: u16 = 4;
    pub const CLEAR_ACTIONS: u16 = 5;
    pub const METER: u16 = 6;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Action types.
pub mod action {
    pub const OUTPUT: u16 = 0;
    pub const COPY_TTL_OUT: u16 = 11;
    pub const COPY_TTL_IN: u16 = 12;
    pub const SET_MPLS_TTL: u16 = 15;
    pub const DEC_MPLS_TTL: u16 = 16;
    pub const PUSH_VLAN: u16 = 17;
    pub const POP_VLAN: u16 = 18;
    pub const PUSH_MPLS: u16 = 19;
    pub const POP_MPLS: u16 = 20;
    pub const SET_QUEUE: u16 = 21;
    pub const GROUP: u16 = 22;
    pub const SET_NW_TTL: u16 = 23;
    pub const DEC_NW_TTL: u16 = 24;
    pub const SET_FIELD: u16 = 25;
    pub const PUSH_PBB: u16 = 26;
    pub const POP_PBB: u16 = 27;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Experimenter ids.
pub mod experimenter {
    /// Nicira (OVS's NXM/NXAST extensions).
    pub const NICIRA: u32 = 0x0000_2320;
    /// ONF (OVS uses it for OF1.3 `tcp_flags` and copy_field).
    pub const ONF: u32 = 0x4f4e_4600;
}

/// Nicira action subtypes (`NXAST_*`).
pub mod nxast {
    pub const RESUBMIT: u16 = 1;
    pub const REG_MOVE: u16 = 6;
    pub const REG_LOAD: u16 = 7;
    pub const RESUBMIT_TABLE: u16 = 14;
    pub const DEC_TTL: u16 = 18;
    pub const REG_LOAD2: u16 = 33;
}

/// ONF experimenter action types OVS sends in OF1.3.
pub mod onfact {
    /// `move:` (ONF's OF1.3 extension of OF1.5 copy_field).
    pub const COPY_FIELD: u16 = 3200;
}

/// Error types (`ofp_error_type`) and, per type, their codes.
pub mod error {
    pub const HELLO_FAILED: u16 = 0;
    pub const BAD_REQUEST: u16 = 1;
    pub const BAD_ACTION: u16 = 2;
    pub const BAD_INSTRUCTION: u16 = 3;
    pub const BAD_MATCH: u16 = 4;
    pub const FLOW_MOD_FAILED: u16 = 5;
    pub const GROUP_MOD_FAILED: u16 = 6;
    pub const PORT_MOD_FAILED: u16 = 7;
    pub const TABLE_MOD_FAILED: u16 = 8;
    pub const QUEUE_OP_FAILED: u16 = 9;
    pub const SWITCH_CONFIG_FAILED: u16 = 10;
    pub const ROLE_REQUEST_FAILED: u16 = 11;
    pub const METER_MOD_FAILED: u16 = 12;
    pub const TABLE_FEATURES_FAILED: u16 = 13;
    pub const EXPERIMENTER: u16 = 0xffff;

    pub mod hello_failed {
        pub const INCOMPATIBLE: u16 = 0;
        pub const EPERM: u16 = 1;
    }
    pub mod bad_request {
        pub const BAD_VERSION: u16 = 0;
        pub const BAD_TYPE: u16 = 1;
        pub const BAD_MULTIPART: u16 = 2;
        pub const BAD_EXPERIMENTER: u16 = 3;
        pub const BAD_EXP_TYPE: u16 = 4;
        pub const EPERM: u16 = 5;
        pub const BAD_LEN: u16 = 6;
        pub const BUFFER_EMPTY: u16 = 7;
        pub const BUFFER_UNKNOWN: u16 = 8;
        pub const BAD_TABLE_ID: u16 = 9;
        pub const IS_SLAVE: u16 = 10;
        pub const BAD_PORT: u16 = 11;
        pub const BAD_PACKET: u16 = 12;
        pub const MULTIPART_BUFFER_OVERFLOW: u16 = 13;
    }
    pub mod bad_action {
        pub const BAD_TYPE: u16 = 0;
        pub const BAD_LEN: u16 = 1;
        pub const BAD_EXPERIMENTER: u16 = 2;
        pub const BAD_EXP_TYPE: u16 = 3;
        pub const BAD_OUT_PORT: u16 = 4;
        pub const BAD_ARGUMENT: u16 = 5;
        pub const EPERM: u16 = 6;
        pub const TOO_MANY: u16 = 7;
        pub const BAD_QUEUE: u16 = 8;
        pub const BAD_OUT_GROUP: u16 = 9;
        pub const MATCH_INCONSISTENT: u16 = 10;
        pub const UNSUPPORTED_ORDER: u16 = 11;
        pub const BAD_TAG: u16 = 12;
        pub const BAD_SET_TYPE: u16 = 13;
        pub const BAD_SET_LEN: u16 = 14;
        pub const BAD_SET_ARGUMENT: u16 = 15;
    }
    pub mod bad_instruction {
        pub const UNKNOWN_INST: u16 = 0;
        pub const UNSUP_INST: u16 = 1;
        pub const BAD_TABLE_ID: u16 = 2;
        pub const UNSUP_METADATA: u16 = 3;
        pub const UNSUP_METADATA_MASK: u16 = 4;
        pub const BAD_EXPERIMENTER: u16 = 5;
        pub const BAD_EXP_TYPE: u16 = 6;
        pub const BAD_LEN: u16 = 7;
        pub const EPERM: u16 = 8;
    }
    pub mod bad_match {
        pub const BAD_TYPE: u16 = 0;
        pub const BAD_LEN: u16 = 1;
        pub const BAD_TAG: u16 = 2;
        pub const BAD_DL_ADDR_MASK: u16 = 3;
        pub const BAD_NW_ADDR_MASK: u16 = 4;
        pub const BAD_WILDCARDS: u16 = 5;
        pub const BAD_FIELD: u16 = 6;
        pub const BAD_VALUE: u16 = 7;
        pub const BAD_MASK: u16 = 8;
        pub const BAD_PREREQ: u16 = 9;
        pub const DUP_FIELD: u16 = 10;
        pub const EPERM: u16 = 11;
    }
    pub mod flow_mod_failed {
        pub const UNKNOWN: u16 = 0;
        pub const TABLE_FULL: u16 = 1;
        pub const BAD_TABLE_ID: u16 = 2;
        pub const OVERLAP: u16 = 3;
        pub const EPERM: u16 = 4;
        pub const BAD_TIMEOUT: u16 = 5;
        pub const BAD_COMMAND: u16 = 6;
        pub const BAD_FLAGS: u16 = 7;
    }
    pub mod group_mod_failed {
        pub const GROUP_EXISTS: u16 = 0;
        pub const INVALID_GROUP: u16 = 1;
        pub const WEIGHT_UNSUPPORTED: u16 = 2;
        pub const OUT_OF_GROUPS: u16 = 3;
        pub const OUT_OF_BUCKETS: u16 = 4;
        pub const CHAINING_UNSUPPORTED: u16 = 5;
        pub const WATCH_UNSUPPORTED: u16 = 6;
        pub const LOOP: u16 = 7;
        pub const UNKNOWN_GROUP: u16 = 8;
        pub const CHAINED_GROUP: u16 = 9;
        pub const BAD_TYPE: u16 = 10;
        pub const BAD_COMMAND: u16 = 11;
        pub const BAD_BUCKET: u16 = 12;
        pub const BAD_WATCH: u16 = 13;
        pub const EPERM: u16 = 14;
    }
    pub mod port_mod_failed {
        pub const BAD_PORT: u16 = 0;
        pub const BAD_HW_ADDR: u16 = 1;
        pub const BAD_CONFIG: u16 = 2;
        pub const BAD_ADVERTISE: u16 = 3;
        pub const EPERM: u16 = 4;
    }
    pub mod table_mod_failed {
        pub const BAD_TABLE: u16 = 0;
        pub const BAD_CONFIG: u16 = 1;
        pub const EPERM: u16 = 2;
    }
    pub mod queue_op_failed {
        pub const BAD_PORT: u16 = 0;
        pub const BAD_QUEUE: u16 = 1;
        pub const EPERM: u16 = 2;
    }
    pub mod switch_config_failed {
        pub const BAD_FLAGS: u16 = 0;
        pub const BAD_LEN: u16 = 1;
        pub const EPERM: u16 = 2;
    }
    pub mod role_request_failed {
        pub const STALE: u16 = 0;
        pub const UNSUP: u16 = 1;
        pub const BAD_ROLE: u16 = 2;
    }
    pub mod meter_mod_failed {
        pub const UNKNOWN: u16 = 0;
        pub const METER_EXISTS: u16 = 1;
        pub const INVALID_METER: u16 = 2;
        pub const UNKNOWN_METER: u16 = 3;
        pub const BAD_COMMAND: u16 = 4;
        pub const BAD_FLAGS: u16 = 5;
        pub const BAD_RATE: u16 = 6;
        pub const BAD_BURST: u16 = 7;
        pub const BAD_BAND: u16 = 8;
        pub const BAD_BAND_VALUE: u16 = 9;
        pub const OUT_OF_METERS: u16 = 10;
        pub const OUT_OF_BANDS: u16 = 11;
    }
    pub mod table_features_failed {
        pub const BAD_TABLE: u16 = 0;
        pub const BAD_METADATA: u16 = 1;
        pub const BAD_TYPE: u16 = 2;
        pub const BAD_LEN: u16 = 3;
        pub const BAD_ARGUMENT: u16 = 4;
        pub const EPERM: u16 = 5;
    }
}
