//! Which PMD polls which rx queue: OVS's policies, by measured load.

/// An rx queue: (port slot, queue index).
pub type RxqId = (usize, u16);

pub use crate::config::Policy;

/// A queue to place, with its measured load and any pinning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxqLoad {
    /// Which queue.
    pub id: RxqId,
    /// Processing cycles over the measurement window.
    pub load: u64,
    /// The PMD (index) it is pinned to, if any.
    pub pinned: Option<usize>,
}

/// Places every queue on a PMD; returns the PMD index of each, in order.
/// A PMD with pinned queues polls only those (OVS's pmd-rxq-isolate), unless
/// every PMD has pinned queues.
pub fn assign(queues: &[RxqLoad], n_pmds: usize, policy: Policy) -> Vec<usize> {
    assign_numa(
        queues,
        &vec![-1; queues.len()],
        &vec![-1; n_pmds.max(1)],
        policy,
    )
}

/// As `assign`, preferring for each queue the PMDs on its port's NUMA node
/// (`queue_node`, -1: unknown) among those of `pmd_node` (one per PMD), as
/// OVS does; a queue whose node has no (open) PMD goes to any. Each node's
/// queues are dealt over its own PMDs by the policy.
pub fn assign_numa(
    queues: &[RxqLoad],
    queue_node: &[i32],
    pmd_node: &[i32],
    policy: Policy,
) -> Vec<usize> {
    let n = pmd_node.len().max(1);
    let mut out = vec![0; queues.len()];
    let mut load = vec![0u64; n];
    let mut count = vec![0usize; n];
    let mut isolated = vec![false; n];
    for (i, q) in queues.iter().enumerate() {
        if let Some(p) = q.pinned.filter(|p| *p < n) {
            out[i] = p;
            load[p] += q.load;
            count[p] += 1;
            isolated[p] = true;
        }
    }
    let mut open: Vec<usize> = (0..n).filter(|p| !isolated[*p]).collect();
    if open.is_empty() {
        open = (0..n).collect();
    }
    let mut free: Vec<usize> = (0..queues.len())
        .filter(|i| queues[*i].pinned.filter(|p| *p < n).is_none())
        .collect();
    if policy != Policy::RoundRobin {
        // Stable: equal loads keep their order, so an unmeasured switch
        // spreads queues as round-robin would.
        free.sort_by(|a, b| queues[*b].load.cmp(&queues[*a].load));
    }
    // Each candidate set deals its queues in its own turn order.
    let mut turns: Vec<(Vec<usize>, usize)> = Vec::new();
    for i in free {
        let node = queue_node.get(i).copied().unwrap_or(-1);
        let local: Vec<usize> = open
            .iter()
            .copied()
            .filter(|p| node >= 0 && pmd_node.get(*p) == Some(&node))
            .collect();
        let cands = if local.is_empty() {
            open.clone()
        } else {
            local
        };
        let slot = match turns.iter().position(|(c, _)| *c == cands) {
            Some(s) => s,
            None => {
                turns.push((cands, 0));
                turns.len() - 1
            }
        };
        let (cands, k) = &mut turns[slot];
        let p = match policy {
            Policy::RoundRobin => cands[*k % cands.len()],
            Policy::Cycles => {
                // Up and down: 0,1,2,2,1,0,0,1,... keeps the heaviest apart.
                let m = cands.len();
                let r = *k % (2 * m);
                cands[if r < m { r } else { 2 * m - 1 - r }]
            }
            Policy::Group => *cands
                .iter()
                .min_by_key(|p| (load[**p], count[**p], **p))
                .expect("non-empty"),
        };
        *k += 1;
        out[i] = p;
        load[p] += queues[i].load;
        count[p] += 1;
    }
    out
}

/// Per-PMD load of an assignment.
pub fn pmd_loads(queues: &[RxqLoad], placement: &[usize], n_pmds: usize) -> Vec<u64> {
    let mut l = vec![0u64; n_pmds.max(1)];
    for (q, p) in queues.iter().zip(placement) {
        l[*p] += q.load;
    }
    l
}

/// Variance of PMD loads: what auto load balance tries to cut.
pub fn variance(loads: &[u64]) -> f64 {
    if loads.is_empty() {
        return 0.0;
    }
    let mean = loads.iter().sum::<u64>() as f64 / loads.len() as f64;
    loads
        .iter()
        .map(|l| (*l as f64 - mean).powi(2))
        .sum::<f64>()
        / loads.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(port: usize, load: u64) -> RxqLoad {
        RxqLoad {
            id: (port, 0),
            load,
            pinned: None,
        }
    }

    #[test]
    fn roundrobin_ignores_load() {
        let qs = [q(0, 9), q(1, 9), q(2, 0), q(3, 0)];
        assert_eq!(assign(&qs, 2, Policy::RoundRobin), vec![0, 1, 0, 1]);
    }

    #[test]
    fn group_balances_measured_load() {
        let qs = [q(0, 100), q(1, 0), q(2, 90), q(3, 0), q(4, 20)];
        let p = assign(&qs, 2, Policy::Group);
        let l = pmd_loads(&qs, &p, 2);
        assert_eq!(l.iter().sum::<u64>(), 210);
        assert!(l[0].abs_diff(l[1]) <= 30, "{l:?}");
        assert!(variance(&l) < variance(&pmd_loads(&qs, &[0, 1, 0, 1, 0], 2)));
    }

    #[test]
    fn cycles_deals_up_and_down() {
        let qs = [q(0, 50), q(1, 40), q(2, 30), q(3, 20)];
        assert_eq!(assign(&qs, 2, Policy::Cycles), vec![0, 1, 1, 0]);
    }

    #[test]
    fn pinned_queues_isolate_their_pmd() {
        let mut qs = vec![q(0, 5), q(1, 5), q(2, 5)];
        qs[1].pinned = Some(1);
        let p = assign(&qs, 2, Policy::Group);
        assert_eq!(p, vec![0, 1, 0]);
        // Everyone pinned: unpinned queues still get a PMD.
        let qs = [
            RxqLoad {
                pinned: Some(0),
                ..q(0, 1)
            },
            RxqLoad {
                pinned: Some(1),
                ..q(1, 1)
            },
            q(2, 1),
        ];
        assert!(assign(&qs, 2, Policy::RoundRobin)[2] < 2);
    }

    #[test]
    fn unmeasured_queues_spread_evenly() {
        let qs: Vec<_> = (0..6).map(|i| q(i, 0)).collect();
        for pol in [Policy::RoundRobin, Policy::Cycles, Policy::Group] {
            let p = assign(&qs, 3, pol);
            for k in 0..3 {
                assert_eq!(p.iter().filter(|x| **x == k).count(), 2, "{pol:?}: {p:?}");
            }
        }
    }

    #[test]
    fn queues_stay_on_their_numa_node_when_it_has_a_pmd() {
        let qs: Vec<RxqLoad> = (0..6).map(|i| q(i, 100 - i as u64)).collect();
        // Ports 0-2 on node 0, 3-4 on node 1, 5 unknown; PMDs 0,1 on node 0, 2 on node 1.
        let qn = [0, 0, 0, 1, 1, -1];
        let pn = [0, 0, 1];
        for policy in [Policy::RoundRobin, Policy::Cycles, Policy::Group] {
            let a = assign_numa(&qs, &qn, &pn, policy);
            for i in 0..3 {
                assert!(a[i] < 2, "{policy:?}: queue {i} on a remote PMD: {a:?}");
            }
            assert_eq!((a[3], a[4]), (2, 2), "{policy:?}: {a:?}");
            assert_ne!(a[0], a[1], "{policy:?}: node 0's queues not spread: {a:?}");
        }
        // A node without PMDs: its queues go anywhere.
        let a = assign_numa(&qs, &[3; 6], &pn, Policy::RoundRobin);
        assert_eq!(a, vec![0, 1, 2, 0, 1, 2]);
    }
}
