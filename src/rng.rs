//! A random sequence shared between tasks without a lock: SplitMix64 over
//! an atomic counter. Good enough for drawing which requests get a fault
//! (uniform, independent draws); not for anything secret.

use std::sync::atomic::{AtomicU64, Ordering};

/// A shared uniform source.
#[derive(Debug)]
pub struct SharedRng {
    state: AtomicU64,
}

impl Default for SharedRng {
    fn default() -> Self {
        // Seeded from the clock so two runs draw different requests.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        SharedRng::seeded(seed)
    }
}

impl SharedRng {
    pub fn seeded(seed: u64) -> SharedRng {
        SharedRng {
            state: AtomicU64::new(seed),
        }
    }

    /// A uniform u64.
    pub fn next_u64(&self) -> u64 {
        let mut x = self
            .state
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    /// A uniform number in 0..1 (53 random bits).
    pub fn uniform(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal number (Box–Muller).
    pub fn normal(&self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_draws_are_spread_evenly() {
        let rng = SharedRng::seeded(7);
        let n = 100_000;
        let mut buckets = [0u32; 10];
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
        }
        // Each bucket expects 10,000 ± 95 (1 sigma); allow 5 sigma.
        for count in buckets {
            assert!((9_525..=10_475).contains(&count), "{buckets:?}");
        }
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let rng = SharedRng::seeded(11);
        let n = 100_000;
        let draws: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let variance = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((variance - 1.0).abs() < 0.03, "{variance}");
    }
}
