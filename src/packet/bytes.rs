//! Big-endian readers over packet bytes, for the parsers.

/// The big-endian u16 at `o` (the caller checked the length).
#[inline(always)]
pub fn be16(d: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([d[o], d[o + 1]])
}
/// The big-endian u32 at `o`.
#[inline(always)]
pub fn be32(d: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]])
}
/// The MAC address at `o`, right-aligned as the flow key holds it.
#[inline(always)]
pub fn mac(d: &[u8], o: usize) -> u128 {
    let mut b = [0u8; 8];
    b[2..].copy_from_slice(&d[o..o + 6]);
    u64::from_be_bytes(b) as u128
}
/// The big-endian u128 at `o` (an IPv6 address).
#[inline(always)]
pub fn be128(d: &[u8], o: usize) -> u128 {
    u128::from_be_bytes(d[o..o + 16].try_into().expect("16 bytes"))
}

/// The big-endian u16 at `o`, or `None` past the end.
#[inline(always)]
pub fn get_be16(d: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(o)?, *d.get(o + 1)?]))
}
