//! 2.0.1 seqNos of one transaction, in bounded space.
//!
//! A station numbers its TransactionEvents (2.0.1 E, "sequence numbers"); the CSMS checks that
//! every number between the first and the last arrived. A station may also send any number at
//! all (0, then 2^31-1), so what is kept must not grow with the numbers or with the count of
//! events: the lowest and highest numbers seen, and the numbers missing between them as at most
//! [`SeqNos::MAX_GAPS`] ranges. When a station opens more gaps than that, the lowest ranges are
//! forgotten (their numbers are then taken as seen) and only counted.

/// A run of missing numbers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    pub first: u32,
    pub last: u32,
}

impl Gap {
    /// How many numbers are missing (never none: a gap holds at least one).
    pub fn count(self) -> u64 {
        u64::from(self.last - self.first) + 1
    }

    fn contains(self, n: u32) -> bool {
        (self.first..=self.last).contains(&n)
    }
}

/// The seqNos seen of one transaction: see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqNos {
    /// The lowest and the highest number seen.
    range: Option<(u32, u32)>,
    /// Missing numbers within the range, ascending and disjoint.
    gaps: Vec<Gap>,
    /// Missing numbers no longer listed because the list was full.
    forgotten: u64,
}

/// What [`SeqNos::insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not seen before. `opened`: the numbers it skipped above the highest one seen before.
    New { opened: Option<Gap> },
    /// Seen before (or forgotten as missing).
    Known,
}

impl SeqNos {
    /// At most this many gap ranges are kept: a few hundred bytes.
    pub const MAX_GAPS: usize = 32;

    /// Rebuilds a stored set; None when the parts contradict each other (a gap outside the
    /// range, gaps out of order or overlapping).
    pub fn from_parts(range: Option<(u32, u32)>, gaps: Vec<Gap>, forgotten: u64) -> Option<Self> {
        let valid = match range {
            None => gaps.is_empty(),
            Some((lo, hi)) => {
                lo <= hi
                    && gaps.iter().all(|g| lo < g.first && g.first <= g.last && g.last < hi)
                    && gaps.windows(2).all(|w| w[0].last < w[1].first)
                    && gaps.len() <= Self::MAX_GAPS
            }
        };
        valid.then_some(Self { range, gaps, forgotten })
    }

    pub fn range(&self) -> Option<(u32, u32)> {
        self.range
    }

    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    pub fn is_empty(&self) -> bool {
        self.range.is_none()
    }

    pub fn contains(&self, n: u32) -> bool {
        self.range
            .is_some_and(|(lo, hi)| lo <= n && n <= hi && !self.gaps.iter().any(|g| g.contains(n)))
    }

    /// Notes `n`. Numbers below the lowest open a gap too, but only numbers above the highest
    /// report theirs (`opened`): the event that skipped them is the news.
    pub fn insert(&mut self, n: u32) -> Seen {
        let Some((lo, hi)) = self.range else {
            self.range = Some((n, n));
            return Seen::New { opened: None };
        };
        if n > hi {
            self.range = Some((lo, n));
            let opened = (n > hi + 1).then_some(Gap {
                first: hi + 1,
                last: n - 1,
            });
            self.gaps.extend(opened);
            self.bound();
            return Seen::New { opened };
        }
        if n < lo {
            self.range = Some((n, hi));
            if n + 1 < lo {
                self.gaps.insert(
                    0,
                    Gap {
                        first: n + 1,
                        last: lo - 1,
                    },
                );
            }
            self.bound();
            return Seen::New { opened: None };
        }
        let Some(i) = self.gaps.iter().position(|g| g.contains(n)) else {
            return Seen::Known;
        };
        let gap = self.gaps.remove(i);
        let halves = [
            (gap.first < n).then(|| Gap {
                first: gap.first,
                last: n - 1,
            }),
            (n < gap.last).then(|| Gap {
                first: n + 1,
                last: gap.last,
            }),
        ];
        for (offset, half) in halves.into_iter().flatten().enumerate() {
            self.gaps.insert(i + offset, half);
        }
        self.bound();
        Seen::New { opened: None }
    }

    /// Forgets the lowest ranges beyond [`Self::MAX_GAPS`].
    fn bound(&mut self) {
        while self.gaps.len() > Self::MAX_GAPS {
            self.forgotten += self.gaps.remove(0).count();
        }
    }

    /// How many numbers are missing between the lowest and the highest, forgotten ones included.
    pub fn missing_count(&self) -> u64 {
        self.forgotten + self.gaps.iter().map(|g| g.count()).sum::<u64>()
    }

    /// The first `limit` missing numbers still listed, ascending.
    pub fn missing(&self, limit: usize) -> Vec<u32> {
        self.gaps.iter().flat_map(|g| g.first..=g.last).take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(first: u32, last: u32) -> Gap {
        Gap { first, last }
    }

    #[test]
    fn gaps_open_and_fill() {
        let mut s = SeqNos::default();
        assert_eq!(s.insert(0), Seen::New { opened: None });
        assert_eq!(s.insert(1), Seen::New { opened: None });
        assert_eq!(
            s.insert(4),
            Seen::New {
                opened: Some(gap(2, 3))
            }
        );
        assert_eq!(s.insert(4), Seen::Known);
        assert_eq!(s.insert(1), Seen::Known);
        assert_eq!((s.missing(10), s.missing_count()), (vec![2, 3], 2));
        assert_eq!(s.insert(3), Seen::New { opened: None });
        assert_eq!(s.insert(2), Seen::New { opened: None });
        assert_eq!((s.missing(10), s.missing_count(), s.gaps().len()), (vec![], 0, 0));
        // Below the lowest: a gap, not reported as opened.
        let mut late = SeqNos::default();
        late.insert(10);
        assert_eq!(late.insert(7), Seen::New { opened: None });
        assert_eq!(late.missing(10), vec![8, 9]);
        assert!(late.contains(7) && late.contains(10) && !late.contains(8) && !late.contains(11));
    }

    #[test]
    fn filling_the_middle_of_a_gap_splits_it() {
        let mut s = SeqNos::default();
        s.insert(0);
        s.insert(10);
        s.insert(5);
        assert_eq!(s.gaps(), &[gap(1, 4), gap(6, 9)]);
        assert_eq!(s.missing_count(), 8);
    }

    #[test]
    fn huge_jumps_cost_nothing() {
        // GIVEN seqNo 0, WHEN the station jumps to 2^31-1 and past it
        let mut s = SeqNos::default();
        s.insert(0);
        let Seen::New { opened: Some(opened) } = s.insert(i32::MAX as u32) else {
            panic!("a jump opens a gap");
        };
        s.insert(u32::MAX);
        // THEN one range each, counted, the first few listed
        assert_eq!(opened.count(), (i32::MAX - 1) as u64);
        assert_eq!(s.missing_count(), u64::from(u32::MAX) - 2);
        assert_eq!(s.missing(3), vec![1, 2, 3]);
        assert_eq!(s.gaps().len(), 2);
    }

    #[test]
    fn gap_ranges_are_bounded_and_the_forgotten_counted() {
        let mut s = SeqNos::default();
        // Every other number: one gap per event.
        for n in (0..1000u32).step_by(2) {
            s.insert(n);
        }
        assert_eq!(s.gaps().len(), SeqNos::MAX_GAPS);
        assert_eq!(s.missing_count(), 499);
        assert_eq!(s.forgotten(), 499 - SeqNos::MAX_GAPS as u64);
        // A forgotten number is taken as seen.
        assert!(s.contains(1));
        assert_eq!(s.insert(1), Seen::Known);
    }

    #[test]
    fn stored_parts_are_checked() {
        assert!(SeqNos::from_parts(Some((0, 9)), vec![gap(2, 3), gap(5, 5)], 0).is_some());
        assert!(SeqNos::from_parts(None, vec![], 0).is_some());
        for (range, gaps) in [
            (None, vec![gap(1, 1)]),
            (Some((5, 1)), vec![]),
            (Some((0, 9)), vec![gap(0, 1)]),
            (Some((0, 9)), vec![gap(5, 6), gap(2, 3)]),
            (Some((0, 9)), vec![gap(2, 5), gap(5, 6)]),
            (Some((0, 9)), vec![gap(4, 3)]),
        ] {
            assert!(
                SeqNos::from_parts(range, gaps.clone(), 0).is_none(),
                "{range:?} {gaps:?}"
            );
        }
    }
}
