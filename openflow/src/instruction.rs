//! Instructions (`ofp_instruction_*`) of FLOW_MOD and flow statistics.

use crate::action::{read_actions, write_actions, Action};
use crate::consts::instruction as t;
use crate::error::{DecodeError, Scope};
use crate::wire::{Reader, Result, Writer};

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum Instruction {
    /// Continue in a later table.
    GotoTable(u8),
    /// Write metadata bits under a mask.
    WriteMetadata {
        /// New bits.
        metadata: u64,
        /// Which bits to write.
        mask: u64,
    },
    /// Merge actions into the action set.
    WriteActions(Vec<Action>),
    /// Apply actions now.
    ApplyActions(Vec<Action>),
    /// Empty the action set.
    ClearActions,
    /// Send through a meter.
    Meter(u32),
}

impl Instruction {
    /// Decodes one instruction.
    pub(crate) fn read(r: &mut Reader) -> Result<Instruction> {
        let mut i = r.tlv(2, 8, true, Scope::Instruction)?;
        let typ = i.u16()?;
        i.skip(2)?;
        let fixed = |i: &Reader, want: usize| {
            if i.remaining() == want {
                Ok(())
            } else {
                Err(DecodeError::BadLen(Scope::Instruction))
            }
        };
        Ok(match typ {
            t::GOTO_TABLE => {
                fixed(&i, 4)?;
                Instruction::GotoTable(i.u8()?)
            }
            t::WRITE_METADATA => {
                fixed(&i, 20)?;
                i.skip(4)?;
                Instruction::WriteMetadata {
                    metadata: i.u64()?,
                    mask: i.u64()?,
                }
            }
            t::WRITE_ACTIONS | t::APPLY_ACTIONS => {
                i.skip(4)?;
                let actions = read_actions(&mut i)?;
                if typ == t::WRITE_ACTIONS {
                    Instruction::WriteActions(actions)
                } else {
                    Instruction::ApplyActions(actions)
                }
            }
            t::CLEAR_ACTIONS => {
                fixed(&i, 4)?;
                Instruction::ClearActions
            }
            t::METER => {
                fixed(&i, 4)?;
                Instruction::Meter(i.u32()?)
            }
            other => return Err(DecodeError::BadInstructionType(other)),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.len();
        w.u16(self.wire_type());
        w.u16(0);
        match self {
            Instruction::GotoTable(table) => {
                w.u8(*table);
                w.zeros(3);
            }
            Instruction::WriteMetadata { metadata, mask } => {
                w.zeros(4);
                w.u64(*metadata);
                w.u64(*mask);
            }
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
                w.zeros(4);
                write_actions(a, w);
            }
            Instruction::ClearActions => w.zeros(4),
            Instruction::Meter(id) => w.u32(*id),
        }
        w.patch_len(start, 2);
    }

    /// The `OFPIT_*` type.
    pub fn wire_type(&self) -> u16 {
        match self {
            Instruction::GotoTable(_) => t::GOTO_TABLE,
            Instruction::WriteMetadata { .. } => t::WRITE_METADATA,
            Instruction::WriteActions(_) => t::WRITE_ACTIONS,
            Instruction::ApplyActions(_) => t::APPLY_ACTIONS,
            Instruction::ClearActions => t::CLEAR_ACTIONS,
            Instruction::Meter(_) => t::METER,
        }
    }
}

/// Decodes instructions until the reader is empty.
pub(crate) fn read_instructions(r: &mut Reader) -> Result<Vec<Instruction>> {
    crate::wire::read_all(r, Instruction::read)
}

/// Encodes a list of instructions.
pub(crate) fn write_instructions(instructions: &[Instruction], w: &mut Writer) {
    instructions.iter().for_each(|i| i.write(w));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goto_table_layout() {
        let mut w = Writer::default();
        Instruction::GotoTable(3).write(&mut w);
        assert_eq!(w.buf, [0, 1, 0, 8, 3, 0, 0, 0]);
    }

    #[test]
    fn errors_map_to_bad_instruction() {
        let bad_len = [0, 1, 0, 16, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let err = read_instructions(&mut Reader::new(&bad_len, Scope::Instruction)).unwrap_err();
        assert_eq!(err.ofp_error(), (3, 7));
        let unknown = [0, 9, 0, 8, 0, 0, 0, 0];
        let err = read_instructions(&mut Reader::new(&unknown, Scope::Instruction)).unwrap_err();
        assert_eq!(err.ofp_error(), (3, 0));
    }
}
