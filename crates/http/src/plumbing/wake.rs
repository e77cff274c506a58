//! Waking the background worker's lanes of this node when a request queued work for them
//! (an import), so they need not wait for their next poll. Other nodes find it by polling.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A signal the worker's lanes wait on.
#[derive(Debug, Default)]
pub struct Wake {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl Wake {
    /// Wakes every lane waiting.
    pub fn nudge(&self) {
        if let Ok(mut p) = self.pending.lock() {
            *p = true;
        }
        self.signal.notify_all();
    }

    /// Waits until nudged or `timeout` passed.
    pub fn wait(&self, timeout: Duration) {
        let Ok(guard) = self.pending.lock() else {
            return;
        };
        if let Ok((mut p, _)) = self.signal.wait_timeout_while(guard, timeout, |p| !*p) {
            *p = false;
        }
    }
}
