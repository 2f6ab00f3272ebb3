//! Which PMD polls which rx queue.

/// An rx queue to place: (port index, queue index).
pub type RxqId = (usize, u16);

/// Round-robin: queue i of the list goes to PMD i mod n. Ports are walked in
/// order, so one port's queues spread over the PMDs first.
pub fn round_robin(queues: &[RxqId], n_pmds: usize) -> Vec<Vec<RxqId>> {
    let mut out = vec![Vec::new(); n_pmds.max(1)];
    for (i, q) in queues.iter().enumerate() {
        out[i % n_pmds.max(1)].push(*q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_evenly() {
        let q = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)];
        let a = round_robin(&q, 2);
        assert_eq!(a[0], vec![(0, 0), (1, 0), (2, 0)]);
        assert_eq!(a[1], vec![(0, 1), (1, 1)]);
        assert_eq!(round_robin(&q, 1)[0].len(), 5);
    }
}
