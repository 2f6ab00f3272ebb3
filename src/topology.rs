//! The machine's NUMA nodes and the cores on each, from hwloc (through
//! hwlocality): where PMDs go by default, which pool a port's buffers come
//! from, and which PMDs should poll a port's queues.
use hwlocality::object::types::ObjectType;
use std::collections::BTreeMap;

/// NUMA nodes and their cores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    cpu_node: BTreeMap<usize, i32>,
}

impl Topology {
    /// Reads the topology from hwloc. Should hwloc fail, the machine is
    /// taken as one node holding every core `fallback_cpus` names, with a
    /// warning: placement then only loses its NUMA preference.
    pub fn discover(fallback_cpus: impl IntoIterator<Item = usize>) -> Topology {
        match Self::from_hwloc() {
            Ok(t) if !t.cpu_node.is_empty() => t,
            Ok(_) => Self::single_node(fallback_cpus),
            Err(e) => {
                tracing::warn!("hwloc topology unavailable ({e}); assuming one NUMA node");
                Self::single_node(fallback_cpus)
            }
        }
    }

    fn from_hwloc() -> Result<Topology, String> {
        let topo = hwlocality::Topology::new().map_err(|e| e.to_string())?;
        let mut cpu_node = BTreeMap::new();
        for node in topo.objects_with_type(ObjectType::NUMANode) {
            let Some(os) = node.os_index() else { continue };
            let Some(cpus) = node.cpuset() else { continue };
            for cpu in cpus.iter_set() {
                cpu_node.insert(usize::from(cpu), os as i32);
            }
        }
        Ok(Topology { cpu_node })
    }

    /// One node (0) with the given cores.
    pub fn single_node(cpus: impl IntoIterator<Item = usize>) -> Topology {
        Topology {
            cpu_node: cpus.into_iter().map(|c| (c, 0)).collect(),
        }
    }

    /// A topology from (core, node) pairs, for tests and tools.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (usize, i32)>) -> Topology {
        Topology {
            cpu_node: pairs.into_iter().collect(),
        }
    }

    /// The NUMA node of a core.
    pub fn node_of(&self, cpu: usize) -> Option<i32> {
        self.cpu_node.get(&cpu).copied()
    }

    /// Every node, in order.
    pub fn nodes(&self) -> Vec<i32> {
        let mut n: Vec<i32> = self.cpu_node.values().copied().collect();
        n.sort_unstable();
        n.dedup();
        n
    }

    /// The cores of `node`, in order.
    pub fn cpus_on(&self, node: i32) -> Vec<usize> {
        self.cpu_node
            .iter()
            .filter(|(_, n)| **n == node)
            .map(|(c, _)| *c)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_has_every_allowed_core_on_a_node() {
        let allowed: Vec<usize> = core_affinity::get_core_ids()
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.id)
            .collect();
        let t = Topology::discover(allowed.iter().copied());
        assert!(!t.nodes().is_empty());
        for c in allowed {
            assert!(t.node_of(c).is_some(), "core {c} on no node: {t:?}");
        }
    }

    #[test]
    fn nodes_and_their_cores() {
        let t = Topology::from_pairs([(0, 0), (1, 0), (2, 1), (3, 1)]);
        assert_eq!(t.nodes(), vec![0, 1]);
        assert_eq!(t.cpus_on(1), vec![2, 3]);
        assert_eq!(t.node_of(2), Some(1));
        assert_eq!(t.node_of(9), None);
    }
}
