//! A per-client rate limit for the public (token-less) endpoints, on a maintained keyed
//! limiter (governor's GCRA): `per_minute` requests per client and minute, refilled
//! smoothly, answered 429 with `Retry-After` when exceeded.
//!
//! The client is the TCP peer's address; IPv6 addresses are grouped by their /64 (one
//! subscriber's network), so a client cannot escape the limit by walking its own prefix.
//! Memory stays bounded: past [`PRUNE_ABOVE`] tracked clients, the state of clients whose
//! allowance is full again is dropped (it is indistinguishable from a new client), never the
//! state of a client that is still limited.
//!
//! Behind a load balancer every request comes from the balancer's address, so there the
//! balancer should limit per client (its own feature), or this limit be raised; trusting
//! `X-Forwarded-For` here would let any client pick its own address.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Keyed};

/// Default requests per minute per client.
pub const DEFAULT_PER_MINUTE: u32 = 120;

/// Tracked clients above which the fully replenished ones are forgotten.
pub const PRUNE_ABOVE: usize = 100_000;

/// The client a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An IPv4 address.
    V4([u8; 4]),
    /// The /64 network of an IPv6 address.
    V6Net([u8; 8]),
    /// No peer address (a test or a Unix socket).
    Unknown,
}

impl ClientKey {
    /// The key of a peer address.
    pub fn of(addr: Option<IpAddr>) -> Self {
        match addr {
            Some(IpAddr::V4(a)) => Self::V4(a.octets()),
            Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => {
                    let o = a.octets();
                    Self::V6Net([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
                }
            },
            None => Self::Unknown,
        }
    }
}

/// The limiter.
pub struct RateLimiter {
    limiter: Keyed<
        ClientKey,
        DefaultKeyedStateStore<ClientKey>,
        DefaultClock,
        StateInformationMiddleware,
    >,
    clock: DefaultClock,
    per_minute: u32,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("clients", &self.limiter.len())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per client and minute (at least 1).
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let clock = DefaultClock::default();
        Self {
            limiter: Keyed::dashmap_with_clock(Quota::per_minute(n), clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            clock,
            per_minute: n.get(),
        }
    }

    /// Counts a request from `addr`: `Ok` with the requests left right now when allowed,
    /// else the whole seconds to wait.
    pub fn check(&self, addr: Option<IpAddr>) -> Result<u32, u64> {
        if self.limiter.len() > PRUNE_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&ClientKey::of(addr))
            .map(|snapshot| snapshot.remaining_burst_capacity())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
            })
    }

    /// Requests allowed per client and minute (`RateLimit-Limit`).
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// How many clients are tracked now.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    #[test]
    fn each_client_has_its_own_allowance() {
        let l = RateLimiter::new(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.check(a).is_ok() && l.check(a).is_ok());
        let retry = l.check(a).err();
        assert!(retry.is_some_and(|s| (1..=60).contains(&s)), "{retry:?}");
        assert!(l.check(b).is_ok(), "another address is not limited");
    }

    #[test]
    fn an_ipv6_network_is_one_client() {
        let l = RateLimiter::new(1);
        let host = |last: u16| {
            Some(IpAddr::V6(Ipv6Addr::new(
                0x2408, 0x8266, 1, 2, 0, 0, 0, last,
            )))
        };
        assert!(l.check(host(1)).is_ok());
        assert!(l.check(host(2)).is_err(), "same /64");
        let other_net = Some(IpAddr::V6(Ipv6Addr::new(0x2408, 0x8266, 1, 3, 0, 0, 0, 1)));
        assert!(l.check(other_net).is_ok(), "another /64");
    }

    #[test]
    fn pruning_keeps_clients_that_are_still_limited() {
        let l = RateLimiter::new(1);
        let limited = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(l.check(limited).is_ok());
        l.limiter.retain_recent();
        assert!(
            l.check(limited).is_err(),
            "a limited client is not forgotten"
        );
        assert_eq!(l.tracked(), 1);
    }
}
