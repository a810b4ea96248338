//! Per-connection rendering state: the random sequence, the run-wide
//! counter and the CSV row each request uses.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Data;
use super::template::Values;

/// Per-connection state for rendering: a random generator and, per request,
/// the row chosen from each data set (all columns of one request come from
/// the same row).
pub struct RenderState {
    rng: u64,
    chosen: Vec<Option<usize>>,
    data: Arc<Data>,
    /// A flow's variables, by slot (empty outside flows).
    pub vars: Vec<String>,
}

impl RenderState {
    /// A state with its own random sequence (`seed` must differ per connection).
    pub fn new(data: Arc<Data>, seed: u64) -> RenderState {
        RenderState {
            // SplitMix64 of the seed: never zero, well spread.
            rng: splitmix(seed) | 1,
            chosen: vec![None; data.sets.len()],
            data,
            vars: Vec::new(),
        }
    }

    /// Forgets the rows of the previous request.
    pub fn next_request(&mut self) {
        self.chosen.iter_mut().for_each(|c| *c = None);
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Values for RenderState {
    fn random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn counter(&mut self) -> u64 {
        self.data.counter.fetch_add(1, Ordering::Relaxed)
    }

    fn csv(&mut self, dataset: &str, column: usize) -> &str {
        let Some(index) = self.data.sets.iter().position(|s| s.name == dataset) else {
            return "";
        };
        let row = match self.chosen[index] {
            Some(row) => row,
            None => {
                let (random, rows) = (
                    self.data.sets[index].random,
                    self.data.sets[index].rows.len(),
                );
                let pick = if random {
                    self.random()
                } else {
                    self.data.sets[index].next.fetch_add(1, Ordering::Relaxed)
                };
                let row = (pick % rows as u64) as usize;
                self.chosen[index] = Some(row);
                row
            }
        };
        let set = &self.data.sets[index];
        set.rows[row].get(column).map_or("", String::as_str)
    }

    fn var(&mut self, slot: usize) -> &str {
        self.vars.get(slot).map_or("", String::as_str)
    }
}
