//! Sequence sets (RFC 9051 §9 `sequence-set`): `1,3:5,7:*`, and `$`, the
//! saved search result (RFC 5182 SEARCHRES).

use std::fmt;
use std::ops::RangeInclusive;

/// One end of a range: a number or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqBound {
    Num(u32),
    Star,
}

impl SeqBound {
    fn value(self, max: u32) -> u32 {
        match self {
            SeqBound::Num(n) => n,
            SeqBound::Star => max,
        }
    }
}

/// `a`, or `a:b` as sent (`b` may be below `a`: `4:2` is `2:4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    pub start: SeqBound,
    pub end: SeqBound,
}

impl SeqRange {
    pub fn single(n: u32) -> SeqRange {
        SeqRange {
            start: SeqBound::Num(n),
            end: SeqBound::Num(n),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    /// Never empty when produced by the parser.
    Ranges(Vec<SeqRange>),
    /// `$`: the session substitutes its saved result.
    Saved,
}

impl SequenceSet {
    pub fn is_saved(&self) -> bool {
        matches!(self, SequenceSet::Saved)
    }

    /// Whether any range mentions `*`.
    pub fn has_star(&self) -> bool {
        match self {
            SequenceSet::Ranges(r) => r.iter().any(|r| r.start == SeqBound::Star || r.end == SeqBound::Star),
            SequenceSet::Saved => false,
        }
    }

    /// Sorted, merged, non-overlapping inclusive ranges, with `*` taken as
    /// `max`. Numbers above `max` are kept (UIDs that do not exist are
    /// ignored by the caller; sequence numbers above `max` are a client
    /// error the caller reports — see [`SequenceSet::largest`]). `None` for
    /// `$`, which the session must substitute.
    ///
    /// RFC 9051 §9: `n:*` with n > largest is the range largest:n, so a
    /// `UID FETCH 559:*` always includes the last message.
    pub fn resolve(&self, max: u32) -> Option<Vec<RangeInclusive<u32>>> {
        match self {
            SequenceSet::Saved => None,
            SequenceSet::Ranges(ranges) => Some(normalize(ranges.iter().map(|r| {
                let a = r.start.value(max);
                let b = r.end.value(max);
                a.min(b)..=a.max(b)
            }))),
        }
    }

    /// Whether `n` is in the set (`*` is `max`). False for `$`.
    pub fn contains(&self, n: u32, max: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(ranges) => ranges.iter().any(|r| {
                let a = r.start.value(max);
                let b = r.end.value(max);
                (a.min(b)..=a.max(b)).contains(&n)
            }),
        }
    }

    /// The largest number named (with `*` as `max`); `None` for `$`.
    pub fn largest(&self, max: u32) -> Option<u32> {
        match self {
            SequenceSet::Saved => None,
            SequenceSet::Ranges(ranges) => ranges.iter().map(|r| r.start.value(max).max(r.end.value(max))).max(),
        }
    }

    /// A compact set from numbers in any order (for `APPENDUID`,
    /// `COPYUID`, ESEARCH `ALL`). Empty input gives an empty `Ranges`.
    pub fn from_numbers(numbers: impl IntoIterator<Item = u32>) -> SequenceSet {
        let ranges = normalize(numbers.into_iter().map(|n| n..=n));
        SequenceSet::Ranges(
            ranges
                .into_iter()
                .map(|r| SeqRange {
                    start: SeqBound::Num(*r.start()),
                    end: SeqBound::Num(*r.end()),
                })
                .collect(),
        )
    }

    /// Like [`SequenceSet::from_numbers`], but keeps the given order and
    /// only joins consecutive ascending runs. COPYUID (RFC 4315 §3) pairs
    /// source and destination UIDs by position, so neither side may be
    /// re-sorted independently.
    pub fn from_ordered(numbers: impl IntoIterator<Item = u32>) -> SequenceSet {
        let mut out: Vec<SeqRange> = Vec::new();
        for n in numbers {
            if let Some(last) = out.last_mut()
                && let SeqBound::Num(e) = last.end
                && e.checked_add(1) == Some(n)
            {
                last.end = SeqBound::Num(n);
                continue;
            }
            out.push(SeqRange::single(n));
        }
        SequenceSet::Ranges(out)
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, SequenceSet::Ranges(r) if r.is_empty())
    }
}

fn normalize(ranges: impl Iterator<Item = RangeInclusive<u32>>) -> Vec<RangeInclusive<u32>> {
    let mut v: Vec<RangeInclusive<u32>> = ranges.collect();
    v.sort_by_key(|r| (*r.start(), *r.end()));
    let mut out: Vec<RangeInclusive<u32>> = Vec::with_capacity(v.len());
    for r in v {
        if let Some(last) = out.last_mut()
            && u64::from(*r.start()) <= u64::from(*last.end()) + 1
        {
            if r.end() > last.end() {
                *last = *last.start()..=*r.end();
            }
            continue;
        }
        out.push(r);
    }
    out
}

impl fmt::Display for SeqBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeqBound::Num(n) => write!(f, "{n}"),
            SeqBound::Star => f.write_str("*"),
        }
    }
}

impl fmt::Display for SequenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SequenceSet::Saved => f.write_str("$"),
            SequenceSet::Ranges(ranges) => {
                for (i, r) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if r.start == r.end {
                        write!(f, "{}", r.start)?;
                    } else {
                        write!(f, "{}:{}", r.start, r.end)?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(r: &[(SeqBound, SeqBound)]) -> SequenceSet {
        SequenceSet::Ranges(r.iter().map(|&(start, end)| SeqRange { start, end }).collect())
    }
    use SeqBound::{Num, Star};

    #[test]
    fn resolve_merges_and_orders() {
        let s = set(&[(Num(5), Num(3)), (Num(1), Num(1)), (Num(2), Num(2)), (Num(9), Star)]);
        assert_eq!(s.resolve(7), Some(vec![1..=5, 7..=9]));
        assert!(s.contains(8, 7));
        assert!(!s.contains(6, 7));
        assert_eq!(s.largest(7), Some(9));
    }

    #[test]
    fn star_alone_is_max() {
        let s = set(&[(Star, Star)]);
        assert_eq!(s.resolve(42), Some(vec![42..=42]));
        assert!(s.has_star());
    }

    #[test]
    fn saved_needs_substitution() {
        assert_eq!(SequenceSet::Saved.resolve(3), None);
        assert_eq!(SequenceSet::Saved.to_string(), "$");
    }

    #[test]
    fn display_compact() {
        assert_eq!(SequenceSet::from_numbers([5, 1, 2, 3, 9, 10]).to_string(), "1:3,5,9:10");
        assert_eq!(SequenceSet::from_ordered([7, 8, 3, 4]).to_string(), "7:8,3:4");
        assert_eq!(set(&[(Num(2), Star)]).to_string(), "2:*");
    }

    #[test]
    fn no_overflow_at_u32_max() {
        let s = set(&[(Num(u32::MAX), Num(u32::MAX)), (Num(1), Num(u32::MAX))]);
        assert_eq!(s.resolve(0), Some(vec![1..=u32::MAX]));
        assert_eq!(SequenceSet::from_ordered([u32::MAX, 1]).to_string(), "4294967295,1");
    }
}
