//! A closed-model virtual user's pause after each response: a constant, or
//! drawn per pause from a uniform, exponential or normal distribution.

use std::fmt;
use std::time::Duration;

use crate::rng::SharedRng;

/// How long a virtual user pauses between a response and its next request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    /// The same pause every time; zero means no pause at all.
    Constant(Duration),
    /// Uniform between `min` and `max` (both included, `min <= max`).
    Uniform { min: Duration, max: Duration },
    /// Exponential with this mean: a user's requests are Poisson arrivals.
    Exponential { mean: Duration },
    /// Normal, a draw below zero pausing not at all (truncated at 0).
    Normal { mean: Duration, stddev: Duration },
}

impl Default for Think {
    fn default() -> Self {
        Think::Constant(Duration::ZERO)
    }
}

impl Think {
    /// No pause: the worker neither draws nor sleeps.
    pub fn is_zero(&self) -> bool {
        *self == Think::Constant(Duration::ZERO)
    }

    /// One pause, drawn from `rng` (one or two draws, no allocation).
    pub(crate) fn sample(&self, rng: &SharedRng) -> Duration {
        let nanos = |d: Duration| d.as_nanos() as f64;
        let drawn = match *self {
            Think::Constant(d) => return d,
            Think::Uniform { min, max } => nanos(min) + (nanos(max) - nanos(min)) * rng.uniform(),
            // 1 - u is in (0, 1]: its logarithm is finite.
            Think::Exponential { mean } => -nanos(mean) * (1.0 - rng.uniform()).ln(),
            Think::Normal { mean, stddev } => nanos(mean) + nanos(stddev) * rng.normal(),
        };
        // `as` saturates: a negative draw becomes 0, never a panic.
        Duration::from_nanos(drawn.round() as u64)
    }
}

impl fmt::Display for Think {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Duration's own form (`100ms`, `1.5s`) reads as it was written.
        let d = |d: Duration| format!("{d:?}");
        match *self {
            Think::Constant(c) => f.write_str(&d(c)),
            Think::Uniform { min, max } => write!(f, "{}..{}", d(min), d(max)),
            Think::Exponential { mean } => write!(f, "exp(mean {})", d(mean)),
            Think::Normal { mean, stddev } => {
                write!(f, "normal(mean {}, stddev {})", d(mean), d(stddev))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 20_000;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `N` draws in milliseconds: their mean, smallest and largest.
    fn draws(think: Think, seed: u64) -> (f64, f64, f64, Vec<f64>) {
        let rng = SharedRng::seeded(seed);
        let all: Vec<f64> = (0..N)
            .map(|_| think.sample(&rng).as_secs_f64() * 1e3)
            .collect();
        let mean = all.iter().sum::<f64>() / N as f64;
        let min = all.iter().copied().fold(f64::INFINITY, f64::min);
        let max = all.iter().copied().fold(0.0, f64::max);
        (mean, min, max, all)
    }

    fn stddev(all: &[f64], mean: f64) -> f64 {
        (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt()
    }

    #[test]
    fn a_constant_is_the_same_every_time_and_zero_is_no_pause() {
        let rng = SharedRng::seeded(1);
        assert_eq!(Think::Constant(ms(100)).sample(&rng), ms(100));
        assert!(Think::default().is_zero());
        assert!(!Think::Constant(ms(1)).is_zero());
        assert!(!Think::Exponential { mean: ms(1) }.is_zero());
    }

    #[test]
    fn uniform_draws_stay_in_range_with_the_middle_as_mean() {
        let (mean, min, max, all) = draws(
            Think::Uniform {
                min: ms(50),
                max: ms(150),
            },
            3,
        );
        assert!(min >= 50.0 && max <= 150.0, "{min}..{max}");
        // Both ends are reached within 1 ms in 20,000 draws.
        assert!(min < 51.0 && max > 149.0, "{min}..{max}");
        // The sample mean's sigma is 100/sqrt(12)/sqrt(N) = 0.20 ms; allow 5 sigma.
        assert!((mean - 100.0).abs() < 1.0, "{mean}");
        assert!((stddev(&all, mean) - 28.87).abs() < 1.0);
    }

    #[test]
    fn exponential_draws_have_the_mean_as_their_spread() {
        let (mean, min, _, all) = draws(Think::Exponential { mean: ms(100) }, 5);
        assert!(min >= 0.0);
        // Sigma of the sample mean: 100/sqrt(N) = 0.71 ms; allow 5 sigma.
        assert!((mean - 100.0).abs() < 3.6, "{mean}");
        assert!((stddev(&all, mean) - 100.0).abs() < 6.0);
        // P(X > 2 mean) = e^-2 = 13.5%.
        let above = all.iter().filter(|x| **x > 200.0).count() as f64 / N as f64;
        assert!((above - 0.135).abs() < 0.013, "{above}");
    }

    #[test]
    fn normal_draws_have_their_mean_and_stddev() {
        let think = Think::Normal {
            mean: ms(100),
            stddev: ms(20),
        };
        let (mean, min, _, all) = draws(think, 7);
        // Sigma of the sample mean: 20/sqrt(N) = 0.14 ms; allow 5 sigma.
        assert!((mean - 100.0).abs() < 0.71, "{mean}");
        assert!((stddev(&all, mean) - 20.0).abs() < 0.8);
        assert!(min >= 0.0);
    }

    #[test]
    fn normal_draws_below_zero_pause_not_at_all() {
        // mean 10 ms, stddev 20 ms: P(X < 0) = Phi(-0.5) = 30.9%.
        let think = Think::Normal {
            mean: ms(10),
            stddev: ms(20),
        };
        let (_, min, _, all) = draws(think, 9);
        assert_eq!(min, 0.0);
        let zeros = all.iter().filter(|x| **x == 0.0).count() as f64 / N as f64;
        // Sigma: sqrt(0.309 * 0.691 / N) = 0.33%; allow 5 sigma.
        assert!((zeros - 0.309).abs() < 0.017, "{zeros}");
    }

    #[test]
    fn the_distribution_is_written_back_as_a_person_would() {
        assert_eq!(Think::Constant(ms(100)).to_string(), "100ms");
        assert_eq!(
            Think::Uniform {
                min: ms(50),
                max: ms(150)
            }
            .to_string(),
            "50ms..150ms"
        );
        assert_eq!(
            Think::Exponential { mean: ms(100) }.to_string(),
            "exp(mean 100ms)"
        );
        assert_eq!(
            Think::Normal {
                mean: ms(100),
                stddev: ms(20)
            }
            .to_string(),
            "normal(mean 100ms, stddev 20ms)"
        );
    }
}
