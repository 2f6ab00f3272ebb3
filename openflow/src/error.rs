//! Decode errors, each mapped to the OpenFlow ERROR type and code a switch
//! answers the offending message with.

use crate::consts::error as e;

/// Which structure had a wrong or truncated length; picks the ERROR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The message header or a fixed message body.
    Message,
    /// A HELLO element.
    Hello,
    /// SET_CONFIG body.
    SwitchConfig,
    /// An action.
    Action,
    /// The OXM inside a SET_FIELD action.
    SetField,
    /// An instruction.
    Instruction,
    /// `ofp_match` or an OXM in it.
    Match,
    /// A group bucket.
    Bucket,
    /// A meter band.
    MeterBand,
    /// A TABLE_FEATURES entry or property.
    TableFeatures,
}

/// Why bytes did not decode. `ofp_error` gives the (type, code) to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A length field disagrees with the bytes present or the layout.
    #[error("bad length in {0:?}")]
    BadLen(Scope),
    /// The header's version is not OpenFlow 1.3 (HELLO excepted).
    #[error("unsupported OpenFlow version {0:#04x}")]
    BadVersion(u8),
    /// An action type the codec does not know.
    #[error("unknown action type {0:#x}")]
    BadActionType(u16),
    /// An experimenter action from an unknown experimenter.
    #[error("unknown action experimenter {0:#x}")]
    BadActionExperimenter(u32),
    /// A Nicira/ONF action subtype the codec does not know.
    #[error("unknown experimenter action subtype {0}")]
    BadActionExpType(u16),
    /// An instruction type the codec does not know.
    #[error("unknown instruction type {0:#x}")]
    BadInstructionType(u16),
    /// A match type other than OXM.
    #[error("unsupported match type {0}")]
    BadMatchType(u16),
    /// An OXM class/field the codec does not know.
    #[error("unknown OXM field class {class:#06x} field {field}")]
    BadField {
        /// OXM class.
        class: u16,
        /// OXM field number.
        field: u8,
    },
    /// SET_FIELD carrying a mask (not allowed in 1.3) or an unknown field.
    #[error("bad set_field argument")]
    BadSetField,
    /// A meter band type the codec does not know.
    #[error("unknown meter band type {0}")]
    BadMeterBand(u16),
    /// A TABLE_FEATURES property type the codec does not know.
    #[error("unknown table features property {0}")]
    BadTableFeatureProp(u16),
}

impl DecodeError {
    /// The OpenFlow ERROR (type, code) for this failure.
    pub fn ofp_error(&self) -> (u16, u16) {
        match *self {
            DecodeError::BadLen(scope) => match scope {
                Scope::Message | Scope::Hello => (e::BAD_REQUEST, e::bad_request::BAD_LEN),
                Scope::SwitchConfig => (e::SWITCH_CONFIG_FAILED, e::switch_config_failed::BAD_LEN),
                Scope::Action => (e::BAD_ACTION, e::bad_action::BAD_LEN),
                Scope::SetField => (e::BAD_ACTION, e::bad_action::BAD_SET_LEN),
                Scope::Instruction => (e::BAD_INSTRUCTION, e::bad_instruction::BAD_LEN),
                Scope::Match => (e::BAD_MATCH, e::bad_match::BAD_LEN),
                Scope::Bucket => (e::GROUP_MOD_FAILED, e::group_mod_failed::BAD_BUCKET),
                Scope::MeterBand => (e::METER_MOD_FAILED, e::meter_mod_failed::BAD_BAND),
                Scope::TableFeatures => {
                    (e::TABLE_FEATURES_FAILED, e::table_features_failed::BAD_LEN)
                }
            },
            DecodeError::BadVersion(_) => (e::BAD_REQUEST, e::bad_request::BAD_VERSION),
            DecodeError::BadActionType(_) => (e::BAD_ACTION, e::bad_action::BAD_TYPE),
            DecodeError::BadActionExperimenter(_) => {
                (e::BAD_ACTION, e::bad_action::BAD_EXPERIMENTER)
            }
            DecodeError::BadActionExpType(_) => (e::BAD_ACTION, e::bad_action::BAD_EXP_TYPE),
            DecodeError::BadInstructionType(_) => {
                (e::BAD_INSTRUCTION, e::bad_instruction::UNKNOWN_INST)
            }
            DecodeError::BadMatchType(_) => (e::BAD_MATCH, e::bad_match::BAD_TYPE),
            DecodeError::BadField { .. } => (e::BAD_MATCH, e::bad_match::BAD_FIELD),
            DecodeError::BadSetField => (e::BAD_ACTION, e::bad_action::BAD_SET_TYPE),
            DecodeError::BadMeterBand(_) => (e::METER_MOD_FAILED, e::meter_mod_failed::BAD_BAND),
            DecodeError::BadTableFeatureProp(_) => {
                (e::TABLE_FEATURES_FAILED, e::table_features_failed::BAD_TYPE)
            }
        }
    }
}
