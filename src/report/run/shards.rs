//! Whether results directories are shards of one run that fit together:
//! one scenario, the same requests and phases, one split, each shard once.

use std::collections::BTreeMap;
use std::path::Path;

use super::saved::{Phase, SavedSummary};
use crate::scenario::Shard;

/// Why the directories given to `merge` are not shards of one run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Disagree {
    #[error(
        "{first} ran scenario `{first_name}`, {other} ran `{other_name}`: merge shards of one scenario"
    )]
    Scenario {
        first: String,
        first_name: String,
        other: String,
        other_name: String,
    },
    #[error(
        "{first} has requests {mine:?}, {other} has {theirs:?}: were they run from the same scenario file?"
    )]
    Requests {
        first: String,
        mine: Vec<String>,
        other: String,
        theirs: Vec<String>,
    },
    #[error("{first} has phases {mine:?}, {other} has {theirs:?}")]
    Phases {
        first: String,
        mine: Vec<String>,
        other: String,
        theirs: Vec<String>,
    },
    #[error(
        "phase `{phase}`: {first} and {other} ran different steps: {detail}; merge shards of one schedule"
    )]
    Steps {
        phase: String,
        first: String,
        other: String,
        detail: String,
    },
    #[error("some directories are shards (--shard) and some are not")]
    SomeNotShards,
    #[error("shard {first} and shard {odd} are from different splits")]
    Splits { first: Shard, odd: Shard },
    #[error("{first} and {other} are both shard {shard}: its load would count twice")]
    Twice {
        first: String,
        other: String,
        shard: Shard,
    },
}

/// Checks that the directories are shards of one scenario that fit
/// together; returns the shards missing (`2/3`), which `merge` warns of.
pub(crate) fn agree(parts: &[(&Path, &SavedSummary)]) -> Result<Vec<String>, Disagree> {
    let (first_path, first) = parts[0];
    let first_dir = first_path.display().to_string();
    for (dir, s) in &parts[1..] {
        let other = dir.display().to_string();
        if s.scenario != first.scenario {
            return Err(Disagree::Scenario {
                first: first_dir,
                first_name: first.scenario.clone(),
                other,
                other_name: s.scenario.clone(),
            });
        }
        if s.request_names != first.request_names {
            return Err(Disagree::Requests {
                first: first_dir,
                mine: first.request_names.clone(),
                other,
                theirs: s.request_names.clone(),
            });
        }
        let names = |s: &SavedSummary| s.phases.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        let (mine, theirs) = (names(first), names(s));
        let common = mine.len().min(theirs.len());
        if mine[..common] != theirs[..common] {
            return Err(Disagree::Phases {
                first: first_dir,
                mine,
                other,
                theirs,
            });
        }
        for (mine, theirs) in first.phases.iter().zip(&s.phases) {
            if let Some(detail) = steps_differ(mine, theirs) {
                return Err(Disagree::Steps {
                    phase: mine.name.clone(),
                    first: first_dir,
                    other,
                    detail,
                });
            }
        }
    }
    let shards: Vec<Shard> = parts.iter().filter_map(|(_, s)| s.shard).collect();
    if shards.is_empty() {
        return Ok(Vec::new());
    }
    if shards.len() != parts.len() {
        return Err(Disagree::SomeNotShards);
    }
    let count = shards[0].count;
    if let Some(odd) = shards.iter().find(|s| s.count != count) {
        return Err(Disagree::Splits {
            first: shards[0],
            odd: *odd,
        });
    }
    let mut seen = BTreeMap::new();
    for (shard, (dir, _)) in shards.iter().zip(parts) {
        if let Some(other) = seen.insert(shard.index, dir) {
            return Err(Disagree::Twice {
                first: other.display().to_string(),
                other: dir.display().to_string(),
                shard: *shard,
            });
        }
    }
    Ok((1..=count)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect())
}

/// Seconds in a saved summary closer than this are the same time (they
/// were written from the same schedule, with float noise).
const SAME_TIME_S: f64 = 1e-3;

/// How two shards' runs of one phase differ in their steps (the first
/// step that does, or their count), or None when they fit: the same steps,
/// or one's a prefix of the other's because that shard's phase was cut
/// short. Rates are not compared: each shard sends its own share.
fn steps_differ(mine: &Phase, theirs: &Phase) -> Option<String> {
    let secs = crate::units::format_significant;
    for (index, (a, b)) in mine.steps.iter().zip(&theirs.steps).enumerate() {
        let step = index + 1;
        if (a.scheduled_s - b.scheduled_s).abs() > SAME_TIME_S {
            return Some(format!(
                "step {step} lasts {}s in the first, {}s in the other",
                secs(a.scheduled_s),
                secs(b.scheduled_s)
            ));
        }
        let (from_a, from_b) = (a.start_s - mine.start_s, b.start_s - theirs.start_s);
        if (from_a - from_b).abs() > SAME_TIME_S {
            return Some(format!(
                "step {step} starts {}s into the phase in the first, {}s in the other",
                secs(from_a),
                secs(from_b)
            ));
        }
    }
    let (a, b) = (mine.steps.len(), theirs.steps.len());
    let shorter_cut = if a < b {
        mine.cut_short
    } else {
        theirs.cut_short
    };
    if a != b && !shorter_cut {
        return Some(format!(
            "the first has {a} steps, the other {b}, and the one with fewer ran its course: step {} is in one only",
            a.min(b) + 1
        ));
    }
    None
}
