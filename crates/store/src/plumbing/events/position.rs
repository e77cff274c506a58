//! A reader's position in the event log: per audit chain, the last event read
//! (`docs/adr/0004-event-feed-ordering.md`).
//!
//! Appends are ordered per chain (one chain per supervision area, [`super::chain`]): a
//! transaction holds its chains' locks from drawing its `seq` values to its commit, so within
//! a chain a later `seq` never becomes visible before an earlier one. Across chains it can: an
//! event of 510703 may commit after a later-numbered one of 510704. A single `seq` position
//! would then skip the late one; a position per chain does not.
//!
//! A position is a default `rest` for every chain it does not name, and the chains it names.
//! It moves in two ways: past the events a reader was given ([`FeedPosition::passed`]), and
//! past the events a reader could not have been given because none exist, judged from the
//! chain heads read before the events ([`FeedPosition::advanced`]):
//!
//! - a chain with an append in flight (its lock was held when looked at) moves to its head:
//!   the append's events come after it;
//! - a chain without one moves to the newest head `M` of any chain: every event numbered up
//!   to `M` was drawn before the heads were read, and an append of the chain drawn then had
//!   committed by the time its lock was found free, so the events read next include it (a
//!   quiet chain does not hold its readers back);
//! - a chain unknown when the heads were read starts at `M` too, because a chain's first
//!   event is appended under the events lock held exclusively (every other append holds it
//!   shared): no event numbered after it was visible before it committed.

use std::collections::BTreeMap;

/// Where a reader stands in the log, per chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPosition {
    /// The last event read of every chain not in `chains`.
    rest: i64,
    /// The last event read, per chain named.
    chains: BTreeMap<String, i64>,
}

impl FeedPosition {
    /// Every chain at `seq`: the position of a reader who read everything up to `seq`
    /// (0: the start of the log).
    pub fn after(seq: i64) -> Self {
        Self {
            rest: seq,
            chains: BTreeMap::new(),
        }
    }

    /// The last event read of `chain`.
    pub fn of(&self, chain: &str) -> i64 {
        self.chains.get(chain).copied().unwrap_or(self.rest)
    }

    /// The lowest position of any chain: every event up to it has been read.
    pub fn floor(&self) -> i64 {
        self.chains.values().copied().fold(self.rest, i64::min)
    }

    /// The chains named, with their positions, and the default of the others.
    pub(crate) fn parts(&self) -> (&BTreeMap<String, i64>, i64) {
        (&self.chains, self.rest)
    }

    /// After the reader was given event `seq` of `chain`.
    pub fn passed(&mut self, chain: &str, seq: i64) {
        if seq > self.of(chain) {
            self.chains.insert(chain.to_owned(), seq);
            self.compact();
        }
    }

    /// The position after a page of events was read and passed ([`Self::passed`]): `heads`
    /// are every chain's last `seq` as read before the events, each with whether the chain
    /// had no append in flight when looked at; `page_end` the last `seq` of a full page
    /// (`None` when the page held everything there was); `relevant` the chains the reader
    /// may see (`None`: any). No chain moves past `page_end`: the events after it were not
    /// read.
    pub(crate) fn advanced(
        mut self,
        heads: &[(String, i64, bool)],
        page_end: Option<i64>,
        relevant: Option<&[String]>,
    ) -> Self {
        let cap = |seq: i64| page_end.map_or(seq, |end| seq.min(end));
        let newest = heads.iter().map(|h| h.1).max().unwrap_or(0);
        let rest = self.rest.max(cap(newest));
        let mut chains = BTreeMap::new();
        for (chain, head, settled) in heads {
            if relevant.is_none_or(|r| r.contains(chain)) {
                let to = if *settled { newest } else { *head };
                chains.insert(chain.clone(), self.of(chain).max(cap(to)));
            }
        }
        for (chain, seq) in std::mem::take(&mut self.chains) {
            let known = heads.iter().any(|h| h.0 == chain);
            if !known && relevant.is_none_or(|r| r.contains(&chain)) {
                chains.insert(chain, seq.max(rest));
            }
        }
        let mut moved = Self { rest, chains };
        moved.compact();
        moved
    }

    /// The later of two positions, chain by chain.
    pub fn max(&self, other: &Self) -> Self {
        let mut out = Self::after(self.rest.max(other.rest));
        for chain in self.chains.keys().chain(other.chains.keys()) {
            let seq = self.of(chain).max(other.of(chain));
            out.chains.insert(chain.clone(), seq);
        }
        out.compact();
        out
    }

    /// Drops named chains at the default position (the same position either way).
    fn compact(&mut self) {
        let rest = self.rest;
        self.chains.retain(|_, seq| *seq != rest);
    }

    /// The text form: `rest`, then `;chain=seq` per chain named
    /// (`1834;510703=1790;city=1201`).
    pub fn encode(&self) -> String {
        let mut out = self.rest.to_string();
        for (chain, seq) in &self.chains {
            out.push(';');
            out.push_str(chain);
            out.push('=');
            out.push_str(&seq.to_string());
        }
        out
    }

    /// Parses [`Self::encode`]'s text form (a bare number is every chain at it); `None` for
    /// anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let rest = parts.next()?.parse::<i64>().ok().filter(|n| *n >= 0)?;
        let mut position = Self::after(rest);
        for part in parts {
            let (chain, seq) = part.split_once('=')?;
            let seq = seq.parse::<i64>().ok().filter(|n| *n >= 0)?;
            // A chain is `city` or an area code (`510703`, `510700-GX`).
            let chain_ok = !chain.is_empty()
                && chain.len() <= 16
                && chain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !chain_ok || position.chains.insert(chain.to_owned(), seq).is_some() {
                return None;
            }
        }
        position.compact();
        Some(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plumbing::events::chain::CITY_CHAIN;

    fn heads(h: &[(&str, i64, bool)]) -> Vec<(String, i64, bool)> {
        h.iter()
            .map(|(c, s, f)| ((*c).to_owned(), *s, *f))
            .collect()
    }

    #[test]
    fn text_form_round_trips_and_refuses_garbage() {
        let mut p = FeedPosition::after(7);
        p.passed("510703", 12);
        p.passed(CITY_CHAIN, 9);
        assert_eq!(p.encode(), "7;510703=12;city=9");
        assert_eq!(FeedPosition::decode(&p.encode()), Some(p));
        assert_eq!(FeedPosition::decode("42"), Some(FeedPosition::after(42)));
        assert_eq!(
            FeedPosition::decode("3;510700-GX=4").map(|p| p.of("510700-GX")),
            Some(4)
        );
        let bad = [
            "",
            "-1",
            "x",
            "1;",
            "1;510703",
            "1;510703=-2",
            "1;a b=2",
            "1;510703=1;510703=2",
        ];
        for bad in bad {
            assert_eq!(FeedPosition::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_late_event_of_a_busy_chain_is_not_skipped() {
        // Chain A's event 5 is still uncommitted while B's 6..8 are read: A's head is 4 and
        // its lock is held.
        let mut p = FeedPosition::after(0);
        for seq in [6, 7, 8] {
            p.passed("510704", seq);
        }
        let p = p.advanced(
            &heads(&[("510703", 4, false), ("510704", 8, true)]),
            None,
            None,
        );
        assert_eq!(p.of("510703"), 4);
        assert_eq!(p.of("510704"), 8);
        // A chain that did not exist yet starts after the newest head.
        assert_eq!(p.of("510722"), 8);
        assert_eq!(p.floor(), 4);
    }

    #[test]
    fn a_quiet_chain_moves_with_the_newest_head() {
        let p = FeedPosition::after(0).advanced(
            &heads(&[("city", 3, true), ("510703", 90, true)]),
            None,
            None,
        );
        assert_eq!((p.of("city"), p.floor()), (90, 90));
        assert_eq!(p.encode(), "90");
    }

    #[test]
    fn a_full_page_moves_no_chain_past_its_end() {
        let p = FeedPosition::after(3).advanced(
            &heads(&[("510703", 50, false), ("city", 2, false)]),
            Some(10),
            None,
        );
        assert_eq!((p.of("510703"), p.of("city"), p.of("510704")), (10, 3, 10));
    }

    #[test]
    fn chains_out_of_sight_are_not_kept() {
        let p = FeedPosition::after(0).advanced(
            &heads(&[("510703", 50, false), ("510704", 60, false)]),
            None,
            Some(&["510703".to_owned()]),
        );
        assert_eq!(p.encode(), "60;510703=50");
    }

    #[test]
    fn max_is_per_chain() {
        let a = FeedPosition::decode("5;510703=9").unwrap_or_default();
        let b = FeedPosition::decode("7;510704=8").unwrap_or_default();
        assert_eq!(a.max(&b).encode(), "7;510703=9;510704=8");
    }
}
