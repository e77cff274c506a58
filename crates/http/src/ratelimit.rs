//! A per-client-address rate limit for the public (token-less) endpoints: a fixed window of
//! one minute per address, answered 429 with `Retry-After` when exceeded.
//!
//! The address is the TCP peer. Behind a load balancer every request comes from the balancer's
//! address, so there the balancer should limit per client (its own feature), or this limit be
//! raised; trusting `X-Forwarded-For` here would let any client pick its own address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default requests per minute per address.
pub const DEFAULT_PER_MINUTE: u32 = 120;

/// Most addresses tracked at once; past it, the table is cleared (every address starts a new
/// window), which bounds memory under an address-spraying flood.
const MAX_ADDRESSES: usize = 100_000;

const WINDOW: Duration = Duration::from_secs(60);

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per address and minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `addr`: `Ok` when allowed, else the seconds until the window
    /// ends.
    pub fn check(&self, addr: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&addr) {
            windows.clear();
        }
        let (start, count) = windows.entry(addr).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(*start));
            return Err(left.as_secs().max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_window() {
        let l = RateLimiter::new(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.check(a).is_ok() && l.check(a).is_ok());
        let retry = l.check(a).err();
        assert!(retry.is_some_and(|s| (1..=60).contains(&s)), "{retry:?}");
        assert!(l.check(b).is_ok(), "another address is not limited");
    }
}
