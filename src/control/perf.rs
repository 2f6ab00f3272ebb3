//! Where a PMD's cycles go: the loop (`pmd-perf-show`), the stages of the
//! packet path, and the classifier's subtables (`dump-flows --subtables`).
use super::commands::pct;
use super::Reply;
use crate::datapath::dump::mask_text;
use crate::pmd::stats::Stage;
use crate::switch::Switch;
use serde_json::json;
use std::fmt::Write;

/// Loop behaviour per PMD: iterations, cycles per iteration, how full the rx
/// polls were, cycles per packet by stage (while `stage_cycles` is on) and
/// the classifier's subtables with their probe lengths.
pub fn pmd_perf_show(sw: &mut Switch) -> Reply {
    let subtables = match sw.dpcls_subtables() {
        Ok(s) => s,
        Err(e) => return Reply::err(format!("pmd-perf-show: {e:#}")),
    };
    let mut t = String::new();
    let mut data = Vec::new();
    for (p, s) in sw.pmds().iter().zip(sw.pmd_snapshots()) {
        let core = p.stats.core;
        let polls: u64 = s.burst_hist.iter().sum();
        let nonempty: u64 = s.burst_hist[1..].iter().sum();
        let per = |c: u64, n: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
        let avg_batch = per(s.rx_packets, nonempty);
        let per_iter = per(s.busy_cycles + s.idle_cycles, s.iterations);
        let numa = sw.topology().node_of(core).unwrap_or(-1);
        let _ = writeln!(t, "pmd thread numa_id {numa} core {core}:");
        let _ = writeln!(
            t,
            "  iterations: {}  cycles per iteration: {per_iter:.1}",
            s.iterations
        );
        let _ = writeln!(
            t,
            "  rx polls: {polls}  non-empty: {nonempty} ({:.2}%)  avg packets per non-empty poll: {avg_batch:.2}",
            pct(nonempty, polls)
        );
        let _ = writeln!(t, "  packets per poll:");
        for (n, c) in s.burst_hist.iter().enumerate().filter(|(_, c)| **c > 0) {
            let _ = writeln!(t, "    {n:>2}: {c:>14} ({:.2}%)", pct(*c, polls));
        }
        // Per received packet, whichever path it took; what the stages do
        // not cover (rx, the loop, capture) is the rest of the busy cycles.
        let staged: u64 = s.stage_cycles.iter().sum();
        let mut stages = serde_json::Map::new();
        if staged > 0 {
            let _ = writeln!(t, "  cycles per packet by stage:");
            for (st, c) in Stage::ALL.iter().zip(&s.stage_cycles) {
                let v = per(*c, s.rx_packets);
                let _ = writeln!(t, "    {:<14} {v:>8.1}", st.name());
                stages.insert(st.name().replace(' ', "_"), json!(v));
            }
            let other = per(s.busy_cycles.saturating_sub(staged), s.rx_packets);
            let _ = writeln!(t, "    {:<14} {other:>8.1}", "rx and loop");
            stages.insert("rx_and_loop".into(), json!(other));
        } else {
            let _ = writeln!(
                t,
                "  cycles per packet by stage: off (pmd-set stage_cycles=1)"
            );
        }
        let tables = subtables
            .iter()
            .find(|(c, _)| *c == core)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        let _ = writeln!(t, "  classifier: {} subtables", tables.len());
        let mut tj = Vec::new();
        for (rank, st) in tables.iter().enumerate() {
            let _ = writeln!(
                t,
                "    {rank:>3}: megaflows {:>7}  lookups {:>12}  slots per lookup {:.2}",
                st.megaflows,
                st.probes.lookups,
                st.probes.average()
            );
            tj.push(json!({
                "megaflows": st.megaflows,
                "lookups": st.probes.lookups,
                "slots_per_lookup": st.probes.average(),
            }));
        }
        data.push(json!({
            "core": core,
            "iterations": s.iterations,
            "packets_received": s.rx_packets,
            "cycles_per_iteration": per_iter,
            "rx_polls": polls,
            "nonempty_polls": nonempty,
            "avg_packets_per_batch": avg_batch,
            "packets_per_poll_histogram": s.burst_hist,
            "cycles_per_packet_by_stage": stages,
            "subtables": tj,
        }));
    }
    let st = sw.settings();
    let _ = writeln!(
        t,
        "settings: tx_flush_interval_us={} max_sleep_us={} stage_cycles={}",
        st.tx_flush_interval_us, st.max_sleep_us, st.stage_cycles as u8
    );
    Reply::ok(
        t,
        json!({
            "pmds": data,
            "tx_flush_interval_us": st.tx_flush_interval_us,
            "max_sleep_us": st.max_sleep_us,
            "stage_cycles": st.stage_cycles,
        }),
    )
}

/// `dump-flows --subtables`: each PMD's classifier subtables in the order
/// they are searched, with their masks, sizes and probe lengths.
pub fn dump_subtables(sw: &mut Switch) -> Reply {
    let report = match sw.dpcls_subtables() {
        Ok(r) => r,
        Err(e) => return Reply::err(format!("dump-flows: {e:#}")),
    };
    let mut t = String::new();
    let mut data = Vec::new();
    for (core, tables) in &report {
        let _ = writeln!(t, "pmd core {core}: {} subtables", tables.len());
        for (rank, st) in tables.iter().enumerate() {
            let mask = mask_text(&st.mask);
            let _ = writeln!(
                t,
                "  {rank:>3}: megaflows:{} lookups:{} slots_per_lookup:{:.2} mask:{mask}",
                st.megaflows,
                st.probes.lookups,
                st.probes.average()
            );
            data.push(json!({
                "core": core, "rank": rank, "megaflows": st.megaflows, "lookups": st.probes.lookups,
                "slots_per_lookup": st.probes.average(), "mask": mask,
            }));
        }
    }
    Reply::ok(t, json!(data))
}
