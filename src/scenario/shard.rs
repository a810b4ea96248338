//! `--shard i/N`: one of N machines runs its share of a scenario. Rates and
//! virtual users are divided, request counts too (remainders go to the
//! first shards), and CSV data rows are dealt out round robin (row k to
//! shard k mod N + 1), so the N shards together send what one run would.
//! The split is recorded in [`Scenario::shard`], so each phase's weighted
//! mix is dealt the same way (see `engine::pacer`).
//! `slogate merge` puts their results back together.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Load, Scenario};

/// Shard `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `--shard` value is not a shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardParseError {
    #[error("`{0}` is not a shard: expected i/N with 1 <= i <= N, e.g. 2/3")]
    Form(String),
    #[error("`{0}`: at most {MAX_SHARDS} shards")]
    TooMany(String),
}

/// The most shards a scenario is split into.
const MAX_SHARDS: u32 = 10_000;

/// Why a scenario cannot be split into its shards: some shard's part would
/// be empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardSplitError {
    #[error(
        "phase `{phase}`: concurrency {concurrency} cannot be split into {count} shards (every shard needs a virtual user)"
    )]
    Concurrency {
        phase: String,
        concurrency: usize,
        count: u32,
    },
    #[error("phase `{phase}`: {requests} requests cannot be split into {count} shards")]
    Requests {
        phase: String,
        requests: u64,
        count: u32,
    },
    #[error(
        "data `{data}`: {rows} rows cannot be dealt to {count} shards (every shard needs a row)"
    )]
    Rows {
        data: String,
        rows: usize,
        count: u32,
    },
}

impl FromStr for Shard {
    type Err = ShardParseError;

    fn from_str(text: &str) -> Result<Shard, ShardParseError> {
        let usage = || ShardParseError::Form(text.to_string());
        let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if index == 0 || count == 0 || index > count {
            return Err(usage());
        }
        if count > MAX_SHARDS {
            return Err(ShardParseError::TooMany(text.to_string()));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// This shard's part of `total` things dealt out one by one:
    /// `total / N`, plus one for the first `total mod N` shards.
    pub fn part(self, total: u64) -> u64 {
        let n = u64::from(self.count);
        total / n + u64::from(u64::from(self.index - 1) < total % n)
    }

    /// Whether item `k` (from 0) of a round-robin deal is this shard's.
    pub fn deals(self, k: usize) -> bool {
        k % self.count as usize == (self.index - 1) as usize
    }

    /// Cuts `scenario` down to this shard's share. Fails when any shard's
    /// part would be empty (fewer virtual users, requests or data rows than
    /// shards), so every shard of a split fails alike.
    pub fn apply(self, scenario: &mut Scenario) -> Result<(), ShardSplitError> {
        scenario.shard = Some(self);
        if self.count == 1 {
            return Ok(());
        }
        for phase in &mut scenario.phases {
            match &mut phase.load {
                Load::Open {
                    arrivals,
                    connections,
                } => {
                    *arrivals = arrivals.divided(self.count);
                    *connections = (connections.div_ceil(self.count as usize)).max(1);
                }
                Load::Closed { concurrency, .. } => {
                    // Every shard of the split, not only this one, needs one.
                    if *concurrency < self.count as usize {
                        return Err(ShardSplitError::Concurrency {
                            phase: phase.name.clone(),
                            concurrency: *concurrency,
                            count: self.count,
                        });
                    }
                    *concurrency = self.part(*concurrency as u64) as usize;
                }
            }
            if let Some(requests) = &mut phase.requests {
                if *requests < u64::from(self.count) {
                    return Err(ShardSplitError::Requests {
                        phase: phase.name.clone(),
                        requests: *requests,
                        count: self.count,
                    });
                }
                *requests = self.part(*requests);
            }
        }
        for data in &mut scenario.datasets {
            let rows = std::mem::take(&mut data.rows);
            let total = rows.len();
            data.rows = rows
                .into_iter()
                .enumerate()
                .filter(|(k, _)| self.deals(*k))
                .map(|(_, row)| row)
                .collect();
            if total < self.count as usize {
                return Err(ShardSplitError::Rows {
                    data: data.name.clone(),
                    rows: total,
                    count: self.count,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_with_the_form() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"] {
            let error = bad.parse::<Shard>().unwrap_err();
            assert_eq!(error, ShardParseError::Form(bad.into()));
            assert_eq!(
                error.to_string(),
                format!("`{bad}` is not a shard: expected i/N with 1 <= i <= N, e.g. 2/3")
            );
        }
        assert_eq!(
            "1/10001".parse::<Shard>().unwrap_err().to_string(),
            "`1/10001`: at most 10000 shards"
        );
    }

    #[test]
    fn parts_add_up_to_the_whole() {
        for total in [0u64, 1, 2, 7, 100, 101] {
            for count in 1..=5 {
                let sum: u64 = (1..=count)
                    .map(|index| Shard { index, count }.part(total))
                    .sum();
                assert_eq!(sum, total, "{total} into {count}");
            }
        }
        let shard = Shard { index: 2, count: 3 };
        assert_eq!(
            (0..9).filter(|k| shard.deals(*k)).collect::<Vec<_>>(),
            [1, 4, 7]
        );
    }
}
