//! Percentiles of measured durations (nearest rank on the sorted sample; no interpolation).

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub mean: Duration,
}

impl Summary {
    /// None for an empty sample.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        let total: Duration = sorted.iter().sum();
        Some(Self {
            n: sorted.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
            mean: total / sorted.len() as u32,
        })
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!(
            (s.n, s.p50, s.p90, s.p99, s.max),
            (
                100,
                Duration::from_millis(50),
                Duration::from_millis(90),
                Duration::from_millis(99),
                Duration::from_millis(100)
            )
        );
        assert_eq!(s.mean, Duration::from_micros(50_500));
        let one = Summary::of(&[Duration::from_millis(7)]).unwrap();
        assert_eq!((one.p50, one.p99), (Duration::from_millis(7), Duration::from_millis(7)));
        assert!(Summary::of(&[]).is_none());
        assert_eq!(ms(Duration::from_micros(1234)), "1.23");
    }
}
