//! METER_MOD: decoded so a switch without meters can refuse it precisely,
//! and encoded for tests.

use crate::consts::meter;
use crate::error::{DecodeError, Scope};
use crate::wire::{Reader, Result, Writer};

/// A meter band.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub enum BandKind {
    /// Drop packets over the rate.
    Drop,
    /// Raise the drop precedence of the DSCP by `prec_level`.
    DscpRemark(u8),
    /// Experimenter band.
    Experimenter(u32),
}

/// `ofp_meter_band_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct MeterBand {
    /// What the band does.
    pub kind: BandKind,
    /// Rate in kbps or pps.
    pub rate: u32,
    /// Burst size.
    pub burst_size: u32,
}

/// METER_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct MeterMod {
    /// `OFPMC_*`.
    pub command: u16,
    /// `OFPMF_*`.
    pub flags: u16,
    /// Meter id.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

impl MeterMod {
    pub(crate) fn read(r: &mut Reader) -> Result<MeterMod> {
        let command = r.u16()?;
        let flags = r.u16()?;
        let meter_id = r.u32()?;
        let mut bands = Vec::new();
        while !r.is_empty() {
            let mut b = r.tlv(2, 16, false, Scope::MeterBand)?;
            if b.remaining() != 16 {
                return Err(DecodeError::BadLen(Scope::MeterBand));
            }
            let typ = b.u16()?;
            b.skip(2)?;
            let rate = b.u32()?;
            let burst_size = b.u32()?;
            let kind = match typ {
                meter::BAND_DROP => BandKind::Drop,
                meter::BAND_DSCP_REMARK => BandKind::DscpRemark(b.u8()?),
                meter::BAND_EXPERIMENTER => BandKind::Experimenter(b.u32()?),
                other => return Err(DecodeError::BadMeterBand(other)),
            };
            bands.push(MeterBand {
                kind,
                rate,
                burst_size,
            });
        }
        Ok(MeterMod {
            command,
            flags,
            meter_id,
            bands,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.command);
        w.u16(self.flags);
        w.u32(self.meter_id);
        for b in &self.bands {
            let (typ, tail) = match b.kind {
                BandKind::Drop => (meter::BAND_DROP, [0; 4]),
                BandKind::DscpRemark(p) => (meter::BAND_DSCP_REMARK, [p, 0, 0, 0]),
                BandKind::Experimenter(e) => (meter::BAND_EXPERIMENTER, e.to_be_bytes()),
            };
            w.u16(typ);
            w.u16(16);
            w.u32(b.rate);
            w.u32(b.burst_size);
            w.bytes(&tail);
        }
    }
}
