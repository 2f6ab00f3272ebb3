//! FLOW_MOD into a change of the switch's rule tables, and the rule
//! selection FLOW_MOD and the FLOW/AGGREGATE statistics share.
use super::{actions, matching, Refusal};
use crate::ofproto::table::{Rule, Selector};
use crate::ofproto::{Action, FlowMod, Match};
use crate::switch::Switch;
use openflow::consts::error::{
    bad_action, bad_request, flow_mod_failed, BAD_ACTION, BAD_REQUEST, FLOW_MOD_FAILED,
};
use openflow::consts::{flow_mod_command as cmd, flow_mod_flags as flag, group, port, table};
use std::sync::Arc;

/// Which rules a modify, delete or statistics request is about.
#[derive(Debug, Clone)]
pub struct Filter {
    table: Option<u8>,
    m: Match,
    strict: bool,
    priority: u16,
    cookie: Option<(u64, u64)>,
    out_port: Option<u32>,
    /// An out_group filter: no rule outputs to a group (there are none yet).
    none: bool,
}

impl Filter {
    /// From the fields FLOW_MOD and the statistics requests have in common.
    pub fn new(
        table_id: u8,
        m: &openflow::Match,
        cookie: u64,
        cookie_mask: u64,
        out_port: u32,
        out_group: u32,
    ) -> Result<Filter, Refusal> {
        Ok(Filter {
            table: (table_id != table::ALL).then_some(table_id),
            m: matching::from_oxm(m)?,
            strict: false,
            priority: 0,
            cookie: (cookie_mask != 0).then_some((cookie & cookie_mask, cookie_mask)),
            out_port: (out_port != port::ANY).then_some(out_port),
            none: out_group != group::ANY,
        })
    }

    fn selector(&self) -> Selector<'_> {
        Selector {
            table: self.table,
            m: &self.m,
            strict: self.strict,
            priority: self.priority,
            cookie: self.cookie,
        }
    }

    /// The rules picked, with counters up to date.
    pub fn rules(&self, sw: &mut Switch) -> anyhow::Result<Vec<Arc<Rule>>> {
        if self.none {
            return Ok(Vec::new());
        }
        sw.rules(Some(&self.selector()), self.out_port)
    }
}

/// A FLOW_MOD, checked and in the switch's terms.
#[derive(Debug, Clone)]
pub enum Change {
    /// Add or replace a rule.
    Add(FlowMod),
    /// Give the picked rules new actions.
    Modify(Filter, Vec<Action>),
    /// Delete the picked rules.
    Delete(Filter),
}

/// Checks a FLOW_MOD and translates it; the refusal is the ERROR to send.
pub fn translate(fm: &openflow::FlowMod) -> Result<Change, Refusal> {
    let failed = |code| Refusal::new(FLOW_MOD_FAILED, code);
    if fm.buffer_id != openflow::consts::NO_BUFFER {
        return Err(Refusal::new(BAD_REQUEST, bad_request::BUFFER_UNKNOWN));
    }
    // Timeouts are not enforced and FLOW_REMOVED is not sent yet; overlap
    // is not checked: refused rather than ignored.
    if fm.idle_timeout != 0 || fm.hard_timeout != 0 {
        return Err(failed(flow_mod_failed::BAD_TIMEOUT));
    }
    let counts = flag::NO_PKT_COUNTS | flag::NO_BYT_COUNTS;
    let allowed = match fm.command {
        cmd::ADD => counts | flag::RESET_COUNTS,
        _ => counts,
    };
    if fm.flags & !allowed != 0 {
        return Err(failed(flow_mod_failed::BAD_FLAGS));
    }
    let writing = matches!(fm.command, cmd::ADD | cmd::MODIFY | cmd::MODIFY_STRICT);
    if fm.table_id > table::MAX && (writing || fm.table_id != table::ALL) {
        return Err(failed(flow_mod_failed::BAD_TABLE_ID));
    }
    let mut filter = Filter::new(
        fm.table_id,
        &fm.r#match,
        fm.cookie,
        fm.cookie_mask,
        fm.out_port,
        fm.out_group,
    )?;
    filter.priority = fm.priority;
    filter.strict = matches!(fm.command, cmd::MODIFY_STRICT | cmd::DELETE_STRICT);
    let m = filter.m;
    let acts = || {
        let acts = actions::from_instructions(fm.table_id, &fm.instructions)?;
        // A SET_FIELD needs the field's prerequisites in the match, as OVS
        // checks (set_field:10.0.0.1->ip_dst on a rule that is not `ip`).
        for i in &fm.instructions {
            let openflow::Instruction::ApplyActions(list) = i else {
                continue;
            };
            for a in list {
                if let openflow::Action::SetField(o) | openflow::Action::NxRegLoad2(o) = a {
                    if !matching::prerequisites_met(o.field, &m) {
                        return Err(Refusal::new(BAD_ACTION, bad_action::MATCH_INCONSISTENT));
                    }
                }
            }
        }
        Ok(acts)
    };
    Ok(match fm.command {
        cmd::ADD => Change::Add(FlowMod {
            table: fm.table_id,
            priority: fm.priority,
            cookie: fm.cookie,
            idle_timeout: 0,
            hard_timeout: 0,
            m: filter.m,
            actions: acts()?,
        }),
        // OpenFlow 1.3: out_port and out_group filter deletes only.
        cmd::MODIFY | cmd::MODIFY_STRICT => {
            filter.out_port = None;
            filter.none = false;
            Change::Modify(filter, acts()?)
        }
        cmd::DELETE | cmd::DELETE_STRICT => Change::Delete(filter),
        _ => return Err(failed(flow_mod_failed::BAD_COMMAND)),
    })
}

/// Applies a change to the tables. The PMDs pick it up at the top of their
/// next loop; a BARRIER waits until every one has.
pub fn apply(sw: &mut Switch, c: &Change) -> anyhow::Result<()> {
    match c {
        Change::Add(fm) => sw.add_rule(fm, false),
        Change::Modify(f, acts) => sw
            .modify_rules(&f.selector(), f.out_port, acts, false)
            .map(drop),
        Change::Delete(f) if f.none => Ok(()),
        Change::Delete(f) => sw.delete_rules(&f.selector(), f.out_port, false).map(drop),
    }
}
