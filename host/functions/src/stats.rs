//! Running variance (Welford's algorithm): one pass, numerically stable, and foldable a
//! value at a time, so `stddev`, `stddevs`, `var` and `vars` give the same result
//! whether a window is aggregated when it fires or as its tuples arrive.

/// Count, mean and sum of squared deviations of the values seen.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Folds another accumulator in (Chan et al.'s parallel form).
    pub fn merge(&mut self, o: &Welford) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64) / n as f64;
        self.n = n;
    }

    /// The variance: of the population, or of a sample (`n - 1`); `None` without
    /// enough values.
    pub fn variance(&self, sample: bool) -> Option<f64> {
        let denom = if sample {
            self.n.checked_sub(1)?
        } else {
            self.n
        };
        (denom > 0).then(|| self.m2 / denom as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_textbook_values_and_merges() {
        let mut w = Welford::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.add(x);
        }
        assert_eq!(w.variance(false), Some(4.0));
        assert!((w.variance(true).unwrap_or(0.0) - 32.0 / 7.0).abs() < 1e-12);
        let (mut a, mut b) = (Welford::default(), Welford::default());
        for x in [2.0, 4.0, 4.0] {
            a.add(x);
        }
        for x in [4.0, 5.0, 5.0, 7.0, 9.0] {
            b.add(x);
        }
        a.merge(&b);
        assert!((a.variance(false).unwrap_or(0.0) - 4.0).abs() < 1e-12);
        assert_eq!(Welford::default().variance(false), None);
    }
}
