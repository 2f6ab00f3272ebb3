//! TABLE_FEATURES entries and their properties (request and reply).

use crate::consts::table_feature_prop as p;
use crate::error::{DecodeError, Scope};
use crate::wire::FixedStr;
use crate::wire::{read_u32s, Reader, Result, Wire, Writer};

/// One property of a table's features.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum TableFeatureProp {
    /// Instruction types supported (`miss`: for the table-miss rule).
    Instructions {
        /// The table-miss variant.
        miss: bool,
        /// `OFPIT_*` types.
        ids: Vec<u16>,
    },
    /// Tables GOTO_TABLE may reach.
    NextTables {
        /// The table-miss variant.
        miss: bool,
        /// Table ids.
        tables: Vec<u8>,
    },
    /// Action types WRITE_ACTIONS may hold.
    WriteActions {
        /// The table-miss variant.
        miss: bool,
        /// `OFPAT_*` types.
        ids: Vec<u16>,
    },
    /// Action types APPLY_ACTIONS may hold.
    ApplyActions {
        /// The table-miss variant.
        miss: bool,
        /// `OFPAT_*` types.
        ids: Vec<u16>,
    },
    /// Fields the table can match (OXM headers).
    Match(Vec<u32>),
    /// Fields the table can wildcard.
    Wildcards(Vec<u32>),
    /// Fields SET_FIELD in WRITE_ACTIONS may set.
    WriteSetfield {
        /// The table-miss variant.
        miss: bool,
        /// OXM headers.
        fields: Vec<u32>,
    },
    /// Fields SET_FIELD in APPLY_ACTIONS may set.
    ApplySetfield {
        /// The table-miss variant.
        miss: bool,
        /// OXM headers.
        fields: Vec<u32>,
    },
    /// Experimenter property.
    Experimenter {
        /// The table-miss variant.
        miss: bool,
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter-defined type.
        exp_type: u32,
        /// Experimenter-defined data.
        data: Vec<u8>,
    },
}

/// Element lists of a property: instruction/action ids are 4-byte TLV
/// headers, tables bytes, OXM headers 32-bit words.
fn read_ids(r: &mut Reader) -> Result<Vec<u16>> {
    let mut v = Vec::new();
    while !r.is_empty() {
        let typ = r.u16()?;
        let len = r.u16()? as usize;
        if len < 4 {
            return Err(r.short());
        }
        r.skip(len - 4)?;
        v.push(typ);
    }
    Ok(v)
}

impl TableFeatureProp {
    fn read(r: &mut Reader) -> Result<TableFeatureProp> {
        let mut b = r.padded_tlv(2, 4, Scope::TableFeatures)?;
        let typ = b.u16()?;
        b.skip(2)?;
        let miss = typ & 1 == 1;
        Ok(match typ {
            p::INSTRUCTIONS | p::INSTRUCTIONS_MISS => Self::Instructions {
                miss,
                ids: read_ids(&mut b)?,
            },
            p::NEXT_TABLES | p::NEXT_TABLES_MISS => Self::NextTables {
                miss,
                tables: b.rest().to_vec(),
            },
            p::WRITE_ACTIONS | p::WRITE_ACTIONS_MISS => Self::WriteActions {
                miss,
                ids: read_ids(&mut b)?,
            },
            p::APPLY_ACTIONS | p::APPLY_ACTIONS_MISS => Self::ApplyActions {
                miss,
                ids: read_ids(&mut b)?,
            },
            p::MATCH => Self::Match(read_u32s(&mut b)?),
            p::WILDCARDS => Self::Wildcards(read_u32s(&mut b)?),
            p::WRITE_SETFIELD | p::WRITE_SETFIELD_MISS => Self::WriteSetfield {
                miss,
                fields: read_u32s(&mut b)?,
            },
            p::APPLY_SETFIELD | p::APPLY_SETFIELD_MISS => Self::ApplySetfield {
                miss,
                fields: read_u32s(&mut b)?,
            },
            p::EXPERIMENTER | p::EXPERIMENTER_MISS => Self::Experimenter {
                miss,
                experimenter: b.u32()?,
                exp_type: b.u32()?,
                data: b.rest().to_vec(),
            },
            other => return Err(DecodeError::BadTableFeatureProp(other)),
        })
    }

    fn write(&self, w: &mut Writer) {
        let start = w.len();
        let (base, miss) = match *self {
            Self::Instructions { miss, .. } => (p::INSTRUCTIONS, miss),
            Self::NextTables { miss, .. } => (p::NEXT_TABLES, miss),
            Self::WriteActions { miss, .. } => (p::WRITE_ACTIONS, miss),
            Self::ApplyActions { miss, .. } => (p::APPLY_ACTIONS, miss),
            Self::Match(_) => (p::MATCH, false),
            Self::Wildcards(_) => (p::WILDCARDS, false),
            Self::WriteSetfield { miss, .. } => (p::WRITE_SETFIELD, miss),
            Self::ApplySetfield { miss, .. } => (p::APPLY_SETFIELD, miss),
            Self::Experimenter { miss, .. } => (p::EXPERIMENTER, miss),
        };
        w.u16(base | u16::from(miss));
        w.u16(0);
        match self {
            Self::Instructions { ids, .. }
            | Self::WriteActions { ids, .. }
            | Self::ApplyActions { ids, .. } => {
                for id in ids {
                    w.u16(*id);
                    w.u16(4);
                }
            }
            Self::NextTables { tables, .. } => w.bytes(tables),
            Self::Match(v)
            | Self::Wildcards(v)
            | Self::WriteSetfield { fields: v, .. }
            | Self::ApplySetfield { fields: v, .. } => v.iter().for_each(|h| w.u32(*h)),
            Self::Experimenter {
                experimenter,
                exp_type,
                data,
                ..
            } => {
                w.u32(*experimenter);
                w.u32(*exp_type);
                w.bytes(data);
            }
        }
        w.patch_len(start, 2);
        w.pad8_from(start);
    }
}

/// One table's features.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct TableFeatures {
    /// Table.
    pub table_id: u8,
    /// Name.
    pub name: FixedStr<32>,
    /// Metadata bits the table can match.
    pub metadata_match: u64,
    /// Metadata bits the table can write.
    pub metadata_write: u64,
    /// Deprecated config bits.
    pub config: u32,
    /// Maximum rules.
    pub max_entries: u32,
    /// Properties.
    pub properties: Vec<TableFeatureProp>,
}

impl TableFeatures {
    pub(crate) fn read(r: &mut Reader) -> Result<TableFeatures> {
        let mut t = r.tlv(0, 64, true, Scope::TableFeatures)?;
        t.skip(2)?;
        let table_id = t.u8()?;
        t.skip(5)?;
        let name = FixedStr::read(&mut t)?;
        let metadata_match = t.u64()?;
        let metadata_write = t.u64()?;
        let config = t.u32()?;
        let max_entries = t.u32()?;
        let properties = crate::wire::read_all(&mut t, TableFeatureProp::read)?;
        Ok(TableFeatures {
            table_id,
            name,
            metadata_match,
            metadata_write,
            config,
            max_entries,
            properties,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.u16(0);
        w.u8(self.table_id);
        w.zeros(5);
        self.name.write(w);
        w.u64(self.metadata_match);
        w.u64(self.metadata_write);
        w.u32(self.config);
        w.u32(self.max_entries);
        self.properties.iter().for_each(|p| p.write(w));
        w.patch_len(start, 0);
    }
}
