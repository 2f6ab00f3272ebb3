//! The rule tables: the rules the configuration installs, the operations
//! every front-end shares (add, modify, delete, dump), and publishing a
//! change to the PMDs, which revalidate their megaflows against it.
use super::{PmdCommand, PortEntry, Switch};
use crate::config::Config;
use crate::datapath::dump::FlowDump;
use crate::datapath::{DatapathUpdate, Shared, SubtableReport};
use crate::ofproto::normal::{MacTable, PortSet};
use crate::ofproto::table::{Rule, Selector};
use crate::ofproto::xlate::Ofproto;
use anyhow::{anyhow, Context};
use std::sync::{Arc, Mutex};

/// Whether `r` outputs to `port` (any rule when `port` is None), OpenFlow's
/// out_port filter.
fn outputs_to(r: &Rule, port: Option<u32>) -> bool {
    port.is_none_or(|p| {
        r.actions
            .iter()
            .any(|a| matches!(a, crate::ofproto::Action::Output(o) if *o == p))
    })
}

/// The rule tables at start: the config's flows, its flows file, and its
/// cross-connects as `in_port=A,actions=output:B` rules. A bad rule is
/// refused with where and why.
pub(super) fn build_datapath(
    cfg: &Config,
    ports: &[Option<PortEntry>],
    rules: &[(String, String)],
) -> anyhow::Result<Shared> {
    let ofports: Vec<Option<u32>> = ports.iter().map(|p| p.as_ref().map(|p| p.ofport)).collect();
    let mut of = Ofproto::new(PortSet::trunks(ofports.iter().flatten().copied()));
    of.macs = MacTable::new(cfg.datapath.mac_ageing_s);
    of.forward_bpdu = cfg.datapath.forward_bpdu;
    install_rules(&mut of, rules)?;
    Ok(Shared::new(of, ofports, cfg.datapath.clone()))
}

/// The rules `cfg` asks for, each with where it came from: `[datapath]`
/// flows, the flows file, and the cross-connects.
pub(super) fn config_rules(cfg: &Config) -> anyhow::Result<Vec<(String, String)>> {
    let mut rules: Vec<(String, String)> = cfg
        .datapath
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("datapath.flows[{i}]"), f.clone()))
        .collect();
    if let Some(path) = &cfg.datapath.flows_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("datapath.flows_file: cannot read {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                rules.push((
                    format!("{} line {}", path.display(), n + 1),
                    line.to_owned(),
                ));
            }
        }
    }
    let ofport_of = |name: &str| {
        cfg.ports
            .iter()
            .position(|p| p.name == name)
            .map(|i| cfg.ofport(i))
            .expect("validated")
    };
    for (i, x) in cfg.xconnects.iter().enumerate() {
        rules.push((
            format!("xconnect[{i}]"),
            format!(
                "in_port={},actions=output:{}",
                ofport_of(&x.from),
                ofport_of(&x.to)
            ),
        ));
    }
    Ok(rules)
}

/// Adds `rules` to `of`; the first that does not parse is refused with
/// where it came from.
pub(super) fn install_rules(of: &mut Ofproto, rules: &[(String, String)]) -> anyhow::Result<()> {
    for (place, text) in rules {
        of.add_flow(text)
            .map_err(|e| anyhow!("config: {place}: {text:?}: {e}"))?;
    }
    Ok(())
}

impl Switch {
    /// Publishes a change of the rule tables or ports and waits until every
    /// PMD has revalidated its megaflows: after this returns, no cache
    /// serves a result from before the change.
    pub fn sync_datapath(&mut self) -> anyhow::Result<()> {
        self.dp.changed();
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::Revalidate)])
    }

    /// Adds (or replaces) a rule given in ovs-ofctl syntax.
    pub fn add_flow(&mut self, text: &str) -> anyhow::Result<()> {
        let fm = crate::ofproto::parse::parse_flow(text).map_err(|e| anyhow!("{e}"))?;
        self.add_rule(&fm, true)
    }

    /// Adds (or replaces) a rule. With `sync`, returns once every PMD has
    /// revalidated; without, the PMDs pick the change up at the top of
    /// their next loop and a later [`Switch::sync_datapath`] (OpenFlow's
    /// BARRIER) waits for it.
    pub fn add_rule(&mut self, fm: &crate::ofproto::FlowMod, sync: bool) -> anyhow::Result<()> {
        self.dp.lock().ofproto.pipeline.add(fm);
        self.rules_changed(sync)
    }

    /// Replaces the actions of the rules `sel` picks (and, with `out_port`,
    /// only those that output there); returns how many.
    pub fn modify_rules(
        &mut self,
        sel: &Selector,
        out_port: Option<u32>,
        actions: &[crate::ofproto::Action],
        sync: bool,
    ) -> anyhow::Result<usize> {
        let n = self
            .dp
            .lock()
            .ofproto
            .pipeline
            .modify_if(sel, actions, |r| outputs_to(r, out_port));
        if n > 0 {
            self.rules_changed(sync)?;
        }
        Ok(n)
    }

    /// Deletes the rules `sel` picks (and, with `out_port`, only those that
    /// output there); returns them.
    pub fn delete_rules(
        &mut self,
        sel: &Selector,
        out_port: Option<u32>,
        sync: bool,
    ) -> anyhow::Result<Vec<Arc<Rule>>> {
        let gone = self
            .dp
            .lock()
            .ofproto
            .pipeline
            .delete_if(sel, |r| outputs_to(r, out_port));
        self.rules_changed(sync)?;
        Ok(gone)
    }

    /// Deletes the rules matching `text` (strictly: same match and priority).
    /// Returns how many.
    pub fn del_flows(&mut self, text: &str, strict: bool) -> anyhow::Result<usize> {
        let n = self
            .dp
            .lock()
            .ofproto
            .del_flows(text, strict)
            .map_err(|e| anyhow!("{e}"))?
            .len();
        self.rules_changed(true)?;
        Ok(n)
    }

    /// The rules `sel` picks (every rule without one), with counters
    /// brought up to date from the megaflows, and `out_port` filtered.
    pub fn rules(
        &mut self,
        sel: Option<&Selector>,
        out_port: Option<u32>,
    ) -> anyhow::Result<Vec<Arc<Rule>>> {
        let mut v = self.dump_rules()?;
        if let Some(sel) = sel {
            let picked: std::collections::HashSet<u64> = self
                .dp
                .lock()
                .ofproto
                .pipeline
                .select(sel)
                .iter()
                .map(|r| r.id)
                .collect();
            v.retain(|r| picked.contains(&r.id));
        }
        v.retain(|r| outputs_to(r, out_port));
        Ok(v)
    }

    /// Every rule, with counters brought up to date from the megaflows.
    pub fn dump_rules(&mut self) -> anyhow::Result<Vec<Arc<Rule>>> {
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::PushRuleStats)])?;
        Ok(self.installed_rules())
    }

    /// Every rule as the tables hold it, without asking the PMDs for the
    /// counts since their last push (for what needs no counters).
    pub fn installed_rules(&self) -> Vec<Arc<Rule>> {
        self.dp.lock().ofproto.pipeline.dump()
    }

    fn rules_changed(&mut self, sync: bool) -> anyhow::Result<()> {
        self.rules_edited = true;
        if sync {
            self.sync_datapath()
        } else {
            self.dp.changed();
            Ok(())
        }
    }

    /// Every megaflow of every PMD.
    pub fn dump_flows(&mut self) -> anyhow::Result<Vec<FlowDump>> {
        let out = Arc::new(Mutex::new(Vec::new()));
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::DumpFlows(out.clone()))])?;
        let v = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(v)
    }

    /// Each PMD's classifier subtables (core, then subtables in rank order).
    pub fn dpcls_subtables(&mut self) -> anyhow::Result<Vec<SubtableReport>> {
        let out = Arc::new(Mutex::new(Vec::new()));
        self.post_all(|| vec![PmdCommand::Pipeline(DatapathUpdate::Subtables(out.clone()))])?;
        let mut v = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_by_key(|r: &SubtableReport| r.0);
        Ok(v)
    }
}
