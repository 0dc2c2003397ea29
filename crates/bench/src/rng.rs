//! A tiny deterministic PRNG: the corpus and the workload mix must be the
//! same bytes and the same choices on every machine and for every server,
//! so no dependency whose algorithm could change between versions.

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, good enough for
/// choosing sizes and words; not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    #[cfg(test)]
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A generator for item `idx` of stream `seed`, independent of how many
    /// numbers other items drew.
    pub fn for_item(seed: u64, idx: u64) -> Rng {
        let mut r = Rng(seed ^ idx.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi` exclusive; `lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo)
    }

    /// Uniform index into a slice of `len` elements (`len` > 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.range(0, len as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(7), |r, _: u64| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rng::new(7), |r, _: u64| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(8).next_u64(), a[0]);
    }

    #[test]
    fn range_stays_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let v = r.range(3, 9);
            assert!((3..9).contains(&v));
        }
        assert_eq!(r.range(5, 5), 5);
    }

    #[test]
    fn items_are_independent_of_order() {
        let a = Rng::for_item(42, 10).next_u64();
        let _ = Rng::for_item(42, 9).next_u64();
        assert_eq!(Rng::for_item(42, 10).next_u64(), a);
        assert_ne!(Rng::for_item(42, 11).next_u64(), a);
    }
}
